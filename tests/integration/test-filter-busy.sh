#!/bin/bash
# test-filter-busy.sh -- -P and -p while another server is busy with short connections during the tracer's start: nothing of it leaks through.
. "$(dirname "$0")/lib.sh"
need_tools nginx ab curl
need_bpf

BUSY=$(free_port)
nginx_start busy "$BUSY"
BUSY_WORKER=$NGINX_WORKER
PORT=$(free_port)
while [ "$PORT" = "$BUSY" ]; do PORT=$(free_port); done
demo_start "$PORT"

# short-lived connections to the busy server, through the tracers' start
ab -t 60 -n 10000000 -c 4 "http://127.0.0.1:$BUSY/index.html" >"$T/ab.out" 2>&1 &
AB=$!
track "$AB"
sleep 0.5
hs_spawn by-port -P "$PORT"
hs_spawn by-pid -p "$DEMO_PID"
hs_wait by-port
hs_wait by-pid
sleep 1
for i in 1 2 3; do curl -sS -o /dev/null "http://127.0.0.1:$PORT/health" || fail "curl failed"; done
kill -INT "$AB"
wait "$AB"
hs_stop by-port by-pid
hs_show_stats by-port
log "busy server: $(wc -l <"$NGINX_LOG") requests during the test"

printf 'GET /health 200 15\n%.0s' 1 2 3 >"$T/demo.expect"
$CHECK expect --jsonl "$T/by-port.jsonl" --pid "$DEMO_PID" --role server --expect "$T/demo.expect" \
	--exact-count || fail "-P $PORT: the demo's transactions"
n=$(jq -c --arg p ":$PORT" 'select(((.local // "") | endswith($p) | not) and ((.remote // "") | endswith($p) | not))' "$T/by-port.jsonl" | wc -l)
if [ "$n" -ne 0 ]; then
	jq -c --arg p ":$PORT" 'select(((.local // "") | endswith($p) | not) and ((.remote // "") | endswith($p) | not)) |
		[.pid, .comm, .fd, .role, .local, .remote, .request.target, .error, .ts]' "$T/by-port.jsonl" | head -n 5 >&2
	fail "-P $PORT let through $n transactions not on port $PORT ($($CHECK count --jsonl "$T/by-port.jsonl" --pid "$BUSY_WORKER,$AB") of the busy nginx and ab)"
fi
$CHECK expect --jsonl "$T/by-pid.jsonl" --expect "$T/demo.expect" --exact-count ||
	fail "-p $DEMO_PID: exactly the demo's transactions"
finish
