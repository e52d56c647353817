#!/bin/bash
# test-demo.sh -- every route of the demo server, traced on both sides against curl's report and the expected answers.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT
GT=$T/curl.gt
: >"$GT"
TARGETS=()
BIG=10485760
printf 'name=httpsnoop&value=%s' "$(head -c 600 /dev/urandom | base64 -w 0)" >"$T/post.body"
head -c 5000 /dev/urandom | base64 -w 0 >"$T/upload.body"

# get TARGET [CURL-ARGS...]: one request, its target remembered for the
# server side's expectations.
get() {
	local target=$1 method=GET a
	shift
	for a in "$@"; do
		case $a in
		-I) method=HEAD ;;
		--data-binary) method=POST ;;
		esac
	done
	TARGETS+=("$target")
	curl_gt "$GT" "$method" "$@" "$URL$target"
}

hs_start hs -P "$PORT"
get /
get /users
get /user/2
get /user/9
get '/message?text=hi'
get /health
get /chunked
get /gzip
get /users -I
get /status/204
get /status/304
get /status/503
# a 30 KB header: request headers far past one capture chunk
get '/user/3?bigheader' -H "X-Big: $(head -c 22500 /dev/urandom | base64 -w 0)"
get /echo --data-binary @"$T/post.body" -H 'Content-Type: application/x-www-form-urlencoded'
get /echo --data-binary @"$T/upload.body" -H 'Expect: 100-continue' -H 'Content-Type: text/plain'
# a body far past the capture limit, then one more request on the same
# keep-alive connection: the tracker must find the next request's start
TARGETS+=("/big?size=$BIG" /health)
curl_gt "$GT" GET "$URL/big?size=$BIG" -o /dev/null "$URL/health"
hs_stop hs
hs_show_stats hs

$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "client side differs from curl -w"
paste -d' ' <(awk '{ print $4 }' "$GT") <(printf '%s\n' "${TARGETS[@]}") \
	<(awk '{ print $2, $3 }' "$GT") >"$T/server.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$DEMO_PID" --role server \
	--expect "$T/server.expect" --ordered || fail "server side differs from the expected answers"
$CHECK sane --jsonl "$T/hs.jsonl" --port "$PORT" || fail "incomplete or erroneous transactions"

# both sides of each check, so each query must give two identical lines
both() {   # both DESCRIPTION JQ-FILTER EXPECTED
	local got
	got=$(jq_port "$PORT" "$2" "$T/hs.jsonl" | sort | uniq -c | tr -s ' ')
	[ "$got" = " 2 $3" ] || fail "$1: expected [2 x $3], got [$got]"
}
both "/gzip decoded" 'select(.request.target == "/gzip") |
	[.response.body_decoded, (.response.body | startswith("This body was gzip-compressed by the httpsnoop demo.\n"))]' \
	'["gzip",true]'
both "/chunked body" 'select(.request.target == "/chunked") |
	[.response.body_size, .response.body, (.response.headers | map(.[0] | ascii_downcase) | index("transfer-encoding") != null)]' \
	'[32,"chunk one\nchunk two\nchunk three\n",true]'
both "HEAD /users" 'select(.request.method == "HEAD") | [.request.target, .response.status, .response.body_size]' \
	'["/users",200,0]'
both "/message?text=hi" 'select(.request.target == "/message?text=hi") | .response.body' '"Message: hi\n"'
both "POST /echo" "select(.request.target == \"/echo\" and .interim_status == null) |
	[.request.body_size, .request.body == .response.body, .response.body_size]" \
	"[$(stat -c %s "$T/post.body"),true,$(stat -c %s "$T/post.body")]"
both "Expect: 100-continue upload" "select(.request.target == \"/echo\" and .interim_status != null) |
	[.interim_status, .response.status, .request.body_size, .response.body_size]" \
	"[100,200,$(stat -c %s "$T/upload.body"),$(stat -c %s "$T/upload.body")]"
both "/big" "select(.request.target == \"/big?size=$BIG\") | [.response.status, .response.body_size]" \
	"[200,$BIG]"
# /health after /big rode on the same connection as /big
for role in client server; do
	big=$(jq_port "$PORT" --arg r "$role" "select(.role == \$r and .request.target == \"/big?size=$BIG\") | .conn_id" "$T/hs.jsonl")
	next=$(jq_port "$PORT" --arg r "$role" --argjson c "${big:-0}" 'select(.role == $r and .conn_id == $c and .request.target == "/health") | .response.status' "$T/hs.jsonl")
	[ "$next" = 200 ] || fail "$role side: /health after /big on connection ${big:-?} not traced (got [$next])"
done
both "30 KB header" 'select(.request.target == "/user/3?bigheader") |
	[.response.status, .response.body_size, .request.headers_truncated,
	 ((.request.headers | map(select(.[0] == "X-Big")) | .[0][1] // "" | length) as $n |
	  $n == 30000 or (.request.headers_truncated and $n < 30000))]' \
	'[200,55,false,true]'
hs_expect_stat hs 'parse errors' 0
finish
