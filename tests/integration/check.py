#!/usr/bin/python3
# check.py -- compares httpsnoop's JSON Lines with ground truth: nginx access logs, curl -w reports, expected tuples.
"""Usage: check.py COMMAND --jsonl FILE [filters] [command options]

Filters (every command): --pid P[,P...] (repeatable), --role client|server|
unknown, --port N (local or remote port), --unix PATH (local or remote is
"unix:PATH"; @name for an abstract name).  Only transactions that pass every
given filter are compared, because other processes on the machine may speak
HTTP while a test runs.

Commands:
  nginx   --log ACCESS_LOG [--request-length] [--unordered]
          record by record against an nginx access log written with
          log_format '$request_method $request_uri $status $body_bytes_sent
          $request_length $connection $connection_requests $remote_port'.
          Records are matched by the client's port (httpsnoop's "remote" on
          the server side), in order within a port (--unordered: as sets,
          for HTTP/2 streams, which end in any order).
  within  --log ACCESS_LOG
          nothing made up: every filtered (server-side) transaction with a
          response matches a record of its own in the access log (same log
          format as 'nginx') by client port, method, target and status.  A
          record whose request line nginx could not parse ('- -') matches
          a transaction of that status whose request httpsnoop did not see
          whole either (an error, or complete: false).  Requests without a
          response (the client vanished) and log records without a
          transaction are allowed.
  curl    --gt FILE
          FILE has "PID STATUS SIZE_DOWNLOAD METHOD" per URL curl fetched;
          the client-side transactions of each curl pid, by time, must match.
  expect  --expect FILE [--ordered] [--exact-count] [--only-expected-targets]
          FILE has "METHOD TARGET STATUS BODY_SIZE" per line (a field may be
          '*' for any).  Without --ordered they are compared as multisets.
  count   print how many transactions pass the filters.
  none    fail if any transaction passes the filters (non-HTTP traffic).
  sane    every filtered transaction is complete, paired, without error.
  same    --other FILE: the filtered transactions of both files are equal,
          field by field (a live trace against its --replay).
  causal  --client-pid C --server-pid S: the two sides of each request
          (matched by target, which must be unique) obey causality: the
          server read the request after the client sent it, and its
          request-to-response time lies inside the client's.  A response
          paired with the wrong request breaks this.
  body    --target T --file F [--side request|response] [--max-body N]
          the captured body of each filtered transaction for target T is
          the start of F's bytes, N of them (or all of F if shorter), and
          body_truncated says whether F was longer.
  dump    print the filtered transactions, one short line each.

Exit status: 0 when everything matches, 1 on a mismatch (after printing every
difference, up to --max-diffs), 2 on bad usage or unreadable input.
"""

import argparse
import json
import sys
from collections import Counter, defaultdict


def load_jsonl(path):
    txns = []
    bad = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as e:
                bad += 1
                print(f"{path}:{n}: not JSON ({e}): {line[:200]!r}")
                continue
            # a message after an upgrade (WebSocket) is not a transaction
            if "direction" not in rec:
                txns.append(rec)
    return txns, bad


def port_of(addr):
    if not addr or not isinstance(addr, str):
        return None
    try:
        return int(addr.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return None


def select(txns, args):
    pids = set()
    for p in args.pid or []:
        pids.update(int(x) for x in str(p).split(",") if x)
    out = []
    for t in txns:
        if pids and t.get("pid") not in pids:
            continue
        if args.role and t.get("role") != args.role:
            continue
        if args.port and args.port not in (port_of(t.get("local")), port_of(t.get("remote"))):
            continue
        if args.unix and "unix:" + args.unix not in (t.get("local"), t.get("remote")):
            continue
        out.append(t)
    out.sort(key=lambda t: t.get("ts") or "")
    return out


def req(t, k, default=None):
    return (t.get("request") or {}).get(k, default)


def resp(t, k, default=None):
    return (t.get("response") or {}).get(k, default)


def short(t):
    r = t.get("response")
    return (f"pid={t.get('pid')} {t.get('role')} fd={t.get('fd')} "
            f"{t.get('local')}<->{t.get('remote')} "
            f"{req(t, 'method')} {req(t, 'target')} -> "
            f"{resp(t, 'status') if r else 'NO RESPONSE'} "
            f"body={resp(t, 'body_size') if r else '-'} "
            f"missing={resp(t, 'body_missing') if r else '-'} "
            f"err={t.get('error')}")


class Diffs:
    def __init__(self, limit):
        self.limit = limit
        self.n = 0

    def add(self, msg):
        self.n += 1
        if self.n <= self.limit:
            print("  DIFF: " + msg)
        elif self.n == self.limit + 1:
            print("  ... (more differences not shown)")

    def done(self, what, count):
        if what is None:        # "none": nothing may match
            print("no transactions, as wanted" if not self.n else
                  f"{self.n} unwanted transaction(s)")
            return 1 if self.n else 0
        if self.n:
            print(f"{what}: {self.n} difference(s) over {count} record(s)")
            return 1
        print(f"{what}: {count} record(s) match")
        return 0


def reconstruct_request_length(t):
    """The request's bytes on the wire, if httpsnoop kept all its headers
    and the body is not chunked (its framing is not in body_size)."""
    r = t.get("request") or {}
    if r.get("headers_truncated") or r.get("version") is None:
        return None
    if any(n.lower() == "transfer-encoding" for n, _ in r.get("headers") or []):
        return None
    n = len(f"{r.get('method')} {r.get('target')} HTTP/{r.get('version')}\r\n".encode())
    for name, value in r.get("headers") or []:
        n += len(name.encode()) + 2 + len(value.encode()) + 2
    return n + 2 + (r.get("body_size") or 0)


def cut_short(t, sent):
    """True when nginx itself logged a response it could not finish: the
    client went away after the headers (wrk stopping mid-request), so
    $body_bytes_sent is below the response's Content-Length and equals
    what httpsnoop saw, and httpsnoop says the response is incomplete."""
    length = None
    for name, value in (t.get("response") or {}).get("headers") or []:
        if name.lower() == "content-length" and value.strip().isdigit():
            length = int(value)
    return (length is not None and sent < length
            and resp(t, "complete") is False and resp(t, "body_size") == sent)


def cmd_nginx(txns, args, d):
    log = []
    with open(args.log, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) != 8:
                print(f"{args.log}:{n}: unexpected log line {line!r}")
                return 2
            m, uri, st, sent, rlen, conn, creq, rport = parts
            log.append(dict(method=m, uri=uri, status=int(st), sent=int(sent),
                            rlen=int(rlen), conn=int(conn), creq=int(creq),
                            rport=int(rport), line=n))
    by_port_log = defaultdict(list)
    for rec in log:
        by_port_log[rec["rport"]].append(rec)
    by_port_tx = defaultdict(list)
    for t in txns:
        by_port_tx[port_of(t.get("remote"))].append(t)

    if len(txns) != len(log):
        d.add(f"count: access log has {len(log)} request(s), httpsnoop reported {len(txns)}")
    for port in sorted(set(by_port_log) | set(by_port_tx), key=lambda p: (p is None, p or 0)):
        L, X = by_port_log.get(port, []), by_port_tx.get(port, [])
        if args.unordered:
            # HTTP/2 streams of one connection end in any order: match
            # them as sets, by what the log and httpsnoop both know.
            L = sorted(L, key=lambda r: (r["method"], r["uri"], r["status"], r["sent"]))
            X = sorted(X, key=lambda t: (str(req(t, "method")), str(req(t, "target")),
                                         resp(t, "status") or 0, resp(t, "body_size") or 0))
        if len(L) != len(X):
            d.add(f"client port {port}: access log has {len(L)} request(s) "
                  f"{[(r['method'], r['uri'], r['status']) for r in L][:6]}, "
                  f"httpsnoop {len(X)} {[short(t) for t in X][:6]}")
        for rec, t in zip(L, X):
            where = f"port {port} log line {rec['line']} ({rec['method']} {rec['uri']})"
            if req(t, "method") != rec["method"]:
                d.add(f"{where}: method {req(t, 'method')!r}, log says {rec['method']!r}")
            if req(t, "target") != rec["uri"]:
                d.add(f"{where}: target {req(t, 'target')!r}, log says {rec['uri']!r}")
            if t.get("response") is None:
                d.add(f"{where}: httpsnoop has no response (error={t.get('error')!r})")
                continue
            if resp(t, "status") != rec["status"]:
                d.add(f"{where}: status {resp(t, 'status')}, log says {rec['status']}")
            # nginx counts its "HTTP/1.1 100 Continue\r\n\r\n" (25 bytes)
            # in $body_bytes_sent; httpsnoop reports it as interim_status.
            sent = rec["sent"]
            if t.get("interim_status") == 100:
                sent -= len(b"HTTP/1.1 100 Continue\r\n\r\n")
            if resp(t, "body_size") != sent:
                d.add(f"{where}: response body_size {resp(t, 'body_size')}, "
                      f"$body_bytes_sent {rec['sent']} (interim_status "
                      f"{t.get('interim_status')})")
            if t.get("error") is not None and not cut_short(t, sent):
                d.add(f"{where}: error {t.get('error')!r}")
            if args.request_length:
                # nginx leaves a discarded body (a 'return' location, an
                # error) out of $request_length; a body it read counts.
                n = reconstruct_request_length(t)
                body = req(t, "body_size") or 0
                if n is not None and rec["rlen"] not in (n, n - body):
                    d.add(f"{where}: request bytes {n} (line + headers + body "
                          f"{req(t, 'body_size')}), $request_length {rec['rlen']}")
    return d.done("nginx access log vs httpsnoop server side", len(log))


def cmd_within(txns, args, d):
    by_port = defaultdict(list)
    with open(args.log, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if len(parts) < 8:
                continue
            # the request line of a hostile request may hold spaces:
            # fields are taken from both ends
            by_port[parts[-1]].append(dict(method=parts[0], uri=" ".join(parts[1:-6]),
                                           status=int(parts[-6]), line=n))
    n = 0
    for t in txns:
        if t.get("response") is None:
            continue
        n += 1
        port = str(port_of(t.get("remote")))
        target = req(t, "target") or ""
        broken = t.get("error") is not None or not req(t, "complete", True)
        for i, rec in enumerate(by_port.get(port, [])):
            if rec["status"] != resp(t, "status"):
                continue
            if ((rec["method"] == req(t, "method") and rec["uri"] == target)
                    or (rec["method"] == "-" and broken)):
                del by_port[port][i]
                break
        else:
            d.add(f"not in the access log (made up?): {short(t)[:300]}")
    return d.done("httpsnoop server side within the access log", n)


def cmd_curl(txns, args, d):
    gt = defaultdict(list)
    total = 0
    with open(args.gt) as f:
        for line in f:
            if not line.strip():
                continue
            pid, st, size, method = line.split()
            gt[int(pid)].append((int(st), int(float(size)), method))
            total += 1
    by_pid = defaultdict(list)
    for t in txns:
        by_pid[t.get("pid")].append(t)
    for pid, want in gt.items():
        got = [t for t in by_pid.get(pid, []) if t.get("role") == "client"]
        if len(got) != len(want):
            d.add(f"curl pid {pid}: curl fetched {len(want)} URL(s) {want}, "
                  f"httpsnoop has {len(got)} client transaction(s) {[short(t) for t in got]}")
        for i, ((st, size, method), t) in enumerate(zip(want, got)):
            where = f"curl pid {pid} URL #{i + 1} ({method})"
            if req(t, "method") != method:
                d.add(f"{where}: method {req(t, 'method')!r}")
            if t.get("response") is None:
                d.add(f"{where}: no response (error={t.get('error')!r}), curl got {st}")
                continue
            if resp(t, "status") != st:
                d.add(f"{where}: status {resp(t, 'status')}, curl got {st}")
            if resp(t, "body_size") != size:
                d.add(f"{where}: response body_size {resp(t, 'body_size')}, "
                      f"curl size_download {size}")
    return d.done("curl -w vs httpsnoop client side", total)


def parse_expect(path):
    want = []
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            m, target, st, size = line.split()
            want.append((m, target, st, size))
    return want


def matches(w, t):
    m, target, st, size = w
    got = (req(t, "method"), req(t, "target"),
           resp(t, "status") if t.get("response") else None,
           resp(t, "body_size") if t.get("response") else None)
    for a, b in zip((m, target, st, size), got):
        if a != "*" and a != str(b):
            return False
    return True


def align(want, txns):
    """Longest common subsequence of expectations and transactions (a '*'
    matches anything), so that one missing transaction shows as one line,
    not as a shift of everything after it.  Yields ("missing", i, None) and
    ("extra", None, j)."""
    n, m = len(want), len(txns)
    if n == m and all(matches(w, t) for w, t in zip(want, txns)):
        return
    if not any("*" in w for w in want):
        # no wildcards: difflib aligns the keys much faster than the DP
        import difflib
        keys = [tuple(str(x) for x in (req(t, "method"), req(t, "target"),
                resp(t, "status") if t.get("response") else None,
                resp(t, "body_size") if t.get("response") else None)) for t in txns]
        sm = difflib.SequenceMatcher(a=[tuple(w) for w in want], b=keys, autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op != "equal":
                for i in range(i1, i2):
                    yield "missing", i, None
                for j in range(j1, j2):
                    yield "extra", None, j
        return
    if n * m > 1_000_000:       # too big to align: compare by position
        for k in range(max(n, m)):
            if k >= m:
                yield "missing", k, None
            elif k >= n:
                yield "extra", None, k
            elif not matches(want[k], txns[k]):
                yield "missing", k, None
                yield "extra", None, k
        return
    L = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            L[i][j] = (L[i + 1][j + 1] + 1 if matches(want[i], txns[j])
                       else max(L[i + 1][j], L[i][j + 1]))
    i = j = 0
    while i < n and j < m:
        if matches(want[i], txns[j]) and L[i][j] == L[i + 1][j + 1] + 1:
            i += 1
            j += 1
        elif L[i + 1][j] >= L[i][j + 1]:
            yield "missing", i, None
            i += 1
        else:
            yield "extra", None, j
            j += 1
    for k in range(i, n):
        yield "missing", k, None
    for k in range(j, m):
        yield "extra", None, k


def cmd_expect(txns, args, d):
    want = parse_expect(args.expect)
    if args.only_expected_targets:
        # the expectations cover only some of the transactions (those after
        # a point in time): compare those whose target is listed
        targets = {w[1] for w in want}
        txns = [t for t in txns if req(t, "target") in targets]
    if args.ordered:
        # Align the two sequences, so that one missing transaction shows
        # as one line, not as a shift of everything after it.
        if len(want) != len(txns):
            d.add(f"count: expected {len(want)}, httpsnoop reported {len(txns)}")
        for op, i, j in align(want, txns):
            if op == "missing":
                d.add(f"expected #{i + 1} {' '.join(want[i])}: not traced")
            elif op == "extra":
                d.add(f"traced #{j + 1} (unexpected): {short(txns[j])}")
    else:
        left = list(txns)
        missing = []
        for w in want:
            for i, t in enumerate(left):
                if matches(w, t):
                    del left[i]
                    break
            else:
                missing.append(w)
        for w in missing:
            d.add(f"expected but not traced: {' '.join(w)}")
        if args.exact_count or missing:
            for t in left[:20]:
                d.add(f"traced but not expected: {short(t)}")
            if len(left) > 20:
                d.add(f"... and {len(left) - 20} more unexpected")
    return d.done("expected transactions vs httpsnoop", len(want))


def cmd_sane(txns, args, d):
    for t in txns:
        problems = []
        if t.get("error") is not None:
            problems.append(f"error={t.get('error')!r}")
        if t.get("response") is None:
            problems.append("no response")
        if not req(t, "complete", True):
            problems.append("request incomplete")
        if t.get("response") is not None and not resp(t, "complete", True):
            problems.append("response incomplete")
        if problems:
            d.add(f"{', '.join(problems)}: {short(t)}")
    return d.done("sanity of traced transactions", len(txns))


def flatten(obj, prefix=""):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else k))
        return out
    return {prefix: obj}


def cmd_same(txns, args, d):
    other, bad = load_jsonl(args.other)
    if bad:
        d.add(f"{bad} line(s) of {args.other} are not JSON")
    other = select(other, args)
    key = lambda t: json.dumps(t, sort_keys=True)
    a = sorted(txns, key=lambda t: (t.get("ts") or "", t.get("pid") or 0, key(t)))
    b = sorted(other, key=lambda t: (t.get("ts") or "", t.get("pid") or 0, key(t)))
    if len(a) != len(b):
        d.add(f"count: {args.jsonl} has {len(a)}, {args.other} has {len(b)}")
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            continue
        fx, fy = flatten(x), flatten(y)
        for k in sorted(set(fx) | set(fy)):
            if fx.get(k, "<absent>") != fy.get(k, "<absent>"):
                d.add(f"#{i + 1} ({req(x, 'method')} {req(x, 'target')}) {k}: "
                      f"{str(fx.get(k, '<absent>'))[:80]!r} vs {str(fy.get(k, '<absent>'))[:80]!r}")
    return d.done(f"{args.jsonl} vs {args.other}", len(a))


def ts_ns(t):
    """"2026-11-24T20:53:46.536199132Z" -> nanoseconds (same-run use only)."""
    ts = t.get("ts") or ""
    try:
        day, frac = ts.rstrip("Z").split(".")
        h, m, sec = day.split("T")[1].split(":")
        return ((int(h) * 60 + int(m)) * 60 + int(sec)) * 10**9 + int(frac.ljust(9, "0")[:9])
    except (ValueError, IndexError):
        return None


def cmd_causal(all_txns, args, d):
    def side(pid):
        out = {}
        for t in all_txns:
            if t.get("pid") == pid and t.get("response") is not None:
                out.setdefault(req(t, "target"), t)
        return out
    client, server = side(args.client_pid), side(args.server_pid)
    n = 0
    for target, c in client.items():
        s = server.get(target)
        if s is None:
            continue
        n += 1
        cts, sts = ts_ns(c), ts_ns(s)
        cl, sl = c.get("latency_ns"), s.get("latency_ns")
        if cts is not None and sts is not None and sts < cts:
            d.add(f"{target}: the server read it {(cts - sts) / 1e6:.3f} ms before the client sent it")
        if cl is not None and sl is not None and sl > cl:
            d.add(f"{target}: server latency {sl / 1e6:.3f} ms > client latency {cl / 1e6:.3f} ms "
                  f"(the server side paired it with another request's response?)")
    return d.done("causality of client and server sides", n)


def captured_bytes(m):
    import base64
    body = m.get("body") or ""
    if m.get("body_encoding") == "base64":
        return base64.b64decode(body)
    return body.encode("utf-8", "surrogateescape")


def cmd_body(txns, args, d):
    with open(args.file, "rb") as f:
        want = f.read()
    n = 0
    for t in txns:
        if req(t, "target") != args.target:
            continue
        n += 1
        m = t.get(args.side) or {}
        got = captured_bytes(m)
        limit = min(len(want), args.max_body)
        where = f"{t.get('role')} pid {t.get('pid')} {args.target} {args.side}"
        if m.get("body_size") != len(want):
            d.add(f"{where}: body_size {m.get('body_size')}, the file has {len(want)} bytes")
        if len(got) != limit:
            d.add(f"{where}: captured {len(got)} bytes, expected {limit} "
                  f"(body_missing {m.get('body_missing')})")
        if got != want[:len(got)]:
            k = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b),
                     min(len(got), len(want)))
            d.add(f"{where}: captured bytes differ from the file at offset {k}: "
                  f"{got[k:k + 16]!r} vs {want[k:k + 16]!r}")
        if bool(m.get("body_truncated")) != (len(want) > args.max_body):
            d.add(f"{where}: body_truncated {m.get('body_truncated')} for {len(want)} bytes "
                  f"with a limit of {args.max_body}")
    if n == 0:
        d.add(f"no transaction for {args.target}")
    return d.done(f"captured {args.side} bodies of {args.target}", n)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("command", choices=["nginx", "within", "curl", "expect", "count", "none", "sane", "same", "causal", "body", "dump"])
    ap.add_argument("--jsonl", required=True)
    ap.add_argument("--pid", action="append")
    ap.add_argument("--role", choices=["client", "server", "unknown"])
    ap.add_argument("--port", type=int)
    ap.add_argument("--unix")
    ap.add_argument("--log")
    ap.add_argument("--request-length", action="store_true")
    ap.add_argument("--unordered", action="store_true")
    ap.add_argument("--gt")
    ap.add_argument("--expect")
    ap.add_argument("--other")
    ap.add_argument("--target")
    ap.add_argument("--file")
    ap.add_argument("--side", choices=["request", "response"], default="response")
    ap.add_argument("--max-body", type=int, default=1024)
    ap.add_argument("--client-pid", type=int)
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--ordered", action="store_true")
    ap.add_argument("--exact-count", action="store_true")
    ap.add_argument("--only-expected-targets", action="store_true")
    ap.add_argument("--max-diffs", type=int, default=30)
    # (--max-body above is the -b of the traced run)
    args = ap.parse_args()

    try:
        all_txns, bad = load_jsonl(args.jsonl)
    except OSError as e:
        print(f"cannot read {args.jsonl}: {e}")
        return 2
    txns = select(all_txns, args)
    d = Diffs(args.max_diffs)
    if bad:
        d.add(f"{bad} line(s) of {args.jsonl} are not JSON")

    if args.command == "count":
        print(len(txns))
        return 1 if bad else 0
    if args.command == "dump":
        for t in txns:
            print(short(t))
        return 0
    if args.command == "none":
        for t in txns:
            d.add(f"unexpected transaction: {short(t)}")
        return d.done(None, len(txns))
    if args.command == "sane":
        return cmd_sane(txns, args, d)
    if args.command == "body":
        if not args.target or not args.file:
            ap.error("body needs --target and --file")
        return cmd_body(txns, args, d)
    if args.command == "causal":
        if not args.client_pid or not args.server_pid:
            ap.error("causal needs --client-pid and --server-pid")
        return cmd_causal(all_txns, args, d)
    if args.command == "same":
        if not args.other:
            ap.error("same needs --other")
        return cmd_same(txns, args, d)
    if args.command == "nginx":
        if not args.log:
            ap.error("nginx needs --log")
        return cmd_nginx(txns, args, d)
    if args.command == "within":
        if not args.log:
            ap.error("within needs --log")
        return cmd_within(txns, args, d)
    if args.command == "curl":
        if not args.gt:
            ap.error("curl needs --gt")
        return cmd_curl(txns, args, d)
    if args.command == "expect":
        if not args.expect:
            ap.error("expect needs --expect")
        return cmd_expect(txns, args, d)
    return 2


if __name__ == "__main__":
    sys.exit(main())
