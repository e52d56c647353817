#!/usr/bin/python3
"""check_h2.py -- compares httpsnoop's HTTP/2 and gRPC transactions (JSON lines) with the peers' own records of what they did.

  check_h2.py peer --jsonl F --port P --client-log C --server-log S
      h2peer.py's logs: each line "C|S STREAM METHOD PATH STATUS BODY_LEN"
      (status 0: no response; -1: reset) must be exactly one h2
      transaction on its side (client: role client; server: the other
      roles), with that stream, method, target, status and response body
      size, or the error a reset or GOAWAY gives.  --allow-unknown: a
      method, target or status httpsnoop shows as null (not decodable:
      the connection was open before tracing) passes; transactions whose
      targets are in no log are extra.  --exclude TARGET...: lines of
      requests made before tracing began, which must not be reported.
      --by-stream: transactions are matched by side and stream id, not
      target (one connection, whose targets may be unknown).
      --client-pid PID: that process's transactions are the client's
      side whatever their role (a connection seen midway has none).
  check_h2.py grpc --jsonl F --pid PID --log L [--role R]
      grpc_peer.py's server log ("METHOD STATUS IN OUT" per call) against
      the gRPC transactions of PID: service demo.Echo, method, status and
      its name, message counts each way, previews, the error message.  A
      transaction that says bytes of it were lost (headers_incomplete,
      body_missing) may show fields as null and lower counts, never
      wrong values.
  check_h2.py unix-grpc --jsonl F --pid PID --role R --unix PATH --log L
          [--peer-pid PID]
      unix_peers.py's gRPC server log ("/SERVICE/METHOD CODE REQ_BYTES
      RESP_BYTES" per call) against every record of PID: each call once,
      in order of stream, as an h2 transaction of role R named by the
      socket (the server's local "unix:PATH", a client's remote), with
      its service, method, status, status name, messages and their
      bytes (5 bytes of gRPC framing each); nothing else.  peer_pid, when
      given, is --peer-pid.  Bytes lost (headers_incomplete,
      body_missing) allow null fields and lower counts, never wrong ones.
  check_h2.py hostile --jsonl F --port P --max N
      At most N transactions on port P, each a real request of the
      hostile client (GET /).
Exits 0 when everything matches, 1 with the differences listed.
"""
import argparse
import json
import sys

RESET = "stream reset: CANCEL"
GOAWAY = "not processed: GOAWAY NO_ERROR"


def load(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                out.append(json.loads(line))
    return out


def port_of(addr):
    if not addr:
        return None
    return int(addr.rsplit(":", 1)[1])


def on_port(t, port):
    return port in (port_of(t.get("local")), port_of(t.get("remote")))


def short(t):
    q, r = t.get("request") or {}, t.get("response") or {}
    return "%s %s s=%s %s %s -> %s (%s)" % (
        t.get("role"), t.get("protocol"), t.get("stream_id"), q.get("method"),
        q.get("target"), r.get("status"), t.get("error"))


def check_peer(txns, args, diffs):
    want = {}
    for path, side in ((args.client_log, "C"), (args.server_log, "S")):
        with open(path) as f:
            for line in f:
                s, sid, method, target, status, size = line.split()
                if target in args.exclude:
                    continue
                key = (side, int(sid)) if args.by_stream else (side, target)
                want[key] = (int(sid), method, target, int(status), int(size))
    got = {}
    for t in txns:
        if not on_port(t, args.port) or t.get("protocol") != "h2":
            continue
        side = "C" if t.get("role") == "client" or str(t.get("pid")) in args.client_pid else "S"
        target = (t.get("request") or {}).get("target")
        if target in args.exclude:
            diffs.append("reported though made before tracing: " + short(t))
            continue
        key = (side, t.get("stream_id")) if args.by_stream else (side, target)
        if key not in want:
            diffs.append("extra transaction: " + short(t))
            continue
        if key in got:
            diffs.append("twice: " + short(t))
        got[key] = t
    for key, (sid, method, target, status, size) in sorted(want.items(), key=str):
        t = got.get(key)
        if t is None:
            diffs.append("missing: %s stream %d %s %s" % (key[0], sid, method, target))
            continue
        q, r = t.get("request") or {}, t.get("response")
        unknown_ok = args.allow_unknown

        def same(what, got_v, want_v):
            if got_v != want_v and not (unknown_ok and got_v is None):
                diffs.append("%s: %s %r, sent %r" % (short(t), what, got_v, want_v))

        same("stream", t.get("stream_id"), sid)
        same("method", q.get("method"), method)
        same("target", q.get("target"), target)
        if status > 0:
            if r is None:
                diffs.append("%s: no response, the peer says %d" % (short(t), status))
                continue
            same("status", r.get("status"), status)
            same("body_size", r.get("body_size"), size)
            if not r.get("complete") or t.get("error"):
                diffs.append("%s: incomplete or an error" % short(t))
        else:
            # Reset by either side (-1 at the client, 0 at the server for
            # /reset), or refused by a GOAWAY (0 for /goaway).
            want_err = GOAWAY if target == "/goaway" else RESET
            if r is not None and r.get("complete"):
                diffs.append("%s: a complete response to a reset stream" % short(t))
            if t.get("error") != want_err:
                diffs.append("%s: error %r, expected %r" % (short(t), t.get("error"), want_err))
    return len(want)


PREVIEWS = {  # what grpc_peer.py sends and answers
    "Unary": ('1: "alice" 2: 42', '1: "alice" 2: 42'),
    "ServerStream": ('1: "n" 2: 3', '1: "item" 2: 1'),
    "ClientStream": ('1: "a" 2: 1', '1: "total" 2: 3'),
    "Bidi": ('1: "x" 2: 1', '1: "x" 2: 1'),
    "Fail": ('1: "eve" 2: 0', None),
}
NAMES = {0: "OK", 5: "NOT_FOUND"}


def lossy(t):
    """Whether bytes of t were not captured: its fields may be unknown
    (null) and its counts lower, but never wrong."""
    for m in (t.get("request"), t.get("response")):
        if m and (m.get("headers_incomplete") or m.get("body_missing")):
            return True
    return False


def check_grpc(txns, args, diffs):
    want = []
    with open(args.log) as f:
        for line in f:
            m, st, n_in, n_out = line.split()
            want.append((m, int(st), int(n_in), int(n_out)))
    pids = {int(p) for p in args.pid}
    mine = [t for t in txns if t.get("pid") in pids and t.get("protocol") == "h2"
            and (not args.role or t.get("role") == args.role)]
    mine.sort(key=lambda t: t.get("stream_id") or 0)
    if len(mine) != len(want):
        diffs.append("%d calls reported, the server handled %d" % (len(mine), len(want)))
    # grpc_peer.py's client makes its calls one after the other: the
    # server's log and the streams (1, 3, 5, ...) are in the same order.
    for i, ((m, st, n_in, n_out), t) in enumerate(zip(want, mine)):
        lax = lossy(t)
        where = "%s stream %s%s" % (m, t.get("stream_id"), " (bytes lost)" if lax else "")
        g = t.get("grpc")
        if g is None:
            if not lax:
                diffs.append("%s: not reported as gRPC: %s" % (where, short(t)))
            continue

        def same(key, value):
            got = g.get(key)
            if got != value and not (lax and got is None):
                diffs.append("%s: %s %r, expected %r" % (where, key, got, value))

        same("service", "demo.Echo")
        same("method", m)
        same("status", st)
        same("status_name", NAMES[st])
        for key, n in (("request_messages", n_in), ("response_messages", n_out)):
            if g.get(key) != n and not (lax and g.get(key) < n):
                diffs.append("%s: %s %r, the server says %d" % (where, key, g.get(key), n))
        pin, pout = PREVIEWS[m]
        if i == 1:  # the second Unary call, gzip-compressed
            pin = pout = '1: "bob" 2: 7'
        same("request_preview", pin)
        same("response_preview", pout)
        if st == 5:
            same("message", "no such user: \u00e9 50%")
        if t.get("error"):
            diffs.append("%s: error %r" % (where, t.get("error")))
    return len(want)


GRPC_CODES = {"OK": 0, "NOT_FOUND": 5}  # the codes unix_peers.py ends calls with


def check_unix_grpc(txns, args, diffs):
    want = []
    with open(args.log) as f:
        for line in f:
            path, code, req, resp = line.split()
            _, service, method = path.split("/")
            want.append((service, method, code, int(req), int(resp)))
    pids = {int(p) for p in args.pid}
    mine = [t for t in txns if t.get("pid") in pids]
    mine.sort(key=lambda t: t.get("stream_id") or 0)
    if len(mine) != len(want):
        diffs.append("%d records of pid %s, the server logged %d calls"
                     % (len(mine), ",".join(args.pid), len(want)))
    name = "unix:" + args.unix
    # the server's end has the path the server bound; a client's own end
    # is unnamed
    local, remote = (name, "unix:") if args.role == "server" else ("unix:", name)
    peers = {int(p) for p in args.peer_pid}
    # unix_peers.py's client makes its calls one after the other on one
    # channel: the server's log and the streams (1, 3, 5...) agree in order.
    for (service, method, code, n_req, n_resp), t in zip(want, mine):
        lax = lossy(t)
        where = "/%s/%s stream %s%s" % (service, method, t.get("stream_id"),
                                        " (bytes lost)" if lax else "")
        for key, value in (("protocol", "h2"), ("role", args.role),
                           ("local", local), ("remote", remote)):
            if t.get(key) != value:
                diffs.append("%s: %s %r, expected %r" % (where, key, t.get(key), value))
        if peers and t.get("peer_pid") is not None and t.get("peer_pid") not in peers:
            diffs.append("%s: peer_pid %r, the other end is %s"
                         % (where, t.get("peer_pid"), ",".join(args.peer_pid)))
        if t.get("error"):
            diffs.append("%s: error %r" % (where, t.get("error")))
        g = t.get("grpc")
        if g is None:
            if not lax:
                diffs.append("%s: not reported as gRPC: %s" % (where, short(t)))
            continue

        def same(key, got, value):
            if got != value and not (lax and got is None):
                diffs.append("%s: %s %r, expected %r" % (where, key, got, value))

        same("service", g.get("service"), service)
        same("method", g.get("method"), method)
        same("status", g.get("status"), GRPC_CODES[code])
        same("status_name", g.get("status_name"), code)
        # one request message; a stream answers RESP_BYTES over any number
        # of messages, Say one message or (failing) none
        n_out = g.get("response_messages")
        if g.get("request_messages") != 1 and not (lax and g.get("request_messages") < 1):
            diffs.append("%s: request_messages %r, expected 1" % (where, g.get("request_messages")))
        if method == "Say" and n_out != (1 if code == "OK" else 0) and not lax:
            diffs.append("%s: response_messages %r" % (where, n_out))
        if code != "OK" and g.get("message") is None and not lax:
            diffs.append("%s: no grpc-message with %s" % (where, code))
        if not lax:
            for m, n, size in (("request", 1, n_req), ("response", n_out, n_resp)):
                got = (t.get(m) or {}).get("body_size")
                if got != size + 5 * n:
                    diffs.append("%s: %s body_size %r, the server says %d bytes in %d message(s)"
                                 % (where, m, got, size, n))
    return len(want)


def check_hostile(txns, args, diffs):
    mine = [t for t in txns if on_port(t, args.port)]
    if len(mine) > args.max:
        diffs.append("%d transactions, at most %d requests were sent" % (len(mine), args.max))
    for t in mine:
        q = t.get("request") or {}
        if q.get("method") not in ("GET", None) or q.get("target") not in ("/", None):
            diffs.append("a transaction the client never sent: " + short(t))
    return len(mine)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("command", choices=["peer", "grpc", "unix-grpc", "hostile"])
    ap.add_argument("--jsonl", required=True)
    ap.add_argument("--port", type=int)
    ap.add_argument("--client-log")
    ap.add_argument("--server-log")
    ap.add_argument("--allow-unknown", action="store_true")
    ap.add_argument("--exclude", nargs="*", default=[])
    ap.add_argument("--by-stream", action="store_true")
    ap.add_argument("--client-pid", action="append", default=[])
    ap.add_argument("--pid", action="append", default=[])
    ap.add_argument("--role")
    ap.add_argument("--unix")
    ap.add_argument("--peer-pid", action="append", default=[])
    ap.add_argument("--log")
    ap.add_argument("--max", type=int, default=0)
    args = ap.parse_args()
    txns = load(args.jsonl)
    diffs = []
    n = {"peer": check_peer, "grpc": check_grpc, "unix-grpc": check_unix_grpc,
         "hostile": check_hostile}[args.command](
        txns, args, diffs)
    for d in diffs[:40]:
        print(d)
    if diffs:
        print("%d difference(s) in %d record(s)" % (len(diffs), n))
        return 1
    print("ok: %d record(s) match" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
