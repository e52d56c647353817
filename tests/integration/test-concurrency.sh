#!/bin/bash
# test-concurrency.sh -- 100-150 concurrent connections to nginx: every request accounted for, record by record.
. "$(dirname "$0")/lib.sh"
need_tools nginx ab
need_bpf

PORT=$(free_port)
nginx_start ngx "$PORT"
URL=http://127.0.0.1:$PORT

hs_start hs -P "$PORT"
# a connection per request, 100 at once
ab -n 2000 -c 100 "$URL/index.html" >"$T/ab1.out" 2>&1 &
AB1=$!
# 150 keep-alive connections at once, with a 404 mixed in by a second ab
ab -k -n 3000 -c 150 "$URL/" >"$T/ab2.out" 2>&1 &
AB2=$!
ab -k -n 500 -c 20 "$URL/no-such-file" >"$T/ab3.out" 2>&1 &
AB3=$!
wait "$AB1" || { cat "$T/ab1.out" >&2; die "ab failed"; }
wait "$AB2" || { cat "$T/ab2.out" >&2; die "ab -k failed"; }
wait "$AB3" || { cat "$T/ab3.out" >&2; die "ab -k (404) failed"; }
hs_stop hs
hs_show_stats hs
grep -h -E 'Complete requests|Failed requests|Non-2xx' "$T"/ab?.out >&2

$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$NGINX_LOG" --request-length || fail "server side differs from nginx's access log"
printf 'GET /index.html 200 53\n%.0s' $(seq 2000) >"$T/ab1.expect"
printf 'GET / 200 53\n%.0s' $(seq 3000) >"$T/ab2.expect"
printf 'GET /no-such-file 404 153\n%.0s' $(seq 500) >"$T/ab3.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB1" --role client --expect "$T/ab1.expect" \
	--exact-count || fail "ab -c 100: client side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB2" --role client --expect "$T/ab2.expect" \
	--exact-count || fail "ab -k -c 150: client side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB3" --role client --expect "$T/ab3.expect" \
	--exact-count || fail "ab -k -c 20 (404): client side"
hs_expect_stat hs 'parse errors' 0
hs_expect_stat hs 'lost events' 0
finish
