#!/bin/bash
# test-nginx-curl.sh -- nginx + curl: every transaction on both sides against nginx's access log and curl's -w report.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl
need_bpf

PORT=$(free_port)
nginx_start ngx "$PORT"
URL=http://127.0.0.1:$PORT
GT=$T/curl.gt
: >"$GT"
head -c 3000 /dev/urandom | base64 -w 0 >"$T/post.body"

hs_start hs
curl_gt "$GT" GET "$URL/"
curl_gt "$GT" GET "$URL/index.html"
curl_gt "$GT" GET "$URL/missing-page"
curl_gt "$GT" HEAD -I "$URL/index.html"
curl_gt "$GT" POST --data-binary @"$T/post.body" -H 'Content-Type: text/plain' "$URL/echo"
# curl sends "Expect: 100-continue" with an upload of over 1 KiB: nginx
# answers 100 Continue, then 201.
curl_gt "$GT" PUT -T "$T/post.body" "$URL/dav/up/loaded.txt"
curl_gt "$GT" GET "$URL/dav/up/loaded.txt"
curl_gt "$GT" DELETE -X DELETE "$URL/dav/up/loaded.txt"
curl_gt "$GT" GET "$URL/file-1m"
curl_gt "$GT" GET "$URL/index.html?a=1&b=two"
# two URLs on one keep-alive connection
curl_gt "$GT" GET "$URL/" -o /dev/null "$URL/nope/deeper"
hs_stop hs
hs_show_stats hs

$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$NGINX_LOG" --request-length || fail "server side differs from nginx's access log"
$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "client side differs from curl -w"
# the POST's request body was seen whole on both sides
n=$(jq_port "$PORT" --arg sz "$(stat -c %s "$T/post.body")" \
	'select(.request.method == "POST" and .request.target == "/echo"
	        and (.request.body_size | tostring) == $sz) | .role' "$T/hs.jsonl" | sort | tr '\n' ' ')
[ "$n" = '"client" "server" ' ] || fail "POST /echo body_size on client and server: got [$n]"
n=$(jq_port "$PORT" 'select(.request.method == "PUT") | .interim_status' "$T/hs.jsonl" | sort | uniq -c | tr -s ' ')
[ "$n" = ' 2 100' ] || fail "PUT with Expect: 100-continue: interim_status on both sides should be 100, got [$n]"
hs_expect_stat hs 'parse errors' 0
finish
