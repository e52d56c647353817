#!/bin/bash
# test-pipelining.sh -- three requests written in one send(), three responses: paired FIFO on both sides.
. "$(dirname "$0")/lib.sh"
need_bpf

PORT=$(free_port)
demo_start "$PORT"

cat >"$T/pipeline.py" <<'PYEOF'
import socket, sys
port, out, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if n == 3:
    targets = ["/user/1", "/echo", "/message?text=pipe"]
    methods = ["GET", "POST", "GET"]
else:
    targets = [f"/user/{i % 3 + 1}?p={i}" for i in range(n)]
    methods = ["GET"] * n
reqs = []
for m, t in zip(methods, targets):
    if m == "POST":
        reqs.append(f"POST {t} HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 11\r\n\r\nhello world".encode())
    else:
        reqs.append(f"GET {t} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"".join(reqs))            # one send() holding all three
buf = b""
results = []
while len(results) < n:
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
with open(out, "w") as f:
    for m, t, (st, n) in zip(methods, targets, results):
        f.write(f"{m} {t} {st} {n}\n")
PYEOF

hs_start hs -P "$PORT"
$PY "$T/pipeline.py" "$PORT" "$T/expect" 3 &
CLIENT=$!
wait "$CLIENT" || die "the pipelining client failed"
# 100 requests in one send(): deep, but under the tracker's limit of 256
$PY "$T/pipeline.py" "$PORT" "$T/expect100" 100 &
CLIENT100=$!
wait "$CLIENT100" || die "the 100-deep pipelining client failed"
hs_stop hs
hs_show_stats hs
cat "$T/expect" >&2

$CHECK expect --jsonl "$T/hs.jsonl" --pid "$CLIENT" --role client --expect "$T/expect" \
	--ordered || fail "client side of the pipelined connection"
cat "$T/expect" "$T/expect100" >"$T/expect.server"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$DEMO_PID" --role server --port "$PORT" \
	--expect "$T/expect.server" --ordered || fail "server side of the pipelined connections"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$CLIENT100" --role client --expect "$T/expect100" \
	--ordered || fail "client side of the 100-deep pipeline"
$CHECK causal --jsonl "$T/hs.jsonl" --client-pid "$CLIENT100" --server-pid "$DEMO_PID" ||
	fail "100-deep pipeline: responses paired with the wrong requests"
$CHECK sane --jsonl "$T/hs.jsonl" --port "$PORT" || fail "incomplete or erroneous transactions"
got=$(jq_port "$PORT" 'select(.request.target == "/echo") | [.request.body, .response.body]' "$T/hs.jsonl" | sort -u)
[ "$got" = '["hello world","hello world"]' ] || fail "the pipelined POST's bodies: got [$got]"
n=$(jq_port "$PORT" '[.role, .conn_id] | tostring' "$T/hs.jsonl" | sort | uniq -c | awk '{ print $1 }' | sort -n | tr '\n' ' ')
[ "$n" = '3 3 100 100 ' ] || fail "expected per side one connection of 3 and one of 100 transactions, got counts [$n]"
$CHECK causal --jsonl "$T/hs.jsonl" --client-pid "$CLIENT" --server-pid "$DEMO_PID" ||
	fail "responses paired with the wrong requests"
hs_expect_stat hs 'parse errors' 0
finish
