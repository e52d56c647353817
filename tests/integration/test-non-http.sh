#!/bin/bash
# test-non-http.sh -- binary and text non-HTTP TCP traffic while tracing: nothing reported for it, while HTTP next to it still is.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

EPORT=$(free_port)
cat >"$T/echo.py" <<'PYEOF'
import socket, sys, threading
port = int(sys.argv[1])
srv = socket.create_server(("127.0.0.1", port))
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PYEOF
cat >"$T/client.py" <<'PYEOF'
import os, random, socket, sys
port = int(sys.argv[1])
rnd = random.Random(1234)
payloads = [
    os.urandom(1),
    os.urandom(7),
    os.urandom(4096),
    os.urandom(100000),
    b"*1\r\n$4\r\nPING\r\n",                       # redis
    b"HELLO server\r\nHOST: nowhere\r\n\r\n",       # looks like headers, not HTTP
    b"GETX / HTTP/1.1\r\n\r\n",                     # almost a method
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(500),   # a TLS ClientHello
    b"SSH-2.0-OpenSSH_9.2\r\n",
]
for i in range(40):
    payloads.append(bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000))))
for p in payloads:
    # a fresh connection each: the first bytes are what a tracer looks at
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(p)
    got = b""
    while len(got) < len(p):
        d = s.recv(65536)
        if not d:
            sys.exit("echo closed early")
        got += d
    if got != p:
        sys.exit("echo mismatch")
    # and a long-lived one with many messages
    s.close()
s = socket.create_connection(("127.0.0.1", port))
for i in range(200):
    m = os.urandom(rnd.randint(1, 1500))
    s.sendall(m)
    got = b""
    while len(got) < len(m):
        got += s.recv(65536)
s.close()
PYEOF
$PY "$T/echo.py" "$EPORT" >"$T/echo.out" 2>&1 &
ECHO=$!
track "$ECHO"
wait_listen "$EPORT" || die "the echo server did not listen"
DPORT=$(free_port)
demo_start "$DPORT"

hs_start hs -P "$EPORT" -P "$DPORT"
$PY "$T/client.py" "$EPORT" &
CLIENT=$!
for i in 1 2 3; do
	curl -sS -o /dev/null "http://127.0.0.1:$DPORT/health" || fail "curl failed"
done
wait "$CLIENT" || die "the echo client failed"
hs_stop hs
hs_show_stats hs

$CHECK none --jsonl "$T/hs.jsonl" --pid "$CLIENT" || fail "transactions reported for the echo client"
$CHECK none --jsonl "$T/hs.jsonl" --pid "$ECHO" || fail "transactions reported for the echo server"
$CHECK none --jsonl "$T/hs.jsonl" --port "$EPORT" || fail "transactions reported on the echo port"
# the positive control: HTTP in the same window was traced
printf 'GET /health 200 15\n%.0s' 1 2 3 >"$T/demo.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$DEMO_PID" --role server --port "$DPORT" \
	--expect "$T/demo.expect" --exact-count || fail "HTTP next to the non-HTTP traffic was not traced"
n=$(hs_stat hs 'non-HTTP bytes')
[ "${n:-0}" -gt 0 ] || fail "the probe counted no non-HTTP bytes, though it saw the echo traffic"
hs_expect_stat hs 'parse errors' 0
finish
