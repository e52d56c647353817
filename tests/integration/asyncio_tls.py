#!/usr/bin/python3
# asyncio_tls.py -- TLS peers that drive OpenSSL through memory BIOs (python's asyncio): a websockets echo server and client, a stdlib HTTP/1.1 server and client.
"""Usage:
  asyncio_tls.py ws-server PORT CERT KEY
  asyncio_tls.py ws-client PORT N LOG      N text messages; LOG: "sent X" and
                                           "recv X" lines, in order
  asyncio_tls.py http-server PORT CERT KEY [LOG]
                                           keep-alive HTTP/1.1: 200 and
                                           "you asked for TARGET\\n"; LOG
                                           gets a JSON line per request:
                                           target, and its socket's local
                                           and remote addresses
  asyncio_tls.py http-client PORT NAME N EXPECT [GO [AGAIN]]
      one connection, N requests of /NAME/0, /NAME/1, ...; EXPECT gets
      "GET TARGET STATUS BODY_SIZE" for each.  With GO: first a request of
      /NAME/before, then EXPECT.ready holds the local port, and the N wait
      until the file GO exists.  EXPECT.addr gets the socket's local and
      remote addresses, "IP:PORT IP:PORT".  With AGAIN: once that
      connection is closed, a second one (on the fd it freed, likely)
      requests /NAME-again/0, writes AGAIN.expect and .expect.addr, creates
      AGAIN.ready and stays open until the file AGAIN.done exists.

asyncio's SSL transport feeds the socket's bytes to OpenSSL through memory
BIOs, so SSL_read and SSL_write make no syscall: the test of how httpsnoop
ties such SSL objects to their sockets.
"""
import asyncio
import json
import os
import ssl
import sys


def server_ctx(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


async def ws_server(port, cert, key):
    import websockets

    async def echo(ws, path=None):
        async for m in ws:
            await ws.send(m)

    async with websockets.serve(echo, "127.0.0.1", port, ssl=server_ctx(cert, key)):
        await asyncio.Future()


async def ws_client(port, n, log):
    import websockets

    async with websockets.connect("wss://127.0.0.1:%d/chat" % port, ssl=client_ctx()) as ws:
        with open(log, "w") as f:
            for i in range(n):
                m = "message %d" % i
                await ws.send(m)
                f.write("sent %s\n" % m)
                f.write("recv %s\n" % await ws.recv())


def addr(a):
    return "%s:%d" % (a[0], a[1])


async def http_server(port, cert, key, log):
    async def handle(r, w):
        local = addr(w.get_extra_info("sockname"))
        remote = addr(w.get_extra_info("peername"))
        while True:
            line = await r.readline()
            if not line:
                break
            target = line.split()[1].decode()
            if log:
                with open(log, "a") as f:
                    f.write(json.dumps({"target": target, "local": local,
                                        "remote": remote}) + "\n")
            while (await r.readline()) not in (b"\r\n", b""):
                pass
            body = ("you asked for %s\n" % target).encode()
            w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(body) + body)
            await w.drain()
        w.close()

    srv = await asyncio.start_server(handle, "127.0.0.1", port, ssl=server_ctx(cert, key))
    async with srv:
        await srv.serve_forever()


async def get(r, w, target):
    w.write(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % target).encode())
    await w.drain()
    status = int((await r.readline()).split()[1])
    size = 0
    while True:
        h = await r.readline()
        if h == b"\r\n":
            break
        if h.lower().startswith(b"content-length:"):
            size = int(h.split(b":")[1])
    await r.readexactly(size)
    return status, size


async def wait_file(path):
    while not os.path.exists(path):
        await asyncio.sleep(0.05)


async def connect(port, expect):
    r, w = await asyncio.open_connection("127.0.0.1", port, ssl=client_ctx())
    with open(expect + ".addr", "w") as f:
        f.write("%s %s\n" % (addr(w.get_extra_info("sockname")),
                             addr(w.get_extra_info("peername"))))
    return r, w


async def http_client(port, name, n, expect, go, again):
    r, w = await connect(port, expect)
    if go:
        await get(r, w, "/%s/before" % name)
        with open(expect + ".ready", "w") as f:
            f.write("%d\n" % w.get_extra_info("sockname")[1])
        await wait_file(go)
    with open(expect, "w") as f:
        for i in range(n):
            target = "/%s/%d" % (name, i)
            status, size = await get(r, w, target)
            f.write("GET %s %d %d\n" % (target, status, size))
    w.close()
    await w.wait_closed()
    if again:
        r, w = await connect(port, again + ".expect")
        target = "/%s-again/0" % name
        status, size = await get(r, w, target)
        with open(again + ".expect", "w") as f:
            f.write("GET %s %d %d\n" % (target, status, size))
        open(again + ".ready", "w").close()
        await wait_file(again + ".done")
        w.close()
        await w.wait_closed()


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    if mode == "ws-server":
        asyncio.run(ws_server(int(a[0]), a[1], a[2]))
    elif mode == "ws-client":
        asyncio.run(ws_client(int(a[0]), int(a[1]), a[2]))
    elif mode == "http-server":
        asyncio.run(http_server(int(a[0]), a[1], a[2], a[3] if len(a) > 3 else None))
    elif mode == "http-client":
        asyncio.run(http_client(int(a[0]), a[1], int(a[2]), a[3], a[4] if len(a) > 4 else None,
                                a[5] if len(a) > 5 else None))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
