#!/bin/bash
# test-python-http.sh -- python's http.server (HTTP/1.0, close-delimited, and 1.1) and a 200-request http.client keep-alive client.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

mkdir -p "$T/www"
echo 'hello from http.server' >"$T/www/a.txt"
head -c 20000 /dev/urandom >"$T/www/b.bin"
head -c 100000 /dev/urandom >"$T/www/c.bin"
P10=$(free_port)
py_server_start "$P10" "$T/www" 1.0
S10=$PY_SERVER
P11=$(free_port)
while [ "$P11" = "$P10" ]; do P11=$(free_port); done
py_server_start "$P11" "$T/www" 1.1
S11=$PY_SERVER

cat >"$T/client.py" <<'PYEOF'
import http.client, sys
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
# no 404 here: http.server closes the connection after an error
paths = ["/a.txt", "/b.bin", "/a.txt?x=%d", "/noclen?i=%d", "/c.bin", "/"]
conn = http.client.HTTPConnection("127.0.0.1", port)
ports = set()
with open(out, "w") as f:
    for i in range(n):
        p = paths[i % len(paths)]
        if "%d" in p:
            p = p % i
        # HEAD only for plain files (/noclen answers GET only)
        method = "HEAD" if i % 6 in (1, 4) and i % 5 == 0 else "GET"
        conn.request(method, p)
        r = conn.getresponse()
        body = r.read()
        ports.add(conn.sock.getsockname()[1])
        f.write(f"{method} {p} {r.status} {len(body)}\n")
if len(ports) != 1:
    sys.exit(f"http.client used {len(ports)} connections, not 1")
PYEOF

hs_start hs -P "$P10" -P "$P11"
# HTTP/1.0: a connection per request; /noclen ends at the close
GT=$T/curl.gt
: >"$GT"
PATHS10=(/a.txt /b.bin /c.bin /noclen /missing /)
for p in "${PATHS10[@]}"; do
	curl_gt "$GT" GET "http://127.0.0.1:$P10$p"
done
curl_gt "$GT" HEAD -I "http://127.0.0.1:$P10/b.bin"
PATHS10+=(/b.bin)
# HTTP/1.1 keep-alive: 200 requests on one connection
$PY "$T/client.py" "$P11" 200 "$T/py.expect" &
CLIENT=$!
wait "$CLIENT" || die "the http.client script failed"
hs_stop hs
hs_show_stats hs

$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "curl against HTTP/1.0 http.server: client side"
# server side of the HTTP/1.0 server: the same requests, seen by python
paste -d' ' <(awk '{ print $4 }' "$GT") <(printf '%s\n' "${PATHS10[@]}") \
	<(awk '{ print $2, $3 }' "$GT") >"$T/s10.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$S10" --role server --port "$P10" \
	--expect "$T/s10.expect" --ordered || fail "HTTP/1.0 http.server: server side"
n=$(jq_port "$P10" 'select(.request.target == "/noclen") | .response.headers | map(.[0]) | index("Content-Length")' "$T/hs.jsonl" | sort -u)
[ "$n" = null ] || fail "/noclen should be close-delimited (no Content-Length), headers say [$n]"

$CHECK expect --jsonl "$T/hs.jsonl" --pid "$CLIENT" --role client \
	--expect "$T/py.expect" --ordered || fail "http.client keep-alive: client side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$S11" --role server --port "$P11" \
	--expect "$T/py.expect" --ordered || fail "HTTP/1.1 http.server: server side"
$CHECK sane --jsonl "$T/hs.jsonl" --pid "$CLIENT,$S10,$S11" || fail "incomplete or erroneous transactions"
hs_expect_stat hs 'parse errors' 0
finish
