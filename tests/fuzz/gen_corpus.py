#!/usr/bin/python3
"""gen_corpus.py -- writes the fuzzer's seed corpus: real HTTP exchanges encoded as fuzz_pipeline.c's ops.

    tests/fuzz/gen_corpus.py [OUTDIR]    (default: tests/fuzz/corpus)

Writes seed-*.bin files, replacing older seed-* files and leaving crash-*
reproducers alone.  The encoding is described at the top of
fuzz_pipeline.c; the constants here must follow it.
"""
import gzip
import os
import struct
import sys
import zlib

OP_DATA, OP_CLOSE, OP_EXIT, OP_ROLE, OP_TICK, OP_RAW, OP_BAD, OP_RELEASE, OP_NEWGEN, OP_REPEAT = range(10)
OP_LEN_RAW = 6  # an op's head, before its payload

# conn indexes and their initial roles in the harness
CLIENT, SERVER, UNKNOWN, CLIENT2 = 0, 1, 2, 3
SEND, RECV = 0, 1

# indexes into the harness's amount[] table
AMOUNT = [0, 1, 2, 3, 7, 100, 1000, 4096, 16383, 16384, 65536, 65537,
          1 << 20, 10 << 20, 0xffffffff, 1 << 40]


def amt(n):
    return AMOUNT.index(n)


def header(max_body=1024, devnull=False, json=False, record=False, damage=False,
           conns=0, offset=0, reorder_max=0, reorder_ns=0, idle=0,
           no_redact=False, extra_redact=False, no_close_all=False,
           admit_odd=False, admit_addr=False, admit_container=False):
    h2 = (devnull << 0) | (json << 1) | (record << 2) | (damage << 3) | (conns << 4) | (offset << 6)
    h3 = reorder_max | (reorder_ns << 3) | (idle << 6)
    h4 = no_redact | (extra_redact << 1) | (no_close_all << 2) | (admit_odd << 3) | \
        (admit_addr << 4) | (admit_container << 5)
    return struct.pack('<HBBB', max_body, h2, h3, h4)


def op(kind, conn=0, arg=0, flags=0, payload=b'', opbits=0):
    return struct.pack('<BBBBH', kind | opbits, conn, arg, flags, len(payload)) + payload


def data(conn, direction, payload=b'', span=0, pos=0, a=0, b=0, cflags=0,
         addr=False, v6=False, step=0, comm=False, flip_start=False):
    """span: 0 = captured, 1 = +A, 2 = A uncaptured only, 3 = +A+B;
    pos: 0 contiguous, 1 hole of B, 2 overlap of B, 3 held back."""
    connb = conn | (cflags << 2) | (addr << 4) | (v6 << 5) | (step << 6)
    arg = direction | (amt(a) << 1)
    flags = span | (pos << 2) | (amt(b) << 4)
    return op(OP_DATA, connb, arg, flags, payload,
              (16 if comm else 0) | (32 if flip_start else 0))


def chunks(conn, direction, payload, size):
    """payload split into records of `size` bytes."""
    return b''.join(data(conn, direction, payload[i:i + size])
                    for i in range(0, len(payload), size))


def close(conn, keep=False):
    return op(OP_CLOSE, conn, 0, 1 if keep else 0)


def exit_(conn, keep=False, exec_=False):
    return op(OP_EXIT, conn, 0, (1 if keep else 0) | (2 if exec_ else 0))


def role(conn, r, now=True):
    return op(OP_ROLE, conn, 0, r | (4 if now else 0))


def tick(n):
    return op(OP_TICK, 0, amt(n), 0)


def raw(b):
    return op(OP_RAW, 0, 0, 0, b)


def bad(conn, kind, payload=b''):
    return op(OP_BAD, conn, 0, kind, payload)


def release(oldest_first=False):
    return op(OP_RELEASE, 0, 0, 1 if oldest_first else 0)


def newgen(conn):
    return op(OP_NEWGEN, conn)


def repeat(conn, direction, payload, n):
    """n contiguous records of the same payload (n <= 64 per op)."""
    out = b''
    while n > 0:
        k = min(n, 64)
        out += op(OP_REPEAT, conn, direction, k - 1, payload)
        n -= k
    return out


def exchange(conn, req, resp):
    """A request and its response on a conn of known role."""
    rq = SEND if conn in (CLIENT, CLIENT2) else RECV
    return data(conn, rq, req) + data(conn, 1 - rq, resp)


GET = b'GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n'
OK = b'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<h1>hi</h1>\r\n'
BODY = b'{"name": "httpsnoop", "tags": ["a", "b"], "n": 42}\n'
POST = (b'POST /api/items HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n'
        b'Content-Length: %d\r\n\r\n' % len(BODY)) + BODY
CREATED = b'HTTP/1.1 201 Created\r\nLocation: /api/items/7\r\nContent-Length: 0\r\n\r\n'
CHUNKED = (b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n'
           b'5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n')
TEXT = b'The quick brown fox jumps over the lazy dog. ' * 40


def unix_names(conn, local=b'', remote=b'', resolved=1, peer=0, comm=b'', llen=None, rlen=None):
    """A raw HS_EV_UNIX record (include/event.h: struct hs_event, then
    struct hs_unix) for the harness's conn (conn_id 1 + conn, its pid)."""
    role = {CLIENT: 1, SERVER: 2, UNKNOWN: 0, CLIENT2: 1}[conn]
    unix_addr = struct.pack('<HH16s', 1, 0, b'')
    ev = struct.pack('<QQQQIIiIIIBBBBI16s', 1000, 1 + conn, 0, 77, 1000 + (conn & 1), 1,
                     5, 0, 264, 0, 5, 0, role, 0, 0, b'fuzz') + unix_addr + unix_addr
    u = struct.pack('<QQiIBBBBI16s108s108s', 11, 12, 3 if role == 2 else -1, peer,
                    len(local) if llen is None else llen, len(remote) if rlen is None else rlen,
                    1, resolved, 0, comm, local, remote)
    assert len(ev) == 120 and len(u) == 264
    return raw(ev + u)


def gz(b):
    return gzip.compress(b, mtime=0)


def wsframe(payload, op=1, fin=True, mask=False, rsv1=False):
    """A WebSocket frame (RFC 6455 section 5.2)."""
    n = len(payload)
    b = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | op])
    m = 0x80 if mask else 0
    if n < 126:
        b += bytes([m | n])
    elif n < 65536:
        b += bytes([m | 126]) + struct.pack('>H', n)
    else:
        b += bytes([m | 127]) + struct.pack('>Q', n)
    if mask:
        key = b'\x37\xfa\x21\x3d'
        b += key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))
    else:
        b += payload
    return b


def seeds():
    s = {}
    h = header()
    s['get-client'] = h + exchange(CLIENT, GET, OK) + close(CLIENT)
    s['get-server'] = h + exchange(SERVER, GET, OK) + close(SERVER)
    s['get-unknown-role'] = h + data(UNKNOWN, SEND, GET, addr=True) + data(UNKNOWN, RECV, OK)
    s['get-unknown-role-resp-first'] = h + data(UNKNOWN, RECV, OK) + data(UNKNOWN, SEND, GET)
    s['post-json'] = header(json=True, devnull=True) + exchange(CLIENT, POST, CREATED)
    s['chunked'] = h + exchange(CLIENT, GET, CHUNKED)
    g = gz(TEXT)
    s['gzip'] = h + exchange(CLIENT, GET, b'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n' % len(g) + g)
    s['gzip-chunked-split'] = h + data(CLIENT, SEND, GET) + chunks(
        CLIENT, RECV, b'HTTP/1.1 200 OK\r\nContent-Encoding: x-gzip\r\nTransfer-Encoding: chunked\r\n\r\n'
        + b'%x\r\n' % len(g) + g + b'\r\n0\r\n\r\n', 37)
    z = zlib.compress(TEXT)
    s['deflate-zlib'] = header(max_body=64) + exchange(CLIENT, GET, b'HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n' % len(z) + z)
    co = zlib.compressobj(wbits=-15)
    rz = co.compress(TEXT) + co.flush()
    s['deflate-raw'] = h + exchange(CLIENT, GET, b'HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n' % len(rz) + rz)
    s['gzip-corrupt'] = h + exchange(CLIENT, GET, b'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 20\r\n\r\n\x1f\x8b\x08\x00garbage-garbage!')
    s['head'] = h + exchange(CLIENT, b'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n',
                             b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n') + exchange(CLIENT, GET, OK)
    s['expect-100'] = h + data(CLIENT, SEND, b'PUT /up HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n') + \
        data(CLIENT, RECV, b'HTTP/1.1 100 Continue\r\n\r\n') + data(CLIENT, SEND, b'abcde') + \
        data(CLIENT, RECV, b'HTTP/1.1 204 No Content\r\n\r\n')
    s['upgrade-101'] = h + data(CLIENT, SEND, b'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                                b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n') + \
        data(CLIENT, RECV, b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello') + \
        data(CLIENT, SEND, b'\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58') + data(CLIENT, RECV, b'GET / HTTP/1.1\r\n\r\n')
    s['upgrade-refused'] = h + exchange(CLIENT, b'GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', OK) + exchange(CLIENT, GET, OK)
    s['connect'] = h + exchange(SERVER, b'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
                                b'HTTP/1.1 200 Connection Established\r\n\r\n') + \
        data(SERVER, RECV, b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03') + data(SERVER, SEND, b'\x16\x03\x03\x00\x7a')
    s['pipelined'] = h + data(CLIENT, SEND, GET + POST + b'DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n') + \
        data(CLIENT, RECV, OK + CREATED + b'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found')
    s['close-delimited'] = h + exchange(CLIENT, b'GET / HTTP/1.0\r\n\r\n', b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n' + TEXT[:200]) + close(CLIENT)
    s['close-delimited-exit'] = h + exchange(SERVER, b'GET / HTTP/1.0\r\n\r\n', b'HTTP/1.0 200 OK\r\n\r\nbody until close') + exit_(SERVER)
    s['http10-keepalive'] = h + exchange(CLIENT, b'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n',
                                         b'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok') + exchange(CLIENT, GET, OK)
    s['garbage-then-http'] = h + data(CLIENT, SEND, b'\x00\x01\x02garbage\xff\xfe\r\n\r\n') + \
        data(CLIENT, SEND, GET) + data(CLIENT, RECV, b'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n') + data(CLIENT, RECV, OK)
    s['bytewise'] = header(max_body=16) + chunks(CLIENT, SEND, POST, 1) + chunks(CLIENT, RECV, CHUNKED, 1)
    s['204-304-with-length'] = h + exchange(CLIENT, GET, b'HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n') + \
        exchange(CLIENT, GET, b'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n') + exchange(CLIENT, GET, OK)
    # capture gaps: a body with uncaptured bytes, a record past the cap
    big = b'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n' % (100 + (10 << 20))
    s['gap-10mb'] = h + data(CLIENT, SEND, GET) + data(CLIENT, RECV, big + b'x' * 100, span=1, a=10 << 20) + exchange(CLIENT, GET, OK)
    s['gap-4gb-close-delimited'] = h + data(CLIENT, SEND, b'GET /big HTTP/1.0\r\n\r\n') + \
        data(CLIENT, RECV, b'HTTP/1.0 200 OK\r\nContent-Type: video/mp4\r\n\r\n') + \
        data(CLIENT, RECV, span=2, a=0xffffffff, cflags=2) + data(CLIENT, RECV, b'tail') + close(CLIENT)
    s['hole-1tb'] = header(reorder_max=1) + data(CLIENT, SEND, GET) + \
        data(CLIENT, RECV, b'HTTP/1.1 200 OK\r\nContent-Length: 1099511627876\r\n\r\n' + b'x' * 50) + \
        data(CLIENT, RECV, b'y' * 50, pos=1, b=1 << 40) + exchange(CLIENT, GET, OK)
    s['gap-in-headers'] = h + data(CLIENT, SEND, GET) + data(CLIENT, RECV, b'HTTP/1.1 200 OK\r\nContent-Le', span=1, a=100) + \
        data(CLIENT, RECV, b'ngth: 5\r\n\r\nhello') + exchange(CLIENT, GET, OK)
    s['sendfile'] = h + data(CLIENT, SEND, GET) + data(SERVER, RECV, GET) + \
        data(SERVER, SEND, b'HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n\r\n') + data(SERVER, SEND, span=2, a=65536, cflags=2) + \
        data(SERVER, RECV, GET) + data(SERVER, SEND, OK)
    s['chunked-gap'] = h + data(CLIENT, SEND, GET) + data(CLIENT, RECV, b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000\r\nabc', span=1, a=4096) + \
        data(CLIENT, RECV, b'\r\n0\r\n\r\n')
    # reordering: records held back and delivered late, holes, overlaps
    s['out-of-order'] = header(reorder_max=6) + data(CLIENT, SEND, GET[:10], pos=3) + data(CLIENT, SEND, GET[10:]) + release() + \
        data(CLIENT, RECV, OK[:20], pos=3) + data(CLIENT, RECV, OK[20:40], pos=3) + data(CLIENT, RECV, OK[40:]) + release(True)
    s['overlap-retransmit'] = h + data(CLIENT, SEND, GET) + data(CLIENT, RECV, OK[:30]) + \
        data(CLIENT, RECV, OK[20:40], pos=2, b=100) + data(CLIENT, RECV, OK[10:], pos=2, b=16383)
    s['hole-timeout'] = header(reorder_ns=4) + data(CLIENT, SEND, GET) + data(CLIENT, RECV, OK[:20]) + \
        data(CLIENT, RECV, b'more', pos=1, b=100) + tick(1000) + exchange(CLIENT, GET, OK)
    s['reorder-overflow'] = header(reorder_max=1) + data(CLIENT, SEND, GET) + \
        data(CLIENT, RECV, OK[:10], pos=1, b=7) + data(CLIENT, RECV, OK[10:30], pos=1, b=3) + data(CLIENT, RECV, OK[30:])
    s['unknown-no-start'] = h + data(UNKNOWN, SEND, GET, flip_start=True) + data(UNKNOWN, RECV, OK) + tick(1 << 20)
    s['tls-exec'] = header(json=True, devnull=True) + exit_(CLIENT, exec_=True) + \
        data(CLIENT, SEND, GET, cflags=3) + data(CLIENT, RECV, OK, cflags=3) + exit_(CLIENT, exec_=True) + \
        exchange(CLIENT, GET, OK)
    # connection lifetimes
    s['evict'] = header(conns=1) + data(CLIENT, SEND, GET) + data(SERVER, RECV, POST) + data(CLIENT, RECV, OK) + data(SERVER, SEND, CREATED)
    s['idle'] = header(idle=1) + data(CLIENT, SEND, GET) + tick(10 << 20) + data(CLIENT, RECV, OK)
    s['exit-shared'] = h + data(CLIENT, SEND, GET) + data(UNKNOWN, SEND, POST) + exit_(CLIENT) + data(CLIENT, RECV, OK)
    s['close-reuse'] = h + data(CLIENT, SEND, GET) + close(CLIENT, keep=True) + data(CLIENT, RECV, OK) + role(CLIENT, 2) + exchange(CLIENT, GET, OK)
    s['newgen'] = h + data(CLIENT2, SEND, GET) + newgen(CLIENT2) + exchange(CLIENT2, POST, CREATED)
    # a server that answers before the request body ends (RFC 9110 15.5.14)
    s['early-413'] = h + data(SERVER, RECV, b'POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\nAAAA') + \
        data(SERVER, SEND, b'HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n') + \
        data(SERVER, RECV, b'B' * 500) + data(SERVER, RECV, span=2, a=65536)
    # a client that never reads: more than HTTP1_PIPELINE_MAX requests
    s['pipeline-overflow'] = header(max_body=8) + data(CLIENT, SEND, GET) + \
        data(CLIENT, RECV, b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc') + \
        data(CLIENT, SEND, b'GET / HTTP/1.1\r\n\r\n' * 260) + data(CLIENT, RECV, b'd' * 97) + close(CLIENT)
    s['pipeline-overflow-repeat'] = header(max_body=8) + data(CLIENT, SEND, GET) + \
        data(CLIENT, RECV, b'HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 100\r\n\r\n' + gz(b'abc')[:5]) + \
        repeat(CLIENT, SEND, b'GET / HTTP/1.1\r\n\r\n', 258) + data(CLIENT, RECV, b'd' * 10) + repeat(CLIENT, RECV, OK, 3)
    s['head-over-64k'] = h + data(SERVER, RECV, b'POST / HTTP/1.1\r\nContent-Length: 3\r\n') + \
        repeat(SERVER, RECV, b'X-Fill: ' + b'f' * 1000 + b'\r\n', 70) + data(SERVER, RECV, b'Authorization: Basic c2VjcmV0\r\n\r\nabc') + \
        data(SERVER, SEND, CREATED)
    s['admit'] = header(admit_odd=True, admit_addr=True, admit_container=True, json=True, devnull=True) + \
        data(CLIENT, SEND, b'\x1b]evil\xe2\x80\xae', span=2, comm=True) + exchange(CLIENT, GET, OK) + \
        exchange(SERVER, GET, OK) + data(UNKNOWN, SEND, GET, addr=True) + data(UNKNOWN, RECV, OK, addr=True)
    s['free-without-close'] = header(no_close_all=True, record=True) + data(CLIENT, SEND, GET) + \
        data(CLIENT, RECV, OK[20:], pos=1, b=100) + data(SERVER, RECV, POST[:30])
    # output escaping and limits
    s['hostile-bytes'] = header(json=True, devnull=True) + \
        data(CLIENT, SEND, b'\x1b[31m\xe2\x80\xae\x9bevil\xff', span=2, comm=True) + \
        data(CLIENT, SEND, b'GET /\xe2\x80\xae%00\xc3\x28?x=\xf0\x9f\x98\x80 HTTP/1.1\r\nX-Bidi: \xe2\x81\xa6abc\xe2\x80\x8f\r\n'
        b'X-Bin: \xff\xfe\x80\x7f\r\n\r\n') + \
        data(CLIENT, RECV, b'HTTP/1.1 200 \xc2\x9b\x1b]0;pwn\x07\r\nContent-Length: 12\r\n\r\n\xe2\x80\xa8line\rx\x00\xc2\x85\xed\xa0\x80')
    s['many-headers'] = h + exchange(CLIENT, b'GET / HTTP/1.1\r\n' + b''.join(b'X-H%d: %d\r\n' % (i, i) for i in range(300)) + b'\r\n', OK)
    s['long-header'] = header(max_body=0) + exchange(CLIENT, b'GET / HTTP/1.1\r\nX-Long: ' + b'v' * 16000 + b'\r\n\r\n', OK)
    s['redact'] = header(extra_redact=True) + exchange(CLIENT,
        b'GET /cb?code=1&token=s3cret&key=&x HTTP/1.1\r\nAuthorization: Bearer abc.def.ghi\r\nCookie: sid=1; x=2\r\n'
        b'Proxy-Authorization: Basic\r\nX-Api-Key: k\r\nX-Token: tt\r\n\r\n',
        b'HTTP/1.1 200 OK\r\nSet-Cookie: sid=2; HttpOnly\r\nContent-Length: 0\r\n\r\n')
    s['no-redact'] = header(no_redact=True) + exchange(CLIENT, b'GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n', OK)
    s['binary-body'] = header(max_body=40) + exchange(CLIENT, GET, b'HTTP/1.1 200 OK\r\nContent-Length: 64\r\n\r\n' + bytes(range(64)))
    s['unpaired-response'] = h + data(CLIENT, RECV, OK) + exchange(CLIENT, GET, OK)
    s['clock-extremes'] = header(offset=2, json=True, devnull=True) + exchange(CLIENT, GET, OK) + data(CLIENT, SEND, GET, step=3) + \
        data(CLIENT, RECV, OK, step=2)
    # --record / --replay round trips
    s['record-pipelined'] = header(record=True) + data(CLIENT, SEND, GET + POST) + data(CLIENT, RECV, OK) + \
        data(CLIENT, RECV, CREATED, pos=3) + release() + data(SERVER, RECV, GET) + data(SERVER, SEND, CHUNKED) + close(SERVER)
    s['record-damaged'] = header(record=True, damage=True) + exchange(CLIENT, GET, OK) + exchange(SERVER, POST, CREATED)
    s['record-bad-records'] = header(record=True, offset=3) + exchange(CLIENT, GET, OK) + \
        b''.join(bad(CLIENT, k, b'\x03GET / HTTP/1.1\r\n\r\n') for k in range(10)) + raw(b'\x01' * 200) + exchange(CLIENT, GET, OK)
    s['bad-records'] = h + b''.join(bad(SERVER, k) for k in range(10)) + raw(b'') + raw(b'HSNOOPRC') + exchange(SERVER, GET, OK)
    # framing anomalies (RFC 9112): smuggling, duplicates, unknown length,
    # folds, whitespace before a colon, bare LF
    s['anomalies'] = header(json=True, devnull=True) + exchange(SERVER,
        b'POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n'
        b'0\r\n\r\nGET /s HTTP/1.1\r\n\r\n', OK + OK) + \
        exchange(SERVER, b'POST /b HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc', CREATED) + \
        exchange(SERVER, b'POST /c HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n', CREATED) + \
        chunks(SERVER, RECV, b'GET /d HTTP/1.1\nX-Fold: a\r\n  b\r\nX-Sp : 1\n\n', 5) + \
        data(SERVER, SEND, b'HTTP/1.1 200 OK\nContent-Length: 5, 6\n\nhello')
    # WebSocket after a 101: compressed (permessage-deflate, context
    # taken over), fragmented with a ping between, masked, closed
    co = zlib.compressobj(wbits=-15)
    c1 = (co.compress(TEXT[:300]) + co.flush(zlib.Z_SYNC_FLUSH))[:-4]
    c2 = (co.compress(TEXT[:300]) + co.flush(zlib.Z_SYNC_FLUSH))[:-4]
    s['websocket'] = header(json=True, devnull=True) + data(SERVER, RECV,
        b'GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
        b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n') + \
        data(SERVER, SEND, b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
             b'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n' + wsframe(c1, rsv1=True)) + \
        data(SERVER, SEND, wsframe(c2, rsv1=True)) + \
        chunks(SERVER, RECV, wsframe(b'frag one ', fin=False, mask=True) + wsframe(b'p', op=9, mask=True) +
               wsframe(b'frag two', op=0, mask=True) + wsframe(bytes(range(200)), op=2, mask=True), 7) + \
        data(SERVER, SEND, wsframe(b'\x03\xe8bye', op=8)) + data(SERVER, RECV, wsframe(b'\x03\xe8', op=8, mask=True)) + \
        close(SERVER)
    # HTTP/2 and gRPC through the whole pipeline: test_h2's captures of
    # real peers, seen from the start (client, server) and joined midway.
    for name in ('curl-get', 'curl-post', 'grpcio', 'nghttp-nghttpd'):
        recs = list(h2_capture(name))
        for conn, tag in ((CLIENT, 'client'), (SERVER, 'server')):
            s['h2-%s-%s' % (name, tag)] = header(json=(conn == SERVER)) + \
                h2_records(conn, recs) + close(conn)
        s['h2-%s-midway' % name] = header() + h2_records(UNKNOWN, recs[len(recs) // 3:]) + close(UNKNOWN)
    # Unix sockets: names before the bytes, a hostile abstract name, an
    # unresolved record, lengths past sun_path, a record cut short
    s['unix'] = header(json=True, devnull=True, record=True) + \
        unix_names(SERVER, b'/run/podman/podman.sock', peer=4242, comm=b'docker') + exchange(SERVER, GET, OK) + \
        unix_names(CLIENT, remote=b'@\x1b[31m"x\\\x7f\n\x00y') + exchange(CLIENT, POST, CREATED) + \
        unix_names(UNKNOWN, b'/a', b'/b', resolved=0) + unix_names(CLIENT2, b'l' * 108, b'r' * 108, llen=255, rlen=200) + \
        exchange(CLIENT2, GET, OK) + raw(unix_names(CLIENT, b'/x')[OP_LEN_RAW:OP_LEN_RAW + 200])
    return s


def h2_capture(name):
    """(from_client, bytes) records of tests/unit/h2/NAME.cap: b'C' or b'S',
    a 4-byte big-endian length, the bytes."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'unit', 'h2', name + '.cap')
    d = open(path, 'rb').read()
    off = 0
    while off < len(d):
        n = struct.unpack('>I', d[off + 1:off + 5])[0]
        yield d[off:off + 1] == b'C', d[off + 5:off + 5 + n]
        off += 5 + n


def h2_records(conn, recs):
    """The records as data ops on conn: the client's bytes are sent by a
    client (and by an unknown conn), received by a server."""
    out = b''
    for from_client, b in recs:
        d = SEND if from_client == (conn != SERVER) else RECV
        out += chunks(conn, d, b, 65535)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus')
    all_seeds = seeds()
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        if name.startswith('seed-'):
            os.unlink(os.path.join(out, name))
    for name, blob in sorted(all_seeds.items()):
        with open(os.path.join(out, 'seed-%s.bin' % name), 'wb') as f:
            f.write(blob)
    print('gen_corpus: %d seeds in %s' % (len(all_seeds), out))


if __name__ == '__main__':
    main()
