#!/bin/bash
# test-summary.sh -- --summary and --summary-json against nginx's access log (counts, statuses, routes, bytes), percentiles against the exact ones of the same run's JSON records, and the table on SIGUSR1.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/prof.sh"
need_tools nginx
need_bpf

PORT=$(free_port)
prof_nginx ngx "$PORT"

# One tracer: its JSON records are the latencies' ground truth, its
# summary the thing tested.  A --route names one route; the heuristic
# names the others.
hs_spawn_raw sum -P "$PORT" -f json -o "$T/sum.jsonl" --summary \
	--summary-json "$T/sum.json" --route '/item/{item}/reviews'
hs_wait sum
$PROF_LOAD "$PORT" 1500 --slow 20 >"$T/load1.json" || die "the client failed"
hs_stats_now sum || fail "no statistics on SIGUSR1"
grep -q '^Endpoints by total time' "$T/sum.out" || fail "no table on SIGUSR1"
$PROF_LOAD "$PORT" 1500 --seed 2 --slow 10 --conns 2 >"$T/load2.json" || die "the client failed"
hs_stop sum
hs_show_stats sum

n=$(grep -c '^Endpoints by total time' "$T/sum.out")
[ "$n" = 2 ] || fail "$n tables printed, wanted 2 (SIGUSR1 and the end)"
# not a terminal: 80 columns
awk 'length($0) > 90 { bad = 1; print "  too wide: " $0 } END { exit bad }' "$T/sum.out" >&2 ||
	fail "a summary line is wider than 80 columns"
# the last table names the routes as wanted
for row in 'server nginx http/1.1 GET /user/{id}' 'server nginx http/1.1 GET /item/{item}/reviews' \
	'server nginx http/1.1 POST /orders' 'server nginx http/1.1 GET /missing/{id}' \
	'server nginx http/1.1 GET /slow' 'client python3 http/1.1 GET /user/{id}'; do
	grep -qxF "$row" "$T/sum.out" || fail "no row '$row' in the table"
done
$CHECK_PROF summary --summary "$T/sum.json" --log "$NGINX_LOG" --jsonl "$T/sum.jsonl" \
	--process nginx --map '/user/[0-9]+=/user/{id}' \
	--map '/item/[0-9]+/reviews=/item/{item}/reviews' --map '/missing/[0-9]+=/missing/{id}' ||
	fail "--summary-json does not match the access log and the records"
# the JSON records themselves match the access log
$CHECK nginx --jsonl "$T/sum.jsonl" --pid "$NGINX_WORKER" --role server --log "$NGINX_LOG" ||
	fail "the JSON records do not match the access log"
hs_expect_stat sum 'lost events' 0
finish
