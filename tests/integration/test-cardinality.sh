#!/bin/bash
# test-cardinality.sh -- one million distinct paths: the route table stops at --max-routes, {other} counts the rest exactly, the metrics' label values stay bounded, and peak RSS stays at or below 64 MB.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/prof.sh"
need_tools nginx curl
need_bpf

N=${CARD_PATHS:-1000000}
PORT=$(free_port)
MPORT=$(free_port)
prof_nginx ngx "$PORT"

# the server side only (-p): the client is a pipelining python script
hs_spawn_raw card -p "$NGINX_WORKER" -P "$PORT" --summary --summary-json "$T/card.json" \
	--metrics "$MPORT"
hs_wait card
t0=$(date +%s)
# nginx closes a connection after 100,000 requests (keepalive_requests)
$PROF_LOAD "$PORT" "$N" --pipeline 32 --conns $((N / 90000 + 1)) >"$T/load.json" || die "the client failed"
log "$N distinct paths sent in $(($(date +%s) - t0)) s"
sleep "$SETTLE"
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/scrape.txt" || fail "no /metrics"
hwm=$(vmhwm "${HS_PID[card]}")
t1=$(date +%s)
hs_stop card
log "peak RSS (VmHWM) $((hwm / 1024)) MB; stopped in $(($(date +%s) - t1)) s"
[ "$hwm" -le $((64 * 1024)) ] || fail "peak RSS $((hwm / 1024)) MB is over 64 MB"

lines=$(wc -l <"$NGINX_LOG")
"$PY" - "$T/card.json" "$lines" "$(hs_stat card transactions)" "$(hs_stat card 'lost events')" <<'EOF' || fail "the summary's counts"
import json, sys
doc = json.load(open(sys.argv[1]))
logged, txns, lost = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = [e for e in doc["endpoints"] if e["side"] == "server"]
total = sum(e["count"] for e in rows)
other = [e for e in rows if e["route"] == "{other}"]
kept = [e for e in rows if e["route"] != "{other}"]
bad = []
if doc["routes"] != 1001:
    bad.append("%d routes kept, wanted 1000 and {other}" % doc["routes"])
if len(kept) != 1000 or any(e["count"] != 1 for e in kept if e["route"] != "/p/aaaaaa"):
    bad.append("%d rows of kept routes, or one counted twice" % len(kept))
if len(other) != 1 or other[0]["count"] != doc["route_overflow"]:
    bad.append("{other}: %r rows, counts %r, route_overflow %d" % (
        len(other), [e["count"] for e in other], doc["route_overflow"]))
if total != txns:
    bad.append("the rows count %d, httpsnoop wrote %d" % (total, txns))
if lost == 0 and total != logged:
    bad.append("the rows count %d, nginx logged %d, nothing was lost" % (total, logged))
print("routes %d, {other} %d transactions, in all %d of %d logged (%d events lost)" % (
    doc["routes"], doc["route_overflow"], total, logged, lost))
for b in bad:
    print("  DIFF: " + b)
sys.exit(1 if bad else 0)
EOF
# the metrics' label values are bounded by the routes
routes=$(grep -o 'http_route="[^"]*"' "$T/scrape.txt" | sort -u | wc -l)
log "the metrics name $routes routes, $(wc -c <"$T/scrape.txt") bytes"
[ "$routes" -le 1001 ] || fail "$routes http_route values in the metrics"
grep -q 'http_route="{other}"' "$T/scrape.txt" || fail "no {other} route in the metrics"
finish
