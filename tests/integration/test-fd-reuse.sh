#!/bin/bash
# test-fd-reuse.sh -- 300 sequential one-request connections: the same fds come back each time; every request traced once, none merged.
. "$(dirname "$0")/lib.sh"
need_tools nginx ab
need_bpf

PORT=$(free_port)
nginx_start ngx "$PORT"
DPORT=$(free_port)
while [ "$DPORT" = "$PORT" ]; do DPORT=$(free_port); done
demo_start "$DPORT"

hs_start hs -P "$PORT" -P "$DPORT"
ab -n 300 -c 1 "http://127.0.0.1:$PORT/index.html" >"$T/ab1.out" 2>&1 &
AB1=$!
wait "$AB1" || { cat "$T/ab1.out" >&2; die "ab against nginx failed"; }
ab -n 300 -c 1 "http://127.0.0.1:$DPORT/health" >"$T/ab2.out" 2>&1 &
AB2=$!
wait "$AB2" || { cat "$T/ab2.out" >&2; die "ab against the demo failed"; }
hs_stop hs
hs_show_stats hs

$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$NGINX_LOG" || fail "nginx: server side differs from the access log"
printf 'GET /index.html 200 53\n%.0s' $(seq 300) >"$T/ngx.expect"
printf 'GET /health 200 15\n%.0s' $(seq 300) >"$T/demo.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB1" --role client --expect "$T/ngx.expect" \
	--exact-count || fail "ab -> nginx: client side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB2" --role client --expect "$T/demo.expect" \
	--exact-count || fail "ab -> demo: client side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$DEMO_PID" --role server --port "$DPORT" \
	--expect "$T/demo.expect" --exact-count || fail "demo: server side"
$CHECK sane --jsonl "$T/hs.jsonl" --pid "$AB1,$AB2,$NGINX_WORKER,$DEMO_PID" ||
	fail "incomplete or erroneous transactions"

# one transaction per connection: 300 distinct connections and client
# ports per side, though the fds repeat
for who in "$AB1 nginx-client" "$NGINX_WORKER nginx-server" "$AB2 demo-client" "$DEMO_PID demo-server"; do
	set -- $who
	stats=$(jq -c --argjson p "$1" 'select(.pid == $p)' "$T/hs.jsonl" | jq -s -c \
		'[length, (map(.conn_id) | unique | length), (map(if .role == "client" then .local else .remote end) | unique | length), (map(.fd) | unique | length)]')
	log "$2: [transactions, connections, client ports, fds] = $stats"
	case $stats in
	'[300,300,300,'*) ;;
	*) fail "$2: expected 300 transactions on 300 connections from 300 ports, got $stats" ;;
	esac
done
hs_expect_stat hs 'parse errors' 0
finish
