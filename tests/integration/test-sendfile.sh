#!/bin/bash
# test-sendfile.sh -- nginx sends static files with sendfile(): sizes right though the payload never crosses user memory; the connection goes on.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl ab
need_bpf

PORT=$(free_port)
nginx_start ngx "$PORT"
URL=http://127.0.0.1:$PORT
head -c 5000000 /dev/urandom >"$NGINX_DIR/html/file-5m"
GT=$T/curl.gt
: >"$GT"

hs_start hs -P "$PORT"
# four requests on one keep-alive connection, sendfile bodies between
curl_gt "$GT" GET "$URL/file-1m" -o /dev/null "$URL/index.html" \
	-o /dev/null "$URL/file-5m" -o /dev/null "$URL/index.html?after=5m"
ab -k -n 20 -c 2 "$URL/file-1m" >"$T/ab.out" 2>&1 &
AB=$!
wait "$AB" || { cat "$T/ab.out" >&2; die "ab failed"; }
hs_stop hs
hs_show_stats hs

$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$NGINX_LOG" --request-length || fail "server side differs from nginx's access log"
$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "client side differs from curl -w"
printf 'GET /file-1m 200 1048576\n%.0s' $(seq 20) >"$T/ab.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$AB" --role client --expect "$T/ab.expect" \
	--exact-count || fail "ab -k of the 1 MiB file: client side"
# the server side did send the bodies with sendfile: httpsnoop saw their
# size but not their bytes (body_missing), and said so
got=$(jq -c --argjson w "$NGINX_WORKER" 'select(.pid == $w and .request.target == "/file-1m") |
	[.response.body_size, (.response.body_missing > 0)]' "$T/hs.jsonl" | sort | uniq -c | tr -s ' ')
[ "$got" = ' 21 [1048576,true]' ] ||
	fail "nginx /file-1m: expected 21 x [1048576, body_missing > 0], got [$got]"
got=$(jq -c --argjson w "$NGINX_WORKER" 'select(.pid == $w and (.request.target | startswith("/index.html"))) |
	[.response.body_size, .response.status]' "$T/hs.jsonl" | sort | uniq -c | tr -s ' ')
[ "$got" = ' 2 [53,200]' ] || fail "nginx: the requests after a sendfile body: got [$got]"
hs_expect_stat hs 'parse errors' 0
finish
