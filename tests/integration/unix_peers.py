#!/usr/bin/python3
"""unix_peers.py -- peers that talk over Unix sockets for the integration tests, each keeping its own log as ground truth.

Run with /usr/bin/python3 (Debian's: it has grpcio).  Subcommands:

  grpc-server SOCKET LOG   gRPC (python3-grpcio, generic handlers, no protoc)
                           on unix:SOCKET; appends "METHOD CODE REQ_BYTES
                           RESP_BYTES" to LOG for every call it finishes.
                           Methods: /hs.Echo/Say (unary: echoes, or fails
                           with NOT_FOUND when the request is b"missing"),
                           /hs.Echo/Count (server streaming: N messages).
  grpc-client SOCKET N     N calls of Say (one of them "missing"), then one
                           Count of 3; prints "calls OK ERRORS" to stdout.
  line-server SOCKET       a line protocol that is not HTTP: "PING n" is
                           answered "PONG n", anything else "ERR"; one
                           thread per connection, any number of them.
  line-client SOCKET N     N PINGs on one connection, each answer checked;
                           prints "pongs N".
  http-server SOCKET LOG   HTTP/1.1 (http.server, keep-alive) on SOCKET;
                           appends "METHOD TARGET STATUS BODY_BYTES" to LOG
                           for every response: /status/N answers N,
                           anything else 200 with a short body.
  http-get SOCKET TARGET...
                           GETs of each TARGET on one keep-alive
                           connection; prints "STATUS BODY_BYTES" each.
  dgram-http DIR            SOCK_DGRAM and SOCK_SEQPACKET socketpairs, and a
                           SOCK_SEQPACKET listener in DIR with a client
                           (accept(2) makes that socket: no socket(2)
                           says its type), each carrying messages that
                           look like HTTP requests and responses: traffic
                           that must not be reported (not stream sockets).
  seqpacket-early GO       a SOCK_SEQPACKET socketpair made now (before a
                           tracer starts, so that no socket(2) says its
                           type), used once the file GO exists: HTTP-looking
                           messages, then 1 s open, then closed.
  http-hold SOCKET PATH HOLD
                           one HTTP/1.1 GET of PATH over SOCKET with
                           http.client, then keeps the connection open for
                           HOLD seconds before closing it (so that the
                           other end can be looked up while it lives);
                           prints "STATUS BODY_BYTES".
  ready SOCKET [TIMEOUT]   waits until something accepts on SOCKET.

Abstract names are given as @name.
"""
import os
import socket
import sys
import threading
import time


def sockaddr(path):
    """A path, or @name for the abstract namespace (unix(7))."""
    return "\0" + path[1:] if path.startswith("@") else path


def grpc_target(path):
    # grpc's own spelling: unix-abstract:NAME for the abstract namespace.
    return "unix-abstract:" + path[1:] if path.startswith("@") else "unix:" + path


def grpc_server(path, log):
    import grpc
    from concurrent import futures

    lock = threading.Lock()
    out = open(log, "a", buffering=1)

    def record(method, code, req, resp):
        with lock:
            out.write("%s %s %d %d\n" % (method, code, req, resp))

    def say(request, context):
        if request == b"missing":
            record("/hs.Echo/Say", "NOT_FOUND", len(request), 0)
            context.abort(grpc.StatusCode.NOT_FOUND, "no such greeting")
        resp = b"hello " + request
        record("/hs.Echo/Say", "OK", len(request), len(resp))
        return resp

    def count(request, context):
        n = int(request or b"0")
        sent = 0
        for i in range(n):
            m = b"item %d" % i
            sent += len(m)
            yield m
        record("/hs.Echo/Count", "OK", len(request), sent)

    handler = grpc.method_handlers_generic_handler("hs.Echo", {
        "Say": grpc.unary_unary_rpc_method_handler(say),
        "Count": grpc.unary_stream_rpc_method_handler(count),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((handler,))
    if not server.add_insecure_port(grpc_target(path)):
        sys.exit("cannot listen on " + path)
    server.start()
    print("listening on", path, flush=True)
    server.wait_for_termination()


def grpc_client(path, n):
    import grpc

    ok = errors = 0
    with grpc.insecure_channel(grpc_target(path)) as ch:
        say = ch.unary_unary("/hs.Echo/Say")
        count = ch.unary_stream("/hs.Echo/Count")
        for i in range(n):
            req = b"missing" if i == n // 2 else b"call %d" % i
            try:
                resp = say(req, timeout=10)
                if resp != b"hello " + req:
                    sys.exit("bad answer %r" % resp)
                ok += 1
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                errors += 1
        items = list(count(b"3", timeout=10))
        if items != [b"item 0", b"item 1", b"item 2"]:
            sys.exit("bad stream %r" % items)
        ok += 1
    print("calls", ok, errors, flush=True)


def line_serve(conn):
    with conn:
        f = conn.makefile("rwb")
        for line in f:
            words = line.split()
            if len(words) == 2 and words[0] == b"PING":
                f.write(b"PONG " + words[1] + b"\n")
            else:
                f.write(b"ERR\n")
            f.flush()


def line_server(path):
    if not path.startswith("@") and os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sockaddr(path))
    srv.listen(64)
    print("listening on", path, flush=True)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=line_serve, args=(c,), daemon=True).start()


def line_client(path, n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sockaddr(path))
    f = s.makefile("rwb")
    for i in range(n):
        f.write(b"PING %d\n" % i)
        f.flush()
        got = f.readline()
        if got != b"PONG %d\n" % i:
            sys.exit("line-client: got %r for PING %d" % (got, i))
    s.close()
    print("pongs", n, flush=True)


def http_server(path, log):
    import http.server
    import socketserver

    lock = threading.Lock()
    out = open(log, "a", buffering=1)

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def do_GET(self):
            status = 200
            if self.path.startswith("/status/"):
                status = int(self.path.split("/")[2])
            body = b"" if status in (204, 304) else b"unix says %d\n" % status
            # logged before it is sent: a client that has its response
            # finds it in the log (a line written after could still be
            # missing when the test reads the log)
            with lock:
                out.write("GET %s %d %d\n" % (self.path, status, len(body)))
            self.send_response(status)
            if status not in (204, 304):
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def address_string(self):
            return "unix"

    class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

        def server_bind(self):
            if not path.startswith("@") and os.path.exists(path):
                os.unlink(path)
            self.socket.bind(sockaddr(path))

    srv = S(path, H)
    print("listening on", path, flush=True)
    srv.serve_forever()


def unix_http_connection(path):
    import http.client

    class UnixConnection(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.connect(sockaddr(path))

    return UnixConnection("localhost")


def http_get(path, targets):
    c = unix_http_connection(path)
    for t in targets:
        c.request("GET", t)
        r = c.getresponse()
        body = r.read()
        print(r.status, len(body), flush=True)
    c.close()


def dgram_http(d):
    msgs = [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"POST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"]
    pairs = [socket.socketpair(socket.AF_UNIX, k)
             for k in (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET)]
    lpath = os.path.join(d, "seqpacket.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(lpath)
    srv.listen(1)
    cli = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    cli.connect(lpath)
    acc, _ = srv.accept()
    pairs.append((acc, cli))
    sent = 0
    for a, b in pairs:
        for m in msgs * 3:
            a.send(m)
            if b.recv(65536) != m:
                sys.exit("dgram-http: message mangled")
            b.send(m)
            if a.recv(65536) != m:
                sys.exit("dgram-http: message mangled")
            sent += 2
        a.close()
        b.close()
    srv.close()
    os.unlink(lpath)
    print("sent", sent, flush=True)


def seqpacket_early(go):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)
    for m in (b"GET /early HTTP/1.1\r\nHost: x\r\n\r\n",
              b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") * 3:
        a.send(m)
        if b.recv(65536) != m:
            sys.exit("seqpacket-early: message mangled")
        b.send(m)
        if a.recv(65536) != m:
            sys.exit("seqpacket-early: message mangled")
    time.sleep(1)
    a.close()
    b.close()
    print("done", flush=True)


def http_hold(path, target, hold):
    c = unix_http_connection(path)
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    print(r.status, len(body), flush=True)
    time.sleep(hold)
    c.close()


def ready(path, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sockaddr(path))
            return
        except OSError:
            time.sleep(0.1)
        finally:
            s.close()
    sys.exit("nothing accepts on " + path)


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == "grpc-server" and len(argv) == 4:
        grpc_server(path, argv[3])
    elif cmd == "grpc-client" and len(argv) == 4:
        grpc_client(path, int(argv[3]))
    elif cmd == "line-server" and len(argv) == 3:
        line_server(path)
    elif cmd == "line-client" and len(argv) == 4:
        line_client(path, int(argv[3]))
    elif cmd == "seqpacket-early" and len(argv) == 3:
        seqpacket_early(path)
    elif cmd == "dgram-http" and len(argv) == 3:
        dgram_http(path)
    elif cmd == "http-server" and len(argv) == 4:
        http_server(path, argv[3])
    elif cmd == "http-get" and len(argv) >= 4:
        http_get(path, argv[3:])
    elif cmd == "http-hold" and len(argv) == 5:
        http_hold(path, argv[3], float(argv[4]))
    elif cmd == "ready" and len(argv) in (3, 4):
        ready(path, float(argv[3]) if len(argv) == 4 else 20)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
