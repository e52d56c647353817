#!/bin/bash
# test-output-modes.sh -- IPv6 loopback, text output, JSON on stdout, -d (stops by itself) and SIGTERM.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf
[ -e /proc/net/if_inet6 ] && ip -6 addr show dev lo 2>/dev/null | grep -q '::1' ||
	skip "no IPv6 on the loopback interface"

PORT=$(free_port)
"$DEMO" -a ::1 -p "$PORT" >"$T/demo6.out" 2>&1 &
DEMO6=$!
track "$DEMO6"
for i in $(seq 100); do grep -q 'listening on' "$T/demo6.out" && break; sleep 0.1; done
grep -q 'listening on \[::1\]' "$T/demo6.out" || die "the demo did not listen on [::1]: $(cat "$T/demo6.out")"

# json on stdout, stopping by itself after -d
"$HTTPSNOOP" -f json -P "$PORT" -d 8 >"$T/stdout.jsonl" 2>"$T/stdout.err" &
DUR=$!
track "$DUR"
hs_spawn text -f text -P "$PORT"
hs_spawn json -P "$PORT"
hs_wait text
hs_wait json
for i in $(seq $((START_TIMEOUT * 10))); do grep -q '^Tracing' "$T/stdout.err" && break; sleep 0.1; done
grep -q '^Tracing' "$T/stdout.err" || die "httpsnoop -d 8 did not start"
curl -sS -g -o /dev/null "http://[::1]:$PORT/users" || fail "curl over IPv6 failed"
curl -sS -g -o /dev/null --data-binary 'six' "http://[::1]:$PORT/echo" || fail "curl over IPv6 failed"
sleep "$SETTLE"
# SIGTERM stops like SIGINT
kill -TERM "${HS_PID[text]}"
hs_stop json
wait "${HS_PID[text]}"
rc=$?
[ "$rc" = 0 ] || fail "httpsnoop -f text exited $rc after SIGTERM"
grep -q 'httpsnoop statistics' "$T/text.err" || fail "no statistics after SIGTERM"
# -d 8: exits by itself, cleanly, with statistics
for i in $(seq 300); do kill -0 "$DUR" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DUR" 2>/dev/null; then
	fail "httpsnoop -d 8 still running 30 s after it started tracing"
else
	wait "$DUR"
	rc=$?
	[ "$rc" = 0 ] || fail "httpsnoop -d 8 exited $rc"
	grep -q 'httpsnoop statistics' "$T/stdout.err" || fail "-d 8: no statistics"
fi

printf 'GET /users 200 157\nPOST /echo 200 3\n' >"$T/expect"
for f in json stdout; do
	$CHECK expect --jsonl "$T/$f.jsonl" --pid "$DEMO6" --role server --expect "$T/expect" \
		--ordered || fail "$f: the IPv6 server side"
	$CHECK expect --jsonl "$T/$f.jsonl" --role client --port "$PORT" --expect "$T/expect" \
		--ordered || fail "$f: the IPv6 client side"
	got=$(jq -r --argjson p "$DEMO6" 'select(.pid == $p) | .local' "$T/$f.jsonl" | sort -u)
	[ "$got" = "[::1]:$PORT" ] || fail "$f: IPv6 local address printed as [$got], expected [::1]:$PORT"
	got=$(jq -r --argjson p "$DEMO6" 'select(.pid == $p) | .remote' "$T/$f.jsonl" | grep -cv '^\[::1\]:[0-9][0-9]*$')
	[ "$got" = 0 ] || fail "$f: IPv6 remote addresses not as [::1]:PORT"
done
# the text format names the requests, readable at 80 columns
sed 's/^/    /' "$T/text.jsonl" >&2
grep -q '/users' "$T/text.jsonl" && grep -q '/echo' "$T/text.jsonl" ||
	fail "text output does not show /users and /echo"
grep -q '200' "$T/text.jsonl" || fail "text output shows no status"
long=$(awk 'length($0) > 80' "$T/text.jsonl" | head -n 3)
[ -z "$long" ] || log "note: text lines over 80 columns: $long"
finish
