#!/bin/bash
# test-record-replay.sh -- --record during a live run, then --replay as an unprivileged user: the same transactions as the live output.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT
head -c 3000 /dev/urandom | base64 -w 0 >"$T/post.body"

hs_start live -P "$PORT" --record "$T/trace.rec"
curl -sS -o /dev/null "$URL/users" -o /dev/null "$URL/user/1" || fail "curl failed"
curl -sS -o /dev/null "$URL/chunked" || fail "curl failed"
curl -sS -o /dev/null "$URL/gzip" || fail "curl failed"
curl -sS -o /dev/null -I "$URL/health" || fail "curl failed"
curl -sS -o /dev/null --data-binary @"$T/post.body" -H 'Expect: 100-continue' "$URL/echo" || fail "curl failed"
curl -sS -o /dev/null "$URL/big?size=3000000" -o /dev/null "$URL/status/404" || fail "curl failed"
hs_stop live
hs_show_stats live
[ -s "$T/trace.rec" ] || die "--record wrote nothing"
n=$($CHECK count --jsonl "$T/live.jsonl" --port "$PORT")
[ "$n" = 16 ] || fail "the live run traced $n transactions on port $PORT, expected 16 (8 per side)"

# the replay needs no privileges: run it as nobody, from a copy of the
# binary that nobody can read
cp "$HTTPSNOOP" "$T/httpsnoop"
chmod 755 "$T/httpsnoop"
chmod 644 "$T/trace.rec"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$T/httpsnoop" --replay "$T/trace.rec" -f json >"$T/replay.jsonl" 2>"$T/replay.err"
rc=$?
[ "$rc" = 0 ] || { sed 's/^/    /' "$T/replay.err" >&2; fail "--replay as nobody exited with $rc"; }
grep -q 'httpsnoop statistics' "$T/replay.err" || fail "--replay printed no statistics"
$CHECK same --jsonl "$T/live.jsonl" --other "$T/replay.jsonl" --port "$PORT" ||
	fail "the replay differs from the live trace"
# nothing in the replay outside this test's port (the recording was -P)
$CHECK same --jsonl "$T/live.jsonl" --other "$T/replay.jsonl" ||
	fail "the replay holds transactions the live run did not print"
# the text format from the same recording
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$T/httpsnoop" --replay "$T/trace.rec" >"$T/replay.txt" 2>/dev/null ||
	fail "--replay -f text failed"
grep -q '/user/1' "$T/replay.txt" || fail "--replay -f text does not show /user/1"
# a port filter applies to a replay too
"$HTTPSNOOP" --replay "$T/trace.rec" -f json -P 1 >"$T/replay-p1.jsonl" 2>/dev/null ||
	fail "--replay -P 1 failed"
[ ! -s "$T/replay-p1.jsonl" ] || fail "--replay -P 1 printed transactions of port $PORT"
# a damaged recording: cut in the middle of a record
size=$(stat -c %s "$T/trace.rec")
head -c $((size / 2 + 3)) "$T/trace.rec" >"$T/cut.rec"
"$HTTPSNOOP" --replay "$T/cut.rec" -f json >"$T/cut.jsonl" 2>"$T/cut.err"
rc=$?
sed 's/^/    /' "$T/cut.err" | grep -v '^    \s*[a-z ]*[0-9]*$' >&2
[ "$rc" = 1 ] || fail "--replay of a truncated recording exited $rc, expected 1"
grep -q 'cut.rec' "$T/cut.err" || fail "--replay of a truncated recording: no error naming it"
finish
