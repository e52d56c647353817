#!/bin/bash
# test-pipelining.sh -- three requests written in one send(), three responses: paired FIFO on both sides.
. "$(dirname "$0")/lib.sh"
need_bpf

PORT=$(free_port)
demo_start "$PORT"

cat >"$T/pipeline.py" <<'PYEOF'
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
reqs = [
    b"GET /user/1 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
    b"GET /message?text=pipe HTTP/1.1\r\nHost: t\r\n\r\n",
]
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(reqs))            # one send() holding all three
buf = b""
results = []
while len(results) < 3:
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            sys.exit("connection closed early")
        buf += d
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    clen = 0
    for l in lines[1:]:
        k, v = l.split(":", 1)
        if k.strip().lower() == "content-length":
            clen = int(v)
    while len(buf) < clen:
        d = s.recv(65536)
        if not d:
            sys.exit("connection closed early")
        buf += d
    results.append((status, clen))
    buf = buf[clen:]
s.close()
targets = ["/user/1", "/echo", "/message?text=pipe"]
methods = ["GET", "POST", "GET"]
with open(out, "w") as f:
    for m, t, (st, n) in zip(methods, targets, results):
        f.write(f"{m} {t} {st} {n}\n")
PYEOF

hs_start hs -P "$PORT"
$PY "$T/pipeline.py" "$PORT" "$T/expect" &
CLIENT=$!
wait "$CLIENT" || die "the pipelining client failed"
hs_stop hs
hs_show_stats hs
cat "$T/expect" >&2

$CHECK expect --jsonl "$T/hs.jsonl" --pid "$CLIENT" --role client --expect "$T/expect" \
	--ordered || fail "client side of the pipelined connection"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$DEMO_PID" --role server --port "$PORT" \
	--expect "$T/expect" --ordered || fail "server side of the pipelined connection"
$CHECK sane --jsonl "$T/hs.jsonl" --port "$PORT" || fail "incomplete or erroneous transactions"
got=$(jq_port "$PORT" 'select(.request.target == "/echo") | [.request.body, .response.body]' "$T/hs.jsonl" | sort -u)
[ "$got" = '["hello world","hello world"]' ] || fail "the pipelined POST's bodies: got [$got]"
n=$(jq_port "$PORT" '[.role, .conn_id] | tostring' "$T/hs.jsonl" | sort | uniq -c | awk '{ print $1 }' | tr '\n' ' ')
[ "$n" = '3 3 ' ] || fail "expected one connection per side holding 3 transactions, got counts [$n]"
hs_expect_stat hs 'parse errors' 0
finish
