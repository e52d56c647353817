#!/bin/bash
# test-display-filters.sh -- each display filter (--method, --path, --host, --status, --min-latency) and a combination, against the requests nginx logged, on both sides.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/prof.sh"
need_tools nginx
need_bpf

PORT=$(free_port)
prof_nginx ngx "$PORT"

# one tracer per filter, all at once over the same traffic
declare -A ARGS=(
	[method]="--method post"
	[path]="--path /item/*"
	[host]="--host API.example.*"
	[status]="--status 404,5xx"
	[latency]="--min-latency 100ms"
	[all]="--method GET,HEAD --status 200-299 --path /user/*"
)
for n in "${!ARGS[@]}"; do
	# shellcheck disable=SC2086
	hs_spawn_raw "$n" -P "$PORT" -f json -o "$T/$n.jsonl" ${ARGS[$n]}
done
for n in "${!ARGS[@]}"; do
	hs_wait "$n"
done
$PROF_LOAD "$PORT" 1500 --slow 8 >"$T/load.json" || die "the client failed"
hs_stop "${!ARGS[@]}"

# the traffic holds what each filter looks for, and the slow requests
# are far from the 100 ms line
awk '$4 >= 0.05 && $4 < 0.2 { bad = 1 } END { exit bad }' "$NGINX_DIR/logs/time.log" ||
	fail "a request took 50-200 ms: --min-latency 100ms cannot be judged"
tl="--timelog $NGINX_DIR/logs/time.log --pid $NGINX_WORKER"
$CHECK_PROF filter --jsonl "$T/method.jsonl" $tl --method POST || fail "--method post"
$CHECK_PROF filter --jsonl "$T/path.jsonl" $tl --path '/item/*' || fail "--path /item/*"
$CHECK_PROF filter --jsonl "$T/host.jsonl" $tl --host 'api.example.*' || fail "--host API.example.*"
$CHECK_PROF filter --jsonl "$T/status.jsonl" $tl --status 404,5xx || fail "--status 404,5xx"
$CHECK_PROF filter --jsonl "$T/latency.jsonl" $tl --min-latency-ms 100 || fail "--min-latency 100ms"
$CHECK_PROF filter --jsonl "$T/all.jsonl" $tl --method GET,HEAD --status 200-299 --path '/user/*' ||
	fail "three filters together"
for n in method path host status latency; do
	[ -s "$T/$n.jsonl" ] || fail "--${ARGS[$n]}: nothing passed: the traffic does not test it"
done
finish
