#!/bin/bash
# test-uring-splice.sh -- socket I/O that names no buffer of the task: a server's splice(2) bodies and a client's io_uring requests are counted gaps, and the transactions around them stay right (io_uring is seen on the socket-level hooks only).
. "$(dirname "$0")/lib.sh"
need_tools cc curl jq
need_bpf

cc -O2 -Wall -o "$T/uring_client" "$LIB_DIR/uring_client.c" ||
	die "cannot build tests/integration/uring_client.c"
PORT=$(free_port)
head -c 100000 /dev/urandom >"$T/splice.bin"
: >"$T/server.log"
"$PY" "$LIB_DIR/splice_server.py" "$PORT" "$T/splice.bin" "$T/server.log" \
	>"$T/server.out" 2>&1 &
SERVER=$!
track "$SERVER"
wait_listen "$PORT" || die "splice_server.py did not listen on $PORT"

hs_start hs -v -P "$PORT"
HOOKS=yes
grep -q 'socket-level hooks' "$T/hs.err" || HOOKS=no
# One keep-alive connection: w by write/read, u by io_uring send/recv.
"$T/uring_client" "$PORT" w:/a u:/splice/5000 w:/c u:/d w:/splice/70000 w:/e \
	>"$T/client.out" 2>"$T/client.err" &
CLIENT=$!
wait "$CLIENT"
rc=$?
if [ "$rc" -eq 3 ]; then
	hs_stop hs
	skip "io_uring is not available: $(cat "$T/client.err")"
fi
[ "$rc" -eq 0 ] || { cat "$T/client.err" >&2; fail "uring_client failed (exit $rc)"; }
GT=$T/curl.gt
: >"$GT"
curl_gt "$GT" GET "http://127.0.0.1:$PORT/splice/7000" -o /dev/null "http://127.0.0.1:$PORT/f"
hs_stop hs
hs_show_stats hs

# The server spliced its /splice bodies from a file: httpsnoop saw their
# size, not their bytes, and said so; every response after them is right.
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$SERVER" --role server --expect "$T/server.log" \
	--exact-count || fail "server side differs from the server's own log"
got=$(jq -c --argjson p "$SERVER" 'select(.pid == $p and (.request.target | startswith("/splice/"))) |
	[.request.target, .response.body_size == .response.body_missing]' "$T/hs.jsonl" | sort | tr '\n' ' ')
[ "$got" = '["/splice/5000",true] ["/splice/7000",true] ["/splice/70000",true] ' ] ||
	fail "spliced bodies: expected each wholly missing (a gap), got [$got]"
$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "curl's side differs from curl -w"
# The client's io_uring exchanges are gaps: not decoded, counted to the
# byte, and its write/read exchanges before and after them are whole.
grep ' w$' "$T/client.out" | awk '{print "GET", $1, $2, $3}' >"$T/client.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$CLIENT" --role client --expect "$T/client.expect" \
	--exact-count || fail "uring_client's side: its write/read exchanges"
uring=$(sed -n 's/^uring-bytes //p' "$T/client.out")
[ -n "$uring" ] && [ "$uring" -gt 0 ] || fail "uring_client moved no bytes through io_uring"
if [ $HOOKS = yes ]; then
	hs_expect_stat hs 'no-buffer bytes' "$uring"
else
	# the syscall tracepoints do not see io_uring at all (README)
	hs_expect_stat hs 'no-buffer bytes' 0
fi
hs_expect_stat hs 'parse errors' 0
hs_expect_stat hs 'lost events' 0
finish
