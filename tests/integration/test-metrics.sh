#!/bin/bash
# test-metrics.sh -- --metrics scraped by a real Prometheus server during a run against nginx: request counts per status from its HTTP API equal nginx's access log; promtool checks a scrape; the endpoint binds 127.0.0.1 and counts what the display filters hide.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/prof.sh"
need_tools nginx prometheus promtool curl
need_bpf

PORT=$(free_port)
MPORT=$(free_port)
PPORT=$(free_port)
prof_nginx ngx "$PORT"

# The display filter (--status 503) chooses what is written, not what
# the metrics count.
hs_spawn_raw met -P "$PORT" --metrics "$MPORT" --status 503 -f json -o "$T/met.jsonl"
hs_wait met

mkdir -p "$T/prom"
cat >"$T/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: httpsnoop
    static_configs:
      - targets: ['127.0.0.1:$MPORT']
EOF
prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T/prom/log" 2>&1 &
PROM=$!
track "$PROM"
for i in $(seq 300); do
	curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break
	kill -0 "$PROM" 2>/dev/null || { cat "$T/prom/log" >&2; die "prometheus exited"; }
	sleep 0.1
done
curl -sf "http://127.0.0.1:$PPORT/-/ready" >/dev/null || die "prometheus not ready"

$PROF_LOAD "$PORT" 2000 --slow 10 >"$T/load.json" || die "the client failed"

# the endpoint itself: a valid exposition, on 127.0.0.1 only
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/scrape.txt" || fail "no /metrics"
promtool check metrics <"$T/scrape.txt" >"$T/promtool.out" 2>&1 ||
	{ cat "$T/promtool.out" >&2; fail "promtool check metrics"; }
grep -q '^http_server_request_duration_seconds_bucket{' "$T/scrape.txt" || fail "no duration histogram"
grep -q '^http_client_request_body_size_bytes_count{' "$T/scrape.txt" || fail "no body size histogram"
grep -q '^httpsnoop_lost_events_total ' "$T/scrape.txt" || fail "no httpsnoop_lost_events_total"
grep -Eq '^httpsnoop_tracer_cpu_seconds_total [0-9]+\.[0-9]{6}$' "$T/scrape.txt" ||
	fail "no httpsnoop_tracer_cpu_seconds_total in seconds"
curl -s -o /dev/null --max-time 5 "http://127.0.0.2:$MPORT/metrics" &&
	fail "the metrics answer on 127.0.0.2: they should listen on 127.0.0.1 only"
# the server's thread holds no more privileges than the rest of httpsnoop
# (capabilities are per thread: it is started after they were dropped)
caps=$(cat /proc/"${HS_PID[met]}"/task/*/status | awk '$1 == "CapEff:" { print $2 }' | sort -u)
threads=$(ls /proc/"${HS_PID[met]}"/task | wc -l)
[ "$threads" -ge 2 ] || fail "no server thread in httpsnoop"
[ "$(echo "$caps" | wc -l)" = 1 ] || fail "httpsnoop's threads hold different capabilities: $caps"
[ "$caps" != "000001ffffffffff" ] || fail "httpsnoop kept every capability ($caps)"

# Prometheus's view, once its scrapes have caught up with the load
ok=0
for i in $(seq 60); do
	if $CHECK_PROF prom --api "http://127.0.0.1:$PPORT" --log "$NGINX_LOG" --process nginx >"$T/prom.check" 2>&1; then
		ok=1
		break
	fi
	sleep 0.5
done
cat "$T/prom.check" >&2
[ "$ok" = 1 ] || fail "Prometheus's counts per status differ from the access log"
hs_stop met
# the written records are the 503s only
n503=$(awk '$3 == 503' "$NGINX_LOG" | wc -l)
nrec=$(jq -c 'select(.role == "server")' "$T/met.jsonl" | wc -l)
nbad=$(jq -c 'select(.role == "server" and .response.status != 503)' "$T/met.jsonl" | wc -l)
[ "$nrec" = "$n503" ] && [ "$nbad" = 0 ] ||
	fail "--status 503 wrote $nrec server records ($nbad not 503), the log has $n503 503s"
hs_expect_stat met 'lost events' 0
finish
