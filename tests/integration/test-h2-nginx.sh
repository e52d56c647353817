#!/bin/bash
# test-h2-nginx.sh -- HTTP/2 with nginx: h2c prior knowledge and TLS with ALPN h2, curl and nghttp's concurrent streams, every transaction on both sides against nginx's access log and curl's -w report.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl nghttp openssl
need_bpf

PORT=$(free_port)
TPORT=$(free_port)
D=$T/ngx
mkdir -p "$D/html"
echo '<html><body>httpsnoop h2 test</body></html>' >"$D/html/index.html"
head -c 1048576 /dev/urandom >"$D/html/file-1m"
head -c 200000 /dev/urandom | base64 -w 76 >"$D/html/text.txt"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/key.pem" -out "$D/cert.pem" \
	-days 1 -subj /CN=localhost >/dev/null 2>&1 || die "openssl could not make a certificate"
nginx_conf "$D" <<NGX
    default_type application/octet-stream;
    types { text/plain txt; text/html html; }
    gzip on;
    gzip_types text/plain;
    gzip_min_length 100;
    server {
        listen 127.0.0.1:$PORT http2;
        listen 127.0.0.1:$TPORT ssl http2;
        ssl_certificate $D/cert.pem;
        ssl_certificate_key $D/key.pem;
        root $D/html;
        location / { }
        location /dav/ {
            # PUT stores the body: nginx reads all of it (a 'return'
            # would answer at once and reset the stream, which curl
            # 7.88 reports as a failure)
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 10m;
            client_body_buffer_size 1m;
        }
    }
NGX
nginx_run "$D" "$PORT"
wait_listen "$TPORT" || die "nginx did not listen on $TPORT"
URL=http://127.0.0.1:$PORT
TURL=https://127.0.0.1:$TPORT
GT=$T/curl.gt
: >"$GT"
head -c 3000 /dev/urandom | base64 -w 0 >"$T/post.body"

hs_spawn all
hs_spawn port -P "$PORT"
hs_spawn tls -P "$TPORT"
hs_wait all
hs_wait port
hs_wait tls
H2C=--http2-prior-knowledge
curl_gt "$GT" GET $H2C "$URL/"
curl_gt "$GT" GET $H2C "$URL/index.html"
curl_gt "$GT" GET $H2C "$URL/missing-page"
curl_gt "$GT" HEAD $H2C -I "$URL/index.html"
curl_gt "$GT" PUT $H2C -T "$T/post.body" -H 'Content-Type: text/plain' "$URL/dav/up/a.txt"
curl_gt "$GT" GET $H2C "$URL/file-1m"
curl_gt "$GT" GET $H2C "$URL/index.html?a=1&b=two"
curl_gt "$GT" GET $H2C --compressed "$URL/text.txt"
# credentials in HPACK-coded headers, to be redacted on both sides
AUTH=h2-s3cret-token COOKIE=sid=h2-s3cret-cookie
curl_gt "$GT" GET $H2C -H "Authorization: Bearer $AUTH" -H "Cookie: $COOKIE" "$URL/index.html?auth=1"
curl_gt "$GT" GET --http2 -k -H "Authorization: Bearer $AUTH" -H "Cookie: $COOKIE" "$TURL/?auth=1"
curl_gt "$GT" GET --http2 -k "$TURL/"
curl_gt "$GT" PUT --http2 -k -T "$T/post.body" "$TURL/dav/up/b.txt"
curl_gt "$GT" GET --http2 -k "$TURL/missing"
curl_gt "$GT" GET --http2 -k "$TURL/file-1m"
# 40 streams at once on one connection, h2c and TLS
nghttp -n -m 20 "$URL/index.html" "$URL/file-1m" >"$T/nghttp.out" 2>&1 ||
	fail "nghttp (h2c) failed"
nghttp -n -m 20 "$TURL/index.html" "$TURL/text.txt" >"$T/nghttps.out" 2>&1 ||
	fail "nghttp (TLS) failed"
hs_stop all port tls
hs_show_stats port

# Server side: each port's tracer and the unfiltered one, against the log
# (nginx logs both ports in one file: split it by the client ports).
for name in port tls all; do
	f=$T/$name.jsonl
	case $name in
	port) p=$PORT ;;
	tls) p=$TPORT ;;
	all) p= ;;
	esac
	args=(--jsonl "$f" --pid "$NGINX_WORKER" --role server --log "$NGINX_LOG" --unordered)
	[ -n "$p" ] && args+=(--port "$p")
	if [ -n "$p" ]; then
		# only the access-log lines of this port's connections
		jq -r --arg p "$p" 'select(.role == "client" and (.remote | endswith(":" + $p))) |
			.local | split(":") | last' "$T/all.jsonl" | sort -u >"$T/$name.ports"
		awk 'NR == FNR {want[$1] = 1; next} ($8 in want)' "$T/$name.ports" "$NGINX_LOG" \
			>"$T/$name.log"
		args=(--jsonl "$f" --pid "$NGINX_WORKER" --role server --log "$T/$name.log" --unordered)
	fi
	if ! $CHECK nginx "${args[@]}"; then
		if [ "$name" = all ] && hs_lost all; then
			log "note: the unfiltered tracer lost events to other traffic; not counted"
		else
			fail "httpsnoop ($name): server side differs from nginx's access log"
		fi
	fi
done
$CHECK curl --jsonl "$T/all.jsonl" --gt "$GT" || fail "client side differs from curl -w"
# nghttp's 40 + 40 requests, seen on its side too
for u in "$PORT" "$TPORT"; do
	n=$(jq_port "$u" 'select(.comm == "nghttp" and .role == "client" and .response.status == 200) | .stream_id' \
		"$T/all.jsonl" | sort -u | wc -l)
	[ "$n" = 40 ] || fail "nghttp on port $u: $n streams traced with a 200, expected 40"
done
# protocol h2 everywhere, TLS marked, HTTP/2 headers as sent
n=$(jq -c 'select(.protocol != "h2")' "$T/port.jsonl" "$T/tls.jsonl" | head -3)
[ -z "$n" ] || fail "transactions not h2: $n"
n=$(jq -c 'select(.tls != true)' "$T/tls.jsonl" | head -3)
[ -z "$n" ] || fail "TLS transactions not marked tls: $n"
n=$(jq -r 'select(.role == "server" and .request.target == "/dav/up/a.txt") |
	[.request.headers[0][0], .request.body_size] | @tsv' "$T/port.jsonl" | sort -u)
[ "$n" = ":method	$(stat -c %s "$T/post.body")" ] ||
	fail "the PUT's pseudo-headers first and its body whole: [$n]"
# the gzip-encoded text, decoded in the preview on both sides
n=$(jq -r 'select(.request.target == "/text.txt" and .role == "client" and .comm == "curl") |
	.response.body_decoded' "$T/port.jsonl")
[ "$n" = gzip ] || fail "text.txt response body_decoded: [$n]"
# Redaction: no credential written anywhere; on both sides, h2c and TLS,
# the values replaced as for HTTP/1 (the scheme kept).
grep -l 's3cret' "$T/all.jsonl" "$T/port.jsonl" "$T/tls.jsonl" && fail "a credential was written"
for f in port tls; do
	n=$(jq -r 'select(.request.target | tostring | endswith("?auth=1")) | [.role,
		(.request.headers[] | select(.[0] == "authorization" or .[0] == "cookie") | .[1])] | @tsv' \
		"$T/$f.jsonl" | sort | tr '\t\n' '|;')
	want="client|Bearer [redacted ${#AUTH} bytes]|[redacted ${#COOKIE} bytes];"
	[ "$n" = "$want${want/client/server}" ] || fail "redaction ($f): [$n]"
done
hs_expect_stat port 'parse errors' 0
hs_expect_stat port 'h2 bad frames' 0
hs_expect_stat port 'h2 undecoded blocks' 0
hs_expect_stat tls 'h2 undecoded blocks' 0
hs_expect_stat port 'lost events' 0
finish
