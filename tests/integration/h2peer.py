#!/usr/bin/python3
"""h2peer.py -- an HTTP/2 server and client on python3-h2 for the crafted h2 tests: CONTINUATION, padding, a table size change, RST_STREAM, GOAWAY, an h2c upgrade, a connection opened before tracing, and hostile streams.

  h2peer.py server PORT LOG
      Serves h2c (prior knowledge, or Upgrade: h2c) on 127.0.0.1:PORT until
      killed.  Each request gets 200 and "ok PATH\\n", except:
        /big-headers  a 24,000-byte response header: HEADERS + CONTINUATION
        /padded       the body in a DATA frame with 100 bytes of padding
        /reset        RST_STREAM(CANCEL) instead of a response
        /slow         answered only after the next request's answer
        /goaway       GOAWAY naming the stream before: not answered
      LOG gets one line per stream answered or reset: "S STREAM METHOD
      PATH STATUS BODY_LEN" (status 0 for a reset, either way).
  h2peer.py client PORT SCENARIO LOG [WAIT_FILE]
      Runs SCENARIO over one connection; LOG gets one line per stream
      sent: "C STREAM METHOD PATH STATUS RESPONSE_BODY_LEN" (status 0: no
      response; -1: reset).  Scenarios:
        basic         GET /a, POST /b (body), GET /c
        continuation  a request with 24,000 bytes of headers
        padding       a POST whose body has 200 bytes of padding, and
                      /padded
        table-size    SETTINGS_HEADER_TABLE_SIZE 256 (the server's
                      encoder follows), its own table cut to 0 then
                      back, requests before and after
        rst           a request the client resets (CANCEL) before the
                      answer, and /reset, which the server resets
        goaway        GET /g1, then /goaway, which the server refuses
                      with a GOAWAY naming the stream before
        upgrade       HTTP/1.1 Upgrade: h2c; the upgraded GET /up is
                      stream 1, then GET /after on stream 3
        preexisting   GET /before, then waits for WAIT_FILE, then GET
                      /later-1 .. /later-5 on the same connection, then
                      waits for WAIT_FILE.close before it closes
  h2peer.py hostile PORT CASE
      Sends a hostile stream to PORT and reads what comes back, for a
      few seconds: continuation-flood, headers-16mib, hpack-bomb,
      settings-flood, garbage-after-preface.
"""
import os
import select
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import h2.settings

BIG = "b" * 8000


def send_all(sock, conn):
    data = conn.data_to_send()
    if data:
        sock.sendall(data)


# --- server -------------------------------------------------------------

class Server:
    def __init__(self, sock, log):
        self.sock = sock
        self.log = log
        cfg = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.reqs = {}  # stream -> [headers, body]
        self.slow = None

    def note(self, sid, method, path, status, n):
        with open(self.log, "a") as f:
            f.write("S %d %s %s %d %d\n" % (sid, method, path, status, n))

    def answer(self, sid):
        hdrs, body = self.reqs.pop(sid)
        h = dict(hdrs)
        method, path = h[b":method"].decode(), h[b":path"].decode()
        if path == "/slow" and self.slow is None:
            self.slow = sid
            self.reqs[sid] = (hdrs, body)
            return
        if path == "/reset":
            self.conn.reset_stream(sid, error_code=8)
            self.note(sid, method, path, 0, 0)
            return
        if path == "/goaway":
            self.conn.close_connection(last_stream_id=sid - 2)
            self.note(sid, method, path, 0, 0)
            return
        out = ("ok %s\n" % path).encode()
        extra = [("x-big-%d" % i, BIG) for i in range(3)] if path == "/big-headers" else []
        self.conn.send_headers(sid, [(":status", "200"), ("content-type", "text/plain"),
                                     ("content-length", str(len(out)))] + extra)
        self.conn.send_data(sid, out, end_stream=True,
                            pad_length=100 if path == "/padded" else None)
        self.note(sid, method, path, 200, len(out))
        if self.slow is not None and self.slow != sid:
            s, self.slow = self.slow, None
            self.answer(s)

    def run(self, first=b""):
        data = first
        while True:
            if data:
                try:
                    events = self.conn.receive_data(data)
                except h2.exceptions.ProtocolError:
                    send_all(self.sock, self.conn)
                    return
                for ev in events:
                    if isinstance(ev, h2.events.RequestReceived):
                        self.reqs[ev.stream_id] = (ev.headers, b"")
                        if ev.stream_ended:
                            self.answer(ev.stream_id)
                    elif isinstance(ev, h2.events.DataReceived):
                        self.conn.acknowledge_received_data(ev.flow_controlled_length,
                                                            ev.stream_id)
                        if ev.stream_id in self.reqs:
                            h, b = self.reqs[ev.stream_id]
                            self.reqs[ev.stream_id] = (h, b + ev.data)
                        if ev.stream_ended and ev.stream_id in self.reqs:
                            self.answer(ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        if ev.stream_id in self.reqs and ev.stream_id != self.slow:
                            self.answer(ev.stream_id)
                    elif isinstance(ev, h2.events.StreamReset):
                        req = self.reqs.pop(ev.stream_id, None)
                        if self.slow == ev.stream_id:
                            self.slow = None
                        if req:  # reset by the client before the answer
                            h = dict(req[0])
                            self.note(ev.stream_id, h[b":method"].decode(),
                                      h[b":path"].decode(), 0, 0)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        send_all(self.sock, self.conn)
                        return
                send_all(self.sock, self.conn)
            # Waits in select(), not in recv(): a recv() blocked when
            # tracing begins is not seen (its syscall entry was missed),
            # which would lose the first request of a connection opened
            # before tracing on this side.
            select.select([self.sock], [], [])
            data = self.sock.recv(65536)
            if not data:
                return


def upgrade_request(sock):
    """Reads an HTTP/1.1 request; returns (head bytes, rest) or None."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            return None
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head, rest


def serve(port, log):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(64)
    while True:
        sock, _ = ls.accept()
        if os.fork():
            sock.close()
            continue
        ls.close()
        try:
            first = sock.recv(65536, socket.MSG_PEEK)
            srv = Server(sock, log)
            if first.startswith(b"PRI * HTTP/2.0"):
                srv.conn.initiate_connection()
                send_all(sock, srv.conn)
                srv.run()
            else:
                head, rest = upgrade_request(sock)
                lines = head.split(b"\r\n")
                hdrs = dict(l.split(b": ", 1) for l in lines[1:])
                sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\n"
                             b"Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
                srv.conn.initiate_upgrade_connection(hdrs[b"HTTP2-Settings"])
                method, path, _ = lines[0].split(b" ")
                srv.reqs[1] = ([(b":method", method), (b":path", path)], b"")
                srv.answer(1)
                send_all(sock, srv.conn)
                srv.run(rest)
        except (OSError, KeyError, ValueError):
            pass
        os._exit(0)


# --- client -------------------------------------------------------------

class Client:
    def __init__(self, port, log):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.log = log
        cfg = h2.config.H2Configuration(client_side=True, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=cfg)
        self.open = {}  # stream -> [method, path, status, body_len]

    def start(self):
        self.conn.initiate_connection()
        send_all(self.sock, self.conn)

    def request(self, path, method="GET", body=None, extra=(), pad=None):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, [(":method", method), (":path", path),
                                     (":scheme", "http"),
                                     (":authority", "127.0.0.1")] + list(extra),
                               end_stream=body is None)
        if body is not None:
            self.conn.send_data(sid, body, end_stream=True, pad_length=pad)
        send_all(self.sock, self.conn)
        self.open[sid] = [method, path, 0, 0]
        return sid

    def note(self, sid):
        m, p, st, n = self.open.pop(sid)
        with open(self.log, "a") as f:
            f.write("C %d %s %s %d %d\n" % (sid, m, p, st, n))

    def pump(self, until):
        """Reads until until() or the connection ends."""
        self.sock.settimeout(10)
        while not until():
            data = self.sock.recv(65536)
            if not data:
                return
            for ev in self.conn.receive_data(data):
                sid = getattr(ev, "stream_id", None)
                if isinstance(ev, h2.events.ResponseReceived):
                    self.open[sid][2] = int(dict(ev.headers)[b":status"])
                elif isinstance(ev, h2.events.DataReceived):
                    self.open[sid][3] += len(ev.data)
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.StreamEnded):
                    self.note(sid)
                elif isinstance(ev, h2.events.StreamReset) and sid in self.open:
                    self.open[sid][2] = -1
                    self.note(sid)
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    for s in sorted(self.open):
                        if s > ev.last_stream_id:
                            self.note(s)
                    return
            send_all(self.sock, self.conn)

    def wait(self, *sids):
        self.pump(lambda: not any(s in self.open for s in sids))

    def close(self):
        self.conn.close_connection()
        send_all(self.sock, self.conn)
        self.sock.close()


def scenario(port, name, log, wait_file=None):
    c = Client(port, log)
    if name == "upgrade":
        settings = c.conn.initiate_upgrade_connection()
        c.sock.sendall(b"GET /up HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                       b"HTTP2-Settings: " + settings + b"\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += c.sock.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        send_all(c.sock, c.conn)
        c.open[1] = ["GET", "/up", 0, 0]
        c.wait(1)
        c.wait(c.request("/after"))
        c.close()
        return
    c.start()
    if name == "basic":
        c.wait(c.request("/a"), c.request("/b", "POST", b"x" * 3000), c.request("/c"))
    elif name == "continuation":
        c.wait(c.request("/cont", extra=[("x-big-%d" % i, BIG) for i in range(3)]))
        c.wait(c.request("/big-headers"))
    elif name == "padding":
        c.wait(c.request("/pad-post", "POST", b"y" * 500, pad=200))
        c.wait(c.request("/padded"))
    elif name == "table-size":
        c.wait(c.request("/t1", extra=[("x-keep", "same-value")]))
        c.conn.update_settings({h2.settings.SettingCodes.HEADER_TABLE_SIZE: 256})
        send_all(c.sock, c.conn)
        c.wait(c.request("/t2", extra=[("x-keep", "same-value")]))
        c.conn.encoder.header_table_size = 0
        c.wait(c.request("/t3", extra=[("x-keep", "same-value")]))
        c.conn.encoder.header_table_size = 4096
        c.wait(c.request("/t4", extra=[("x-keep", "same-value")]))
    elif name == "rst":
        sid = c.request("/slow")
        c.conn.reset_stream(sid, error_code=8)
        send_all(c.sock, c.conn)
        c.open[sid][2] = -1
        c.note(sid)
        c.wait(c.request("/reset"))
        c.wait(c.request("/after-reset"))
    elif name == "goaway":
        c.wait(c.request("/g1"))
        c.wait(c.request("/goaway"))
        c.sock.close()
        return
    elif name == "preexisting":
        c.wait(c.request("/before"))
        with open(log + ".ready", "w") as f:
            f.write("1\n")
        while not os.path.exists(wait_file):
            time.sleep(0.05)
        for i in range(1, 6):
            c.wait(c.request("/later-%d" % i, extra=[("x-seq", str(i))]))
        # Stays until told: a process gone before the tracer looked its
        # socket up in /proc could not be matched to -P.
        for _ in range(1200):
            if os.path.exists(wait_file + ".close"):
                break
            time.sleep(0.05)
    else:
        sys.exit("unknown scenario " + name)
    c.close()


# --- hostile --------------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, sid, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", sid) + payload


def hostile(port, case):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(3)
    out = PREFACE + frame(4, 0, 0, b"")
    try:
        if case == "continuation-flood":
            s.sendall(out + frame(1, 0, 1, b"\x82\x86\x84"))
            chunk = b"".join(frame(9, 0, 1, b"\x40\x01a\x01b") for _ in range(1000))
            for _ in range(1500):  # 1,500,000 CONTINUATION frames, 22 MB
                s.sendall(chunk)
        elif case == "headers-16mib":
            s.sendall(out + b"\xff\xff\xff\x01\x05\x00\x00\x00\x01" + b"\x82" * 65536)
        elif case == "hpack-bomb":
            # one 4,000-byte entry, then 16 KiB of references to it
            big = b"\x40\x01x\x7f\xa1\x1e" + b"z" * 4000
            s.sendall(out + frame(1, 5, 1, b"\x82\x86\x84" + big) +
                      frame(1, 5, 3, b"\x82\x86\x84" + b"\xbe" * 16000))
        elif case == "settings-flood":
            s.sendall(out + b"".join(frame(4, 0, 0, b"\x00\x01\x00\x00\x10\x00")
                                     for _ in range(20000)))
        elif case == "garbage-after-preface":
            s.sendall(PREFACE + os.urandom(100000))
        else:
            sys.exit("unknown case " + case)
        end = time.time() + 2
        while time.time() < end:
            if not s.recv(65536):
                break
    except OSError:
        pass
    s.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        serve(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "client":
        scenario(int(sys.argv[2]), sys.argv[3], sys.argv[4],
                 sys.argv[5] if len(sys.argv) > 5 else None)
    elif sys.argv[1] == "hostile":
        hostile(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)
