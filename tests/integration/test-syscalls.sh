#!/bin/bash
# test-syscalls.sh -- a client using every way to move bytes (send/recv, sendmsg/recvmsg with several iovecs, writev/readv, read/write, sendmmsg, sendfile, MSG_PEEK, one byte at a time): each request traced right.
. "$(dirname "$0")/lib.sh"
need_bpf

PORT=$(free_port)
demo_start "$PORT"

cat >"$T/client.py" <<'PYEOF'
import ctypes, os, socket, sys
port, out, tdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
libc = ctypes.CDLL(None, use_errno=True)
expect = []

def conn():
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s

def request(method, target, body=b""):
    h = f"{method} {target} HTTP/1.1\r\nHost: t\r\n"
    if method == "POST":
        h += f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    return (h + "\r\n").encode() + body

def read_response(recv):
    """recv(n) -> bytes; returns (status, body length)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = recv(65536)
        if not d:
            raise SystemExit("closed early")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    clen = 0
    for l in lines[1:]:
        k, v = l.split(":", 1)
        if k.lower() == "content-length":
            clen = int(v)
    while len(rest) < clen:
        d = recv(65536)
        if not d:
            raise SystemExit("closed early")
        rest += d
    return status, clen

def note(method, target, st, n):
    expect.append(f"{method} {target} {st} {n}")

# 1. send() / recv(): sendto and recvfrom syscalls
s = conn()
s.sendall(request("GET", "/users"))
note("GET", "/users", *read_response(s.recv))
s.close()

# 2. sendmsg() with three iovecs, recvmsg_into() with a 7-byte buffer first
s = conn()
r = request("GET", "/user/2")
s.sendmsg([r[:5], r[5:11], r[11:]])
def recvmsg(n):
    a, b = bytearray(7), bytearray(n)
    got = s.recvmsg_into([a, b])[0]
    return bytes((a + b)[:got])
note("GET", "/user/2", *read_response(recvmsg))
s.close()

# 3. os.writev() / os.readv() on the socket's fd
s = conn()
r = request("POST", "/echo", b"written with writev")
os.writev(s.fileno(), [r[:3], r[3:20], r[20:]])
def readv(n):
    bufs = [bytearray(3), bytearray(50), bytearray(n)]
    got = os.readv(s.fileno(), bufs)
    return bytes(b"".join(bufs)[:got])
note("POST", "/echo", *read_response(readv))
s.close()

# 3b. writev() with the method spread over three one-byte iovecs
s = conn()
r = request("POST", "/echo?iov=tiny", b"tiny iovecs")
os.writev(s.fileno(), [r[:1], r[1:2], r[2:3], r[3:]])
note("POST", "/echo?iov=tiny", *read_response(s.recv))
s.close()

# 3c. writev() mixing what the probe gathers into one record (small
# segments), a segment too big to gather, and segments past the 16 it
# reads (a counted gap inside the body: the size must stay exact)
s = conn()
body = b"A" * 10000 + b"0123456789abcdef"
r = request("POST", "/echo?iov=mixed", body)
head = r[:-len(body)]
segs = [head[:5], head[5:], body[:10000]] + [bytes([c]) for c in body[10000:]]
assert len(segs) == 19
os.writev(s.fileno(), segs)
note("POST", "/echo?iov=mixed", *read_response(s.recv))
s.close()

# 4. plain write() / read()
s = conn()
os.write(s.fileno(), request("GET", "/health"))
note("GET", "/health", *read_response(lambda n: os.read(s.fileno(), n)))
s.close()

# 5. one byte per send() and per recv(), body included
s = conn()
for b in request("POST", "/echo", b"byte by byte"):
    s.send(bytes([b]))
note("POST", "/echo", *read_response(lambda n: s.recv(1)))
s.close()

# 6. MSG_PEEK before each recv: peeked bytes are read again, not new data
s = conn()
s.sendall(request("GET", "/message?text=peek"))
def peek_recv(n):
    s.recv(n, socket.MSG_PEEK)
    return s.recv(n)
note("GET", "/message?text=peek", *read_response(peek_recv))
s.close()

# 7. sendmmsg(): the request as two messages of one iovec each.  The probe
# copies only the first message of a batch (a documented limit): the rest
# is a gap, so the client side's target is left open ('*') here and
# checked apart.
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]
s = conn()
r = request("GET", "/users?via=sendmmsg")
parts = [ctypes.create_string_buffer(r[:10], 10), ctypes.create_string_buffer(r[10:], len(r) - 10)]
iovs = [iovec(ctypes.cast(p, ctypes.c_void_p), len(p)) for p in parts]
msgs = (mmsghdr * 2)()
for i in range(2):
    msgs[i].hdr.iov = ctypes.pointer(iovs[i])
    msgs[i].hdr.iovlen = 1
sent = libc.sendmmsg(s.fileno(), msgs, 2, 0)
if sent != 2 or msgs[0].len + msgs[1].len != len(r):
    raise SystemExit(f"sendmmsg sent {sent} messages")
note("GET", "/users?via=sendmmsg", *read_response(s.recv))
s.close()

# 8. the request body from a file with sendfile()
body_path = os.path.join(tdir, "sendfile.body")
with open(body_path, "wb") as f:
    f.write(b"sent with sendfile " * 300)
s = conn()
size = os.path.getsize(body_path)
s.sendall(f"POST /echo?via=sendfile HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
          f"Content-Length: {size}\r\n\r\n".encode())
with open(body_path, "rb") as f:
    s.sendfile(f)
note("POST", "/echo?via=sendfile", *read_response(s.recv))
s.close()

# 9. HTTP/1.0 with a half-close: the request, then shutdown(SHUT_WR)
s = conn()
s.sendall(b"GET /health HTTP/1.0\r\nHost: t\r\n\r\n")
s.shutdown(socket.SHUT_WR)
note("GET", "/health", *read_response(s.recv))
s.close()

with open(out + ".server", "w") as f:
    f.write("\n".join(expect) + "\n")
with open(out + ".client", "w") as f:
    f.write("\n".join(e.replace("/users?via=sendmmsg", "*") for e in expect) + "\n")
PYEOF

# A naive server that reads its requests one byte at a time (as servers
# hunting for the end of the headers with read(fd, &c, 1) do).  It takes
# its connections with accept(2), not accept4(2) as Python and nginx do
# (the probe attaches one program to both).
cat >"$T/byteserver.py" <<'PYEOF'
import ctypes, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
srv = socket.create_server(("127.0.0.1", int(sys.argv[1])))
body = b"read one byte at a time\n"
while True:
    if os.uname().machine != "x86_64":
        c, _ = srv.accept()
    else:
        fd = libc.syscall(43, srv.fileno(), None, None)  # accept(2)
        if fd < 0:
            sys.exit("accept(2): " + os.strerror(ctypes.get_errno()))
        c = socket.socket(fileno=fd)
    with c:
        req = b""
        while not req.endswith(b"\r\n\r\n"):
            b = c.recv(1)
            if not b:
                break
            req += b
        if not req:
            continue
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                  b"Connection: close\r\n\r\n" % len(body) + body)
PYEOF

BPORT=$(free_port)
while [ "$BPORT" = "$PORT" ]; do BPORT=$(free_port); done
$PY "$T/byteserver.py" "$BPORT" >"$T/byteserver.out" 2>&1 &
BSERVER=$!
track "$BSERVER"
wait_listen "$BPORT" || die "the byte-reading server did not listen"

hs_start hs -P "$PORT" -P "$BPORT"
$PY "$T/client.py" "$PORT" "$T/expect" "$T" &
CLIENT=$!
wait "$CLIENT" || die "the client failed"
for i in 1 2; do
	curl -sS -o /dev/null "http://127.0.0.1:$BPORT/bytewise/$i" || fail "curl to the byte-reading server failed"
done
hs_stop hs
hs_show_stats hs
cat "$T/expect.server" >&2

$CHECK expect --jsonl "$T/hs.jsonl" --pid "$CLIENT" --role client --expect "$T/expect.client" \
	--ordered || fail "client side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$DEMO_PID" --role server --expect "$T/expect.server" \
	--ordered || fail "server side"
$CHECK sane --jsonl "$T/hs.jsonl" --pid "$CLIENT,$DEMO_PID" --role server ||
	fail "incomplete or erroneous transactions"
# sendmmsg on the client side: right, or flagged with an error (the probe
# copies only a batch's first message), but never silently wrong
got=$(jq -c --argjson c "$CLIENT" 'select(.pid == $c and .role == "client" and
	(.request.target | startswith("/users")) and .request.target != "/users" or
	(.pid == $c and .role == "client" and .error != null)) |
	[.request.target, .response.status, .error != null]' "$T/hs.jsonl")
case $got in
'["/users?via=sendmmsg",200,false]') ;;
'['*',200,true]') log "note: sendmmsg request flagged as incomplete: $got" ;;
*) fail "sendmmsg request on the client side: got [$got]" ;;
esac
printf 'GET /bytewise/1 200 24\nGET /bytewise/2 200 24\n' >"$T/byte.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$BSERVER" --role server --expect "$T/byte.expect" \
	--ordered || fail "a server reading one byte per recv(): server side"
$CHECK expect --jsonl "$T/hs.jsonl" --role client --port "$BPORT" --expect "$T/byte.expect" \
	--ordered || fail "a server reading one byte per recv(): curl's side"
# bodies that were captured must be the bytes sent
got=$(jq_port "$PORT" 'select(.request.target == "/echo") | [.role, .request.body, .response.body]' "$T/hs.jsonl" | sort)
want='["client","byte by byte","byte by byte"]
["client","written with writev","written with writev"]
["server","byte by byte","byte by byte"]
["server","written with writev","written with writev"]'
[ "$got" = "$want" ] || fail "/echo bodies on both sides: got
$got
expected
$want"
# the client's request, written with writev (3c): exact size, no error,
# and the bytes before the gap are the ones sent
got=$(jq_port "$PORT" 'select(.request.target == "/echo?iov=mixed" and .role == "client") | [.request.body_size, .error, (.request.body | test("^A+$"))]' "$T/hs.jsonl" | tr -d '\n')
[ "$got" = '[10016,null,true]' ] || fail "writev with mixed segments, client side: got [$got]"
got=$(jq_port "$PORT" 'select(.request.target == "/echo?via=sendfile") | [.role, .request.body_size, .response.body_size, (.response.body | startswith("sent with sendfile sent"))]' "$T/hs.jsonl" | sort | tr '\n' ' ')
[ "$got" = '["client",5700,5700,true] ["server",5700,5700,true] ' ] ||
	fail "POST with a sendfile() body: got [$got]"
got=$(jq_port "$PORT" 'select(.request.target == "/message?text=peek") | .response.body' "$T/hs.jsonl" | sort -u)
[ "$got" = '"Message: peek\n"' ] || fail "MSG_PEEK: response bodies [$got], expected each byte once"
hs_expect_stat hs 'parse errors' 0
finish
