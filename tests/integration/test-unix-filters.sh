#!/bin/bash
# test-unix-filters.sh -- --unix PATH (exact, glob, abstract, mismatched), -p and -P with HTTP over Unix sockets and TCP at once: each tracer reports exactly what its filter keeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/unixlib.sh"
need_tools curl
need_bpf

A=$T/a.sock
B=$T/b.sock
C=@hs-filters-$$
http_unix_server "$A" a
SA=$HTTP_UNIX
http_unix_server "$B" b
SB=$HTTP_UNIX
http_unix_server "$C" c
SC=$HTTP_UNIX
DPORT=$(free_port)
demo_start "$DPORT"
ln -s "$A" "$T/link.sock"

# compiled at once, checked one by one
hs_spawn exact --unix "$A"
hs_spawn glob --unix "$T/*.sock"
hs_spawn abstract --unix "$C"
hs_spawn nomatch --unix "$T/nope.sock" --unix "$T/a*.sockx"
hs_spawn pid -p "$SA"
hs_spawn port -P "$DPORT"
hs_spawn both --unix "$A" -P "$DPORT"
for t in exact glob abstract nomatch pid port both; do hs_wait "$t"; done

http_unix_get "$A" /a1 /status/404
GA=$HTTP_GET
http_unix_get "$T/link.sock" /a-through-a-link
GL=$HTTP_GET
http_unix_get "$B" /b1
GB=$HTTP_GET
http_unix_get "$C" /c1
GC=$HTTP_GET
curl -sS -o /dev/null "http://127.0.0.1:$DPORT/health" || fail "curl to the demo failed"
hs_stop exact glob abstract nomatch pid port both

# expected (pid role unix-path or port) per tracer: the servers' logs are
# the truth of what was asked
want() { # FILE PID ROLE
	local f=$1 pid=$2 role=$3 addr=$4
	shift 4
	printf '%s\n' "$@" >"$T/want.expect"
	if [ "$addr" = tcp ]; then
		$CHECK expect --jsonl "$T/$f.jsonl" --pid "$pid" --role "$role" --port "$DPORT" \
			--expect "$T/want.expect" --exact-count
	else
		$CHECK expect --jsonl "$T/$f.jsonl" --pid "$pid" --role "$role" --unix "$addr" \
			--expect "$T/want.expect" --exact-count
	fi || fail "$f: $role side of pid $pid on $addr"
}
nothing() { # FILE PIDS what
	$CHECK none --jsonl "$T/$1.jsonl" --pid "$2" || fail "$1: $3 let through"
}
A1=("GET /a1 200 *" "GET /status/404 404 *")
AL=("GET /a-through-a-link 200 *")
for f in exact both glob; do
	want "$f" "$SA" server "$A" "${A1[@]}" "${AL[@]}"
	want "$f" "$GA" client "$A" "${A1[@]}"
	# a client through a symlink still names the path the server bound
	want "$f" "$GL" client "$A" "${AL[@]}"
done
want glob "$SB" server "$B" "GET /b1 200 *"
want glob "$GB" client "$B" "GET /b1 200 *"
want abstract "$SC" server "$C" "GET /c1 200 *"
want abstract "$GC" client "$C" "GET /c1 200 *"
want pid "$SA" server "$A" "${A1[@]}" "${AL[@]}"
want both "$DEMO_PID" server tcp "GET /health 200 *"
want port "$DEMO_PID" server tcp "GET /health 200 *"
nothing exact "$SB,$SC,$GB,$GC,$DEMO_PID" "another socket or TCP"
nothing glob "$SC,$GC,$DEMO_PID" "an abstract socket or TCP"
nothing abstract "$SA,$SB,$GA,$GB,$GL,$DEMO_PID" "a path socket or TCP"
nothing nomatch "$SA,$SB,$SC,$GA,$GB,$GC,$GL,$DEMO_PID" "anything"
nothing pid "$SB,$SC,$GA,$GB,$GC,$GL,$DEMO_PID" "another process"
nothing port "$SA,$SB,$SC,$GA,$GB,$GC,$GL" "a Unix socket"
nothing both "$SB,$SC,$GB,$GC" "another Unix socket"
for f in exact glob abstract nomatch pid port both; do
	n=$(hs_stat "$f" 'parse errors')
	[ "${n:-0}" = 0 ] || fail "$f: $n parse errors"
done
finish
