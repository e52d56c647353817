#!/bin/bash
# test-hostile.sh -- hostile bytes sent to a traced nginx over real sockets: random binary, truncated requests, a 1 MB request line, 1 MB of headers, 10,000 headers, bad chunking, Content-Length with Transfer-Encoding, garbage pipelined between requests, a TLS ClientHello, 10,000 half requests that vanish, and a slow-loris throughout.  httpsnoop stays up, reports every well-formed transaction around them, makes nothing up, counts the anomalies, gives back its connection-table entries and memory, and does not change a byte that clients receive.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl jq
need_bpf

PORT=$(free_port)
nginx_start hostile "$PORT"
WORKER=$NGINX_WORKER
URL="http://127.0.0.1:$PORT"
# What a client receives untraced: the tracer must not change it.
curl -sS -o "$T/untraced.bin" "$URL/file-1m" || die "curl of the untraced file failed"

cat >"$T/hostile.py" <<'PYEOF'
import os, socket, ssl, struct, sys, time
port, step = int(sys.argv[1]), sys.argv[2]
ADDR = ("127.0.0.1", port)

def send_and_drain(data, shut=True):
    """Send data (nginx may close midway), then read until it closes."""
    s = socket.create_connection(ADDR)
    s.settimeout(20)
    try:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError:
        pass   # nginx answers 400/414 and closes before reading it all
    s.close()

if step == "random":
    send_and_drain(os.urandom(65536))
elif step == "truncated":
    send_and_drain(b"GET /truncated HTTP/1.1\r\nHost: x\r\nX-Par")
    send_and_drain(b"POST /dav/t HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part")
elif step == "big-line":
    send_and_drain(b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
elif step == "big-headers":
    send_and_drain(b"GET /big-headers HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (1 << 20) + b"\r\n\r\n")
elif step == "many-headers":
    h = b"".join(b"X-H%d: %d\r\n" % (i, i) for i in range(10000))
    send_and_drain(b"GET /many-headers HTTP/1.1\r\nHost: x\r\n" + h + b"\r\n")
elif step == "bad-chunked":
    send_and_drain(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"zz\r\nhello\r\n0\r\n\r\n")
elif step == "cl-te":
    send_and_drain(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                   b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
elif step == "pipelined-garbage":
    send_and_drain(b"GET /index.html?pipe=1 HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"\x00\x01\x02garbage \xff\xfe\r\n\r\n"
                   b"GET /index.html?pipe=2 HTTP/1.1\r\nHost: x\r\n\r\n")
elif step == "binary-get":
    # a binary protocol that happens to start with "GET "
    send_and_drain(b"GET " + os.urandom(4096))
elif step == "client-hello":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(ADDR)
    s.settimeout(20)
    try:
        ctx.wrap_socket(s, server_hostname="x").close()
    except (ssl.SSLError, OSError):
        s.close()
elif step == "half":
    # 10,000 connections that send half a request and vanish (RST)
    n, batch = 10000, 100
    linger = struct.pack("ii", 1, 0)
    for i in range(0, n, batch):
        socks = []
        for j in range(batch):
            s = socket.create_connection(ADDR)
            s.sendall(b"GET /half?%d HTTP/1.1\r\nHost: x\r\nX-" % (i + j))
            socks.append(s)
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            s.close()
elif step == "slowloris":
    # one byte a second, never finishing, until killed
    s = socket.create_connection(ADDR)
    s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    while True:
        time.sleep(1)
        try:
            s.sendall(b"a")
        except OSError:  # nginx's client_header_timeout (60 s)
            s = socket.create_connection(ADDR)
            s.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\nX-Slow: ")
else:
    sys.exit("unknown step " + step)
PYEOF

hs_start hs -P "$PORT" -b 256
HS=${HS_PID[hs]}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$HS/status"; }
RSS0=$(rss_kb)
hs_stats_now hs || die "no statistics on SIGUSR1"
KT0=$(hs_stat hs 'kernel table')

$PY "$T/hostile.py" "$PORT" slowloris >"$T/slowloris.out" 2>&1 &
track "$!"
GT=$T/curl.gt
: >"$GT"
: >"$T/good.expect"
SIZE=$(stat -c %s "$NGINX_DIR/html/index.html")
for step in random truncated big-line big-headers many-headers bad-chunked cl-te \
	pipelined-garbage binary-get client-hello half; do
	$PY "$T/hostile.py" "$PORT" "$step" >>"$T/hostile.out" 2>&1 || fail "the hostile client's step $step failed"
	curl_gt "$GT" GET "$URL/index.html?after=$step"
	echo "GET /index.html?after=$step 200 $SIZE" >>"$T/good.expect"
	kill -0 "$HS" 2>/dev/null || die "httpsnoop died during step $step"
done
echo "GET /index.html?pipe=1 200 $SIZE" >>"$T/good.expect"
curl -sS -o "$T/traced.bin" "$URL/file-1m" || fail "curl of the traced file failed"
sleep 2   # nginx closes what the half requests left
hs_stats_now hs || die "no statistics on SIGUSR1"
KT1=$(hs_stat hs 'kernel table')
OPEN1=$(hs_stat hs 'open connections')
RSS1=$(rss_kb)
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$HS/status")
hs_stop hs
hs_show_stats hs
log "RSS ${RSS0} kB at start, ${RSS1} kB after (peak ${HWM} kB); kernel table ${KT0} -> ${KT1} entries; ${OPEN1} connections open in user space"

# Well-formed transactions around the hostile ones: all there, both sides.
$CHECK curl --jsonl "$T/hs.jsonl" --gt "$GT" || fail "curl's side of the well-formed requests"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$WORKER" --role server --expect "$T/good.expect" ||
	fail "nginx's side of the well-formed requests"
# Nothing made up: every server-side transaction is in nginx's access log.
$CHECK within --jsonl "$T/hs.jsonl" --pid "$WORKER" --role server --log "$NGINX_LOG" ||
	fail "httpsnoop reported server-side transactions nginx never logged"
# The 10,000 half requests: each seen once on each side (a reset
# connection's bytes are read after the reset; their addresses still count
# for -P).
for role in client server; do
	n=$(jq -c --arg r "$role" 'select(.role == $r and ((.request.target // "") | startswith("/half?")))' "$T/hs.jsonl" | wc -l)
	[ "$n" -eq 10000 ] || fail "$n of the 10000 half requests traced on the $role side"
done
# The anomalies are counted.
[ "$(hs_stat hs 'parse errors')" -gt 0 ] || fail "no parse errors counted"
[ "$(hs_stat hs 'non-HTTP bytes')" -gt 0 ] || fail "no non-HTTP bytes counted (random bytes, ClientHello)"
hs_expect_stat hs 'lost events' 0
hs_expect_stat hs 'bad records' 0
# Reclaimed: 10,000 connections came and went; their entries did too.
[ $((KT1 - KT0)) -lt 100 ] || fail "kernel connection table grew from $KT0 to $KT1 entries"
[ "$OPEN1" -lt 100 ] || fail "$OPEN1 connections still tracked in user space"
# Memory: the user-space cap (65536 connections, 64 KiB heads, bounded
# reorder queues) keeps this far below 64 MiB of growth.
[ $((RSS1 - RSS0)) -lt 65536 ] || fail "RSS grew by $((RSS1 - RSS0)) kB"
# The probe changes nothing a client receives.
cmp -s "$T/untraced.bin" "$T/traced.bin" || fail "a client received different bytes while traced"
cmp -s "$T/untraced.bin" "$NGINX_DIR/html/file-1m" || fail "the untraced download differs from the file"
finish
