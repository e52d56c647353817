#!/bin/bash
# test-keepalive-load.sh -- ab -k and wrk against nginx: every request accounted for on both sides, no parse errors.
. "$(dirname "$0")/lib.sh"
need_tools nginx ab wrk
need_bpf

PORT=$(free_port)
nginx_start ngx "$PORT"
URL=http://127.0.0.1:$PORT

hs_start hs -P "$PORT"
ab -k -n 1000 -c 10 "$URL/index.html" >"$T/ab.out" 2>&1 &
AB=$!
wait "$AB" || { cat "$T/ab.out" >&2; die "ab failed"; }
wrk -t1 -c10 -d2s "$URL/" >"$T/wrk.out" 2>&1 &
WRK=$!
wait "$WRK" || { cat "$T/wrk.out" >&2; die "wrk failed"; }
hs_stop hs
hs_show_stats hs

log "access log: $(wc -l <"$NGINX_LOG") requests; $(grep -E 'Complete requests|Keep-Alive requests' "$T/ab.out" | tr -s ' ' | tr '\n' ';') wrk: $(grep 'requests in' "$T/wrk.out")"
$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$NGINX_LOG" --request-length || fail "server side differs from nginx's access log"

# ab: 1000 requests, all 200 with the index body
printf 'GET /index.html 200 53\n%.0s' $(seq 1000) >"$T/ab.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB" --role client --expect "$T/ab.expect" \
	--exact-count || fail "ab's client side"
# wrk: as many answered requests as wrk counted (it drops the ones in
# flight when its time is up; httpsnoop reports those without a response)
want=$(sed -n 's/^ *\([0-9][0-9]*\) requests in.*/\1/p' "$T/wrk.out")
got=$($CHECK dump --jsonl "$T/hs.jsonl" --pid "$WRK" --role client | grep -c ' -> 200 body=53 ')
[ "$got" = "$want" ] || fail "wrk counted $want responses, httpsnoop traced $got on its client side"
hs_expect_stat hs 'parse errors' 0
hs_expect_stat hs 'lost events' 0
finish
