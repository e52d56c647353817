#!/usr/bin/python3
"""grpc_peer.py -- a gRPC server and client with generic handlers (no protoc), for the h2 tests and test captures.

  grpc_peer.py server PORT [LOG]    serves demo.Echo until killed
  grpc_peer.py client PORT          makes one call of each kind

demo.Echo/Unary echoes a message; ServerStream answers with three;
ClientStream answers once after three; Bidi echoes each; Fail ends with
NOT_FOUND and a message that needs percent-encoding.  Messages are raw
protobuf bytes built by hand: field 1 a string, field 2 a varint.  The
client makes a second Unary call gzip-compressed.  The server's LOG gets
its own record of each call it handled, in the order they ended:
"METHOD STATUS REQUEST_MESSAGES RESPONSE_MESSAGES" (the ground truth).
"""
import sys
import threading
from concurrent import futures

import grpc

LOG = None
LOCK = threading.Lock()


def record(method, status, n_in, n_out):
    if LOG:
        with LOCK, open(LOG, "a") as f:
            f.write("%s %d %d %d\n" % (method, status, n_in, n_out))


def pb(name, n):
    s = name.encode()
    return b"\x0a" + bytes([len(s)]) + s + b"\x10" + bytes([n])


def unary(req, ctx):
    record("Unary", 0, 1, 1)
    return req


def server_stream(req, ctx):
    for i in range(3):
        yield pb("item", i + 1)
    record("ServerStream", 0, 1, 3)


def client_stream(it, ctx):
    n = sum(1 for _ in it)
    record("ClientStream", 0, n, 1)
    return pb("total", n)


def bidi(it, ctx):
    n = 0
    for m in it:
        n += 1
        yield m
    record("Bidi", 0, n, n)


def fail(req, ctx):
    record("Fail", 5, 1, 0)
    ctx.abort(grpc.StatusCode.NOT_FOUND, "no such user: \u00e9 50%")


def server(port):
    ident = lambda b: b
    h = grpc.method_handlers_generic_handler("demo.Echo", {
        "Unary": grpc.unary_unary_rpc_method_handler(unary, ident, ident),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream, ident, ident),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream, ident, ident),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi, ident, ident),
        "Fail": grpc.unary_unary_rpc_method_handler(fail, ident, ident),
    })
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    s.add_generic_rpc_handlers((h,))
    s.add_insecure_port("127.0.0.1:%d" % port)
    s.start()
    s.wait_for_termination()


def client(port):
    ch = grpc.insecure_channel("127.0.0.1:%d" % port)
    ident = lambda b: b
    u = ch.unary_unary("/demo.Echo/Unary", ident, ident)
    print(u(pb("alice", 42)))
    print(u(pb("bob", 7), compression=grpc.Compression.Gzip))
    print(list(ch.unary_stream("/demo.Echo/ServerStream", ident, ident)(pb("n", 3))))
    print(ch.stream_unary("/demo.Echo/ClientStream", ident, ident)(
        iter([pb("a", 1), pb("b", 2), pb("c", 3)])))
    print(list(ch.stream_stream("/demo.Echo/Bidi", ident, ident)(
        iter([pb("x", 1), pb("y", 2)]))))
    try:
        ch.unary_unary("/demo.Echo/Fail", ident, ident)(pb("eve", 0))
    except grpc.RpcError as e:
        print(e.code(), e.details())
    ch.close()


if __name__ == "__main__":
    if len(sys.argv) > 3:
        LOG = sys.argv[3]
    {"server": server, "client": client}[sys.argv[1]](int(sys.argv[2]))
