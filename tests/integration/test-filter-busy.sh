#!/bin/bash
# test-filter-busy.sh -- -P and -p while another server is busy (keep-alive and short connections) through the tracer's start: nothing of it leaks, nothing of ours is lost.
START_SETTLE=0   # our requests go out right after "Tracing": that is the point
. "$(dirname "$0")/lib.sh"
need_tools nginx ab wrk curl
need_bpf

BUSY=$(free_port)
nginx_start busy "$BUSY"
BUSY_WORKER=$NGINX_WORKER
PORT=$(free_port)
while [ "$PORT" = "$BUSY" ]; do PORT=$(free_port); done
demo_start "$PORT"

# the neighbour: keep-alive connections opened before the tracers start
# (their addresses are unknown to the probe), and a stream of short ones
wrk -t1 -c16 -d60s "http://127.0.0.1:$BUSY/" >"$T/wrk.out" 2>&1 &
WRK=$!
track "$WRK"
ab -t 60 -n 10000000 -c 4 "http://127.0.0.1:$BUSY/index.html" >"$T/ab.out" 2>&1 &
AB=$!
track "$AB"
sleep 1
hs_spawn by-port -P "$PORT"
hs_spawn by-pid -p "$DEMO_PID"
hs_wait by-port
hs_wait by-pid
GT=$T/curl.gt
: >"$GT"
for i in $(seq 20); do curl_gt "$GT" GET "http://127.0.0.1:$PORT/health?i=$i"; done
kill -INT "$AB" "$WRK"
wait "$AB"
wait "$WRK"
hs_stop by-port by-pid
hs_show_stats by-port
log "busy server: $(wc -l <"$NGINX_LOG") requests during the test"

for i in $(seq 20); do echo "GET /health?i=$i 200 15"; done >"$T/demo.expect"
# -P is applied in the kernel, to the keep-alive connections opened
# before the tracer too (from /proc at start): the neighbour's ~100k
# requests must not reach user space.  Ours are 20 requests, a few
# records each.
n=$(hs_stat by-port events)
[ "$n" -lt 1000 ] || fail "-P $PORT: $n records reached user space for 20 requests (the busy neighbour was not dropped in the kernel)"
for n in by-port by-pid; do
	$CHECK expect --jsonl "$T/$n.jsonl" --pid "$DEMO_PID" --role server --expect "$T/demo.expect" \
		--ordered || fail "$n: the demo's transactions (lost events: $(hs_stat "$n" 'lost events'))"
	hs_expect_stat "$n" 'lost events' 0
done
$CHECK curl --jsonl "$T/by-port.jsonl" --gt "$GT" || fail "-P $PORT: curl's side"
n=$(jq -c --arg p ":$PORT" 'select(((.local // "") | endswith($p) | not) and ((.remote // "") | endswith($p) | not))' "$T/by-port.jsonl" | wc -l)
if [ "$n" -ne 0 ]; then
	jq -c --arg p ":$PORT" 'select(((.local // "") | endswith($p) | not) and ((.remote // "") | endswith($p) | not)) |
		[.pid, .comm, .fd, .role, .local, .remote, .request.target, .error, .ts]' "$T/by-port.jsonl" | head -n 5 >&2
	fail "-P $PORT let through $n transactions not on port $PORT ($($CHECK count --jsonl "$T/by-port.jsonl" --pid "$BUSY_WORKER,$AB,$WRK") of the busy nginx, ab and wrk)"
fi
n=$($CHECK count --jsonl "$T/by-pid.jsonl" --pid "$DEMO_PID")
[ "$n" = "$($CHECK count --jsonl "$T/by-pid.jsonl")" ] || fail "-p $DEMO_PID let other processes through"
finish
