#!/bin/bash
# test-tls.sh -- HTTPS through OpenSSL's SSL_read/SSL_write: nginx with TLS traced on both sides against its access log, curl's -w report and a python keep-alive client; a 2 MB upload's ciphertext is told from the sockets' own bytes; --no-tls shows nothing.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl openssl
need_bpf

PORT=$(free_port)
D=$T/ngx
nginx_tls_start "$D" "$PORT"
URL=https://127.0.0.1:$PORT
GT=$T/curl.gt
: >"$GT"

cat >"$T/client.py" <<'PYEOF'
import http.client, ssl, sys
ctx = ssl._create_unverified_context()
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx)
for i in range(int(sys.argv[2])):
    c.request("GET", "/item/%d" % i)
    r = c.getresponse()
    r.read()
c.close()
PYEOF

# Every TLS client starts after httpsnoop: the uprobes must catch them.
hs_start hs -P "$PORT"
curl_gt "$GT" GET -k "$URL/"
curl_gt "$GT" GET -k "$URL/missing"
curl_gt "$GT" POST -k --data-binary 'name=httpsnoop&secret=over-tls' "$URL/echo"
curl_gt "$GT" GET -k "$URL/a"
# 2 MB of ciphertext inside SSL_write (curl) and SSL_read (nginx, which
# reads it all to store it): the TLS connection's own bytes, not the
# socket's (see non-HTTP bytes below).  Without "Expect: 100-continue",
# curl's first SSL call after its handshake is this SSL_write.
mkdir -p "$D/put"
head -c 2000000 /dev/urandom >"$T/big.bin"
curl_gt "$GT" PUT -k -H Expect: -T "$T/big.bin" "$URL/put/big.bin"
cmp -s "$T/big.bin" "$D/put/big.bin" || fail "nginx did not store the 2 MB upload"
$PY "$T/client.py" "$PORT" 120 &
CLIENT=$!
wait "$CLIENT" || fail "the python client failed"
hs_stop hs
hs_show_stats hs

$CHECK nginx --jsonl "$T/hs.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$D/logs/access.log" || fail "server side differs from nginx's access log"
$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "client side differs from curl -w"
n=$($CHECK count --jsonl "$T/hs.jsonl" --pid "$CLIENT" --role client)
[ "$n" = 120 ] || fail "python client: $n transactions traced, expected 120"
notls=$(jq -c 'select(.tls != true)' "$T/hs.jsonl" | head -3)
[ -z "$notls" ] || fail "transactions not marked tls: $notls"
body=$(jq -r 'select(.role == "client" and .request.target == "/echo") | .request.body' "$T/hs.jsonl")
[ "$body" = 'name=httpsnoop&secret=over-tls' ] || fail "POST body preview is [$body]"
hs_expect_stat hs 'parse errors' 0
# Only the handshakes (outside SSL_read and SSL_write) are bytes that no
# plaintext accounts for: a few KB per connection, not the upload.
nh=$(hs_stat hs 'non-HTTP bytes')
[ -n "$nh" ] && [ "$nh" -lt 500000 ] ||
	fail "non-HTTP bytes [$nh]: ciphertext inside SSL calls was taken for a socket's own bytes"

# --no-tls: no plaintext, and the ciphertext is not taken for HTTP.
hs_start plain --no-tls -P "$PORT"
curl -sk -o /dev/null "$URL/"
$PY "$T/client.py" "$PORT" 5 || fail "the python client failed"
hs_stop plain
$CHECK none --jsonl "$T/plain.jsonl" || fail "--no-tls reported transactions"
hs_expect_stat plain 'parse errors' 0
finish
