#!/usr/bin/python3
"""grpc_peer.py -- a gRPC server and client with generic handlers (no protoc), for test captures.

  grpc_peer.py server PORT          serves demo.Echo until killed
  grpc_peer.py client PORT          makes one call of each kind

demo.Echo/Unary echoes a message; ServerStream answers with three;
ClientStream answers once after three; Bidi echoes each; Fail ends with
NOT_FOUND and a message that needs percent-encoding.  Messages are raw
protobuf bytes built by hand: field 1 a string, field 2 a varint.
"""
import sys
import time
from concurrent import futures

import grpc


def pb(name, n):
    s = name.encode()
    return b"\x0a" + bytes([len(s)]) + s + b"\x10" + bytes([n])


def unary(req, ctx):
    return req


def server_stream(req, ctx):
    for i in range(3):
        yield pb("item", i + 1)


def client_stream(it, ctx):
    return pb("total", sum(1 for _ in it))


def bidi(it, ctx):
    for m in it:
        yield m


def fail(req, ctx):
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
    {"server": server, "client": client}[sys.argv[1]](int(sys.argv[2]))
