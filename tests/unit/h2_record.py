#!/usr/bin/python3
"""h2_record.py -- records real HTTP/2 connections for test_h2's capture fixtures, and writes what an independent decoder reads in them.

Usage:
  h2_record.py relay LISTEN_PORT UPSTREAM_PORT OUT_PREFIX
      Relays TCP connections from 127.0.0.1:LISTEN_PORT to
      127.0.0.1:UPSTREAM_PORT until killed (SIGTERM) and writes each
      connection's bytes, one record per recv() in the order seen, to
      OUT_PREFIX-N.cap (N from 1).
  h2_record.py expect FILE.cap
      Writes FILE.expect: the frames of both directions as Python's own
      hyperframe and hpack (python3-h2's) decode them, in test_h2's log
      format: the ground truth test_h2 compares its decoding with.  And
      FILE.txns: one line per stream, what a transaction of it holds,
      for test_h2conn:
        s=ID METHOD PATH STATUS req=BYTES resp=BYTES pushed=0|1 grpc=G
      (STATUS - without a final response; G is - or
      STATUS/REQUEST_MESSAGES/RESPONSE_MESSAGES, STATUS - if none).

A .cap file is a run of records: one byte 'C' (client to server) or 'S',
a 32-bit big-endian length, then that many bytes.
"""
import os
import select
import signal
import socket
import struct
import sys

from hyperframe.frame import (ContinuationFrame, DataFrame, Frame,
                              GoAwayFrame, HeadersFrame, PingFrame,
                              PriorityFrame, PushPromiseFrame, RstStreamFrame,
                              SettingsFrame, WindowUpdateFrame)
from hyperframe.exceptions import UnknownFrameError
import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

ERRORS = ["NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR",
          "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT", "STREAM_CLOSED",
          "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
          "COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM",
          "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"]


def relay(listen_port, upstream_port, prefix):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen_port))
    ls.listen(16)
    conns = []  # [client, server, file]
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    n = 0
    while not stop:
        socks = [ls] + [s for c in conns for s in c[:2]]
        try:
            r, _, _ = select.select(socks, [], [], 0.2)
        except InterruptedError:
            continue
        for s in r:
            if s is ls:
                cl, _ = ls.accept()
                up = socket.create_connection(("127.0.0.1", upstream_port))
                n += 1
                conns.append([cl, up, open("%s-%d.cap" % (prefix, n), "wb")])
                continue
            for c in conns:
                if s in c[:2]:
                    break
            else:
                continue
            data = s.recv(65536)
            other = c[1] if s is c[0] else c[0]
            if not data:
                for x in c[:2]:
                    x.close()
                c[2].close()
                conns.remove(c)
                continue
            c[2].write((b"C" if s is c[0] else b"S") +
                       struct.pack(">I", len(data)) + data)
            other.sendall(data)
    for c in conns:
        c[2].close()


def text(b):
    """test_h2's put_text: printable ASCII as is, others as \\xNN."""
    out = []
    for c in b:
        if 0x20 <= c < 0x7f and c != 0x5c:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return "".join(out)


class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.method = self.path = None
        self.status = None
        self.body = [0, 0]
        self.pushed = False
        self.grpc = False
        self.grpc_status = None
        self.data = [b"", b""]


def grpc_count(b):
    """Messages begun in a gRPC direction's bytes (5-byte prefixes)."""
    n = off = 0
    while off + 5 <= len(b):
        n += 1
        off += 5 + struct.unpack(">I", b[off + 1:off + 5])[0]
    return n


class Direction:
    def __init__(self, name, preface):
        self.name = name
        self.buf = b""
        self.need_preface = preface
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 30
        self.block = None  # [first frame, fragment bytes]
        self.pending = []  # table sizes this side sent, not yet acked
        self.peer = None
        self.streams = None  # shared by both directions

    def feed(self, data, log):
        self.buf += data
        if self.need_preface:
            if len(self.buf) < len(PREFACE):
                return
            assert self.buf.startswith(PREFACE), "no preface"
            self.buf = self.buf[len(PREFACE):]
            self.need_preface = False
        while len(self.buf) >= 9:
            try:
                f, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
            except UnknownFrameError as e:
                f, length = None, e.length
            if len(self.buf) < 9 + length:
                return
            body = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            if f is None:
                continue
            f.parse_body(memoryview(body))
            self.frame(f, log)

    def frame(self, f, log):
        if isinstance(f, (HeadersFrame, PushPromiseFrame)):
            self.block = [f, bytes(f.data)]
        elif isinstance(f, ContinuationFrame):
            self.block[1] += bytes(f.data)
        if isinstance(f, (HeadersFrame, PushPromiseFrame, ContinuationFrame)):
            if "END_HEADERS" in f.flags:
                self.headers(log)
            return
        if isinstance(f, DataFrame):
            st = self.streams.get(f.stream_id)
            if st:
                k = 0 if self.name == "C" else 1
                st.body[k] += len(f.data)
                st.data[k] += bytes(f.data)
            log.append("DATA s=%d len=%d%s" % (
                f.stream_id, len(f.data),
                " es" if "END_STREAM" in f.flags else ""))
        elif isinstance(f, SettingsFrame):
            if "ACK" in f.flags:
                log.append("SETTINGS ack")
                # This side acknowledges the peer's oldest SETTINGS: the
                # table size it set applies to this side's blocks.
                if self.peer.pending:
                    size = self.peer.pending.pop(0)
                    if size is not None:
                        self.decoder.header_table_size = size
                return
            s = "SETTINGS" + "".join(
                " %d=%d" % (k, v) for k, v in sorted(f.settings.items())
                if 1 <= k <= 8 and k != 7)
            unknown = sum(1 for k in f.settings if not 1 <= k <= 8 or k == 7)
            if unknown:
                s += " unknown=%d" % unknown
            log.append(s)
            self.pending.append(f.settings.get(1))
        elif isinstance(f, RstStreamFrame):
            log.append("RST_STREAM s=%d %s" % (f.stream_id, ERRORS[f.error_code]
                                               if f.error_code < len(ERRORS) else "?"))
        elif isinstance(f, GoAwayFrame):
            log.append('GOAWAY last=%d %s "%s"' % (
                f.last_stream_id, ERRORS[f.error_code]
                if f.error_code < len(ERRORS) else "?",
                text(f.additional_data[:128])))
        elif isinstance(f, WindowUpdateFrame):
            log.append("WINDOW_UPDATE s=%d +%d" % (f.stream_id,
                                                   f.window_increment))
        elif isinstance(f, PingFrame):
            log.append("PING%s %s" % (" ack" if "ACK" in f.flags else "",
                                      f.opaque_data.hex()))
        elif isinstance(f, PriorityFrame):
            log.append("PRIORITY s=%d dep=%d w=%d%s" % (
                f.stream_id, f.depends_on, f.stream_weight,
                " excl" if f.exclusive else ""))

    def headers(self, log):
        first, block = self.block
        fields = self.decoder.decode(block, raw=True)
        s = "%s s=%d" % ("PUSH_PROMISE" if isinstance(first, PushPromiseFrame)
                         else "HEADERS", first.stream_id)
        if isinstance(first, PushPromiseFrame):
            s += " promised=%d" % first.promised_stream_id
        if "END_STREAM" in first.flags:
            s += " es"
        if "PRIORITY" in first.flags:
            s += " prio dep=%d w=%d%s" % (first.depends_on,
                                          first.stream_weight,
                                          " excl" if first.exclusive else "")
        s += " {" + "; ".join("%s: %s" % (text(n), text(v))
                              for n, v in fields) + "}"
        log.append(s)
        self.block = None
        self.transaction(first, dict((n, v) for n, v in fields))

    def transaction(self, first, f):
        sid = first.stream_id
        if isinstance(first, PushPromiseFrame):
            st = self.streams[first.promised_stream_id] = Stream(first.promised_stream_id)
            st.pushed = True
        elif self.name == "C":
            st = self.streams.get(sid)
            if st is None:
                st = self.streams[sid] = Stream(sid)
            else:
                return  # request trailers
        else:
            st = self.streams.get(sid)
            if st is None:
                return
            if st.status is None and b":status" in f:
                if int(f[b":status"]) >= 200:
                    st.status = int(f[b":status"])
                    if b"grpc-status" in f:
                        st.grpc_status = int(f[b"grpc-status"])
            elif b"grpc-status" in f:
                st.grpc_status = int(f[b"grpc-status"])
            return
        st.method = f.get(b":method")
        st.path = f.get(b":path")
        st.grpc = f.get(b"content-type", b"").startswith(b"application/grpc")


def expect(path):
    c = Direction("C", True)
    s = Direction("S", False)
    c.peer, s.peer = s, c
    c.streams = s.streams = {}
    log = []
    with open(path, "rb") as f:
        while True:
            h = f.read(5)
            if not h:
                break
            d, n = h[:1], struct.unpack(">I", h[1:])[0]
            (c if d == b"C" else s).feed(f.read(n), log)
    with open(path[:-4] + ".expect", "w") as f:
        f.write("".join(line + "\n" for line in log))
    with open(path[:-4] + ".txns", "w") as f:
        for sid in sorted(c.streams):
            st = c.streams[sid]
            g = "-"
            if st.grpc:
                g = "%s/%d/%d" % ("-" if st.grpc_status is None else st.grpc_status,
                                  grpc_count(st.data[0]), grpc_count(st.data[1]))
            f.write("s=%d %s %s %s req=%d resp=%d pushed=%d grpc=%s\n" % (
                sid, text(st.method or b"?"), text(st.path or b"?"),
                "-" if st.status is None else st.status, st.body[0],
                st.body[1], st.pushed, g))


if __name__ == "__main__":
    if sys.argv[1] == "relay":
        relay(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "expect":
        expect(sys.argv[2])
    else:
        sys.exit(__doc__)
