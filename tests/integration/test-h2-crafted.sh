#!/bin/bash
# test-h2-crafted.sh -- HTTP/2 edge cases made with python3-h2 (CONTINUATION, padding, a table size change, RST_STREAM both ways, GOAWAY, an h2c upgrade, a connection opened before tracing), both sides against the peers' own logs.
. "$(dirname "$0")/lib.sh"
need_bpf
$PY -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed"

PEER=$SRCDIR/tests/integration/h2peer.py
CH2="$PY $SRCDIR/tests/integration/check_h2.py"
PORT=$(free_port)
PORT2=$(free_port)
: >"$T/srv.log"
: >"$T/srv2.log"
: >"$T/cli.log"
: >"$T/pre.log"
$PY "$PEER" server "$PORT" "$T/srv.log" >"$T/server.out" 2>&1 &
track $!
$PY "$PEER" server "$PORT2" "$T/srv2.log" >"$T/server2.out" 2>&1 &
track $!
wait_listen "$PORT" || die "the h2 server did not listen on $PORT"
wait_listen "$PORT2" || die "the h2 server did not listen on $PORT2"

# A connection opened, and used once, before tracing begins: its later
# streams must be reported with what can be decoded, nothing made up.
$PY "$PEER" client "$PORT2" preexisting "$T/pre.log" "$T/go" >"$T/pre.out" 2>&1 &
PRE=$!
track "$PRE"
for i in $(seq 100); do
	[ -e "$T/pre.log.ready" ] && break
	sleep 0.1
done
[ -e "$T/pre.log.ready" ] || die "the pre-existing client did not get its first answer"

hs_start hs -P "$PORT" -P "$PORT2"
touch "$T/go"
for s in basic continuation padding table-size rst goaway upgrade; do
	timeout 30 $PY "$PEER" client "$PORT" "$s" "$T/cli.log" >>"$T/client.out" 2>&1 ||
		fail "h2peer client $s failed"
done
touch "$T/go.close"
wait "$PRE" || fail "the pre-existing client failed"
hs_stop hs
hs_show_stats hs

$CH2 peer --jsonl "$T/hs.jsonl" --port "$PORT" --client-log "$T/cli.log" \
	--server-log "$T/srv.log" || fail "crafted cases differ from the peers' logs"
$CH2 peer --jsonl "$T/hs.jsonl" --port "$PORT2" --client-log "$T/pre.log" \
	--server-log "$T/srv2.log" --exclude /before --by-stream --allow-unknown \
	--client-pid "$PRE" || fail "the connection opened before tracing: reported streams differ"
# Its five later streams are there on both sides, neither side's role
# known (the client's side is told by its pid), and marked incomplete:
# the table lost the entries /before made.
n=$(jq_port "$PORT2" 'select(.protocol == "h2") | .stream_id' "$T/hs.jsonl" | sort -n | tr '\n' ' ')
[ "$n" = '3 3 5 5 7 7 9 9 11 11 ' ] || fail "streams reported on the pre-existing connection: [$n]"
n=$(jq_port "$PORT2" 'select(.protocol == "h2" and .request.headers_incomplete != true)' "$T/hs.jsonl" | head -c 300)
[ -z "$n" ] || fail "a request on the pre-existing connection not marked headers_incomplete: $n"
# The upgrade: HTTP/1's 101, then stream 1 (the upgraded GET /up) in h2.
n=$(jq_port "$PORT" 'select(.request.target == "/up") | [.role, .protocol, .stream_id, .response.status]' \
	"$T/hs.jsonl" | sort | tr '\n' ' ')
[ "$n" = '["client","h2",1,200] ["client","http/1.1",null,101] ["unknown","h2",1,200] ["unknown","http/1.1",null,101] ' ] ||
	fail "h2c upgrade: [$n]"
# CONTINUATION: the request's 24,000 bytes of headers and the response's
n=$(jq_port "$PORT" 'select(.request.target == "/cont") | [.request.headers[] | select(.[0] | startswith("x-big")) | .[1] | length] | add' \
	"$T/hs.jsonl" | sort -u)
[ "$n" = 24000 ] || fail "the CONTINUATION request's x-big headers hold [$n] bytes"
n=$(jq_port "$PORT" 'select(.request.target == "/big-headers") | [.response.headers[] | select(.[0] | startswith("x-big")) | .[1] | length] | add' \
	"$T/hs.jsonl" | sort -u)
[ "$n" = 24000 ] || fail "the CONTINUATION response's x-big headers hold [$n] bytes"
# Padding is not body: the padded POST's body whole
n=$(jq_port "$PORT" 'select(.request.target == "/pad-post") | .request.body_size' "$T/hs.jsonl" | sort -u)
[ "$n" = 500 ] || fail "the padded POST's body_size: [$n]"
hs_expect_stat hs 'parse errors' 0
hs_expect_stat hs 'h2 bad frames' 0
hs_expect_stat hs 'h2 streams reset' 4
finish
