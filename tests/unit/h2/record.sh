#!/bin/bash
# record.sh -- re-records the capture fixtures of test_h2 (tests/unit/h2/*.cap and *.expect) from real peers on loopback.
#
# Not run by the test suite: the captures are committed.  Needs nginx,
# nghttp2-client, nghttp2-server, curl, python3-h2 and python3-grpcio.
# Ports 47100-47199.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rec="$here/../h2_record.py"
work=$(mktemp -d)
pids=()
relay_pid=
cleanup() {
	local p
	for p in "${pids[@]}" $relay_pid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# relay NAME UPSTREAM: records connections to $work/NAME-N.cap via 47100.
relay() {
	/usr/bin/python3 "$rec" relay 47100 "$2" "$work/$1" &
	relay_pid=$!
	sleep 0.5
}
relay_stop() {
	kill "$relay_pid"
	wait "$relay_pid" || true
	relay_pid=
}
keep() { # keep SRC NAME
	cp "$work/$1.cap" "$here/$2.cap"
	/usr/bin/python3 "$rec" expect "$here/$2.cap"
}

# --- nghttp against nghttpd (h2c prior knowledge), with a push ---------
mkdir -p "$work/htdocs"
head -c 1000 /dev/zero | tr '\0' 'a' >"$work/htdocs/index.html"
head -c 40000 /dev/urandom >"$work/htdocs/big.bin"
echo "body { }" >"$work/htdocs/style.css"
nghttpd --no-tls -d "$work/htdocs" -p /index.html=/style.css 47101 &
pids+=($!)
sleep 0.5
relay nghttp 47101
nghttp -n http://127.0.0.1:47100/index.html http://127.0.0.1:47100/big.bin \
	http://127.0.0.1:47100/missing
relay_stop
keep nghttp-1 nghttp-nghttpd

# --- curl against nginx (h2c prior knowledge) -------------------------
mkdir -p "$work/nginx/logs" "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<NGX
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp;
    server {
        listen 127.0.0.1:47102 http2;
        location = /echo { return 201 "created\n"; }
        location / { return 200 "hello over h2c\n"; }
    }
}
NGX
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
sleep 0.5
relay curl 47102
# One request per connection: curl 7.88 fails the second request on a
# reused h2c connection (error 16).
curl -s -o /dev/null --http2-prior-knowledge http://127.0.0.1:47100/
curl -s -o /dev/null --http2-prior-knowledge -d "name=alice" http://127.0.0.1:47100/echo
relay_stop
keep curl-1 curl-get
keep curl-2 curl-post

# --- curl with a header block over 16 KiB: CONTINUATION ----------------
# 24,000 bytes, 18,000 once Huffman-coded.  curl sends its request
# before it has the server's SETTINGS, so in frames of the default 16
# KiB: a HEADERS and a CONTINUATION frame.
relay cont 47101
big=$(head -c 8000 /dev/zero | tr '\0' 'b')
curl -s -o /dev/null --http2-prior-knowledge -H "X-Big: $big" -H "X-Big2: $big" \
	-H "X-Big3: $big" http://127.0.0.1:47100/index.html
relay_stop
keep cont-1 curl-continuation

# --- gRPC: python3-grpcio client and server ---------------------------
/usr/bin/python3 "$here/../../integration/grpc_peer.py" server 47103 &
pids+=($!)
sleep 1
relay grpc 47103
/usr/bin/python3 "$here/../../integration/grpc_peer.py" client 47100
relay_stop
keep grpc-1 grpcio
ls -l "$here"
