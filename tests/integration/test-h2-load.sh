#!/bin/bash
# test-h2-load.sh -- HTTP/2 under load: h2load at a fixed rate (4 connections, 10 streams at once each) against nginx h2c; every request on both sides, 100% against nginx's access log and h2load's own count.
. "$(dirname "$0")/lib.sh"
need_tools nginx h2load
need_bpf

N=4000
PORT=$(free_port)
D=$T/ngx
mkdir -p "$D/html"
head -c 2000 /dev/urandom | base64 >"$D/html/page.txt"
nginx_conf "$D" <<NGX
    server {
        listen 127.0.0.1:$PORT http2;
        root $D/html;
        http2_max_requests 100000;
        location / { }
    }
NGX
nginx_run "$D" "$PORT"

hs_start hs -P "$PORT"
# 4 clients x 250 requests/s: 1,000 requests/s for 4 s
h2load -n "$N" -c 4 -m 10 --rps 250 "http://127.0.0.1:$PORT/page.txt" >"$T/h2load.out" 2>&1 &
H2LOAD=$!
wait "$H2LOAD" || { cat "$T/h2load.out" >&2; fail "h2load failed"; }
hs_stop hs
hs_show_stats hs

grep -q "requests: $N total, $N started, $N done, $N succeeded" "$T/h2load.out" ||
	{ grep requests: "$T/h2load.out" >&2; fail "h2load did not get $N answers"; }
[ "$(wc -l <"$NGINX_LOG")" = "$N" ] || fail "nginx logged $(wc -l <"$NGINX_LOG") requests, expected $N"
$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server --log "$NGINX_LOG" \
	--unordered || fail "server side differs from nginx's access log"
n=$($CHECK count --jsonl "$T/hs.jsonl" --pid "$H2LOAD" --role client)
[ "$n" = "$N" ] || fail "h2load's side: $n transactions, expected $N"
n=$(jq -c --arg pid "$H2LOAD" 'select(.pid == ($pid | tonumber) and
	(.response.status != 200 or .error != null or .protocol != "h2"))' "$T/hs.jsonl" | head -3)
[ -z "$n" ] || fail "h2load's side: transactions not h2 200 OK: $n"
hs_expect_stat hs 'lost events' 0
hs_expect_stat hs 'gap bytes' 0
hs_expect_stat hs 'h2 undecoded blocks' 0
hs_expect_stat hs 'h2 streams over cap' 0
finish
