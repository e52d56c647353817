#!/usr/bin/python3
# check_prof.py -- checks the profiler's views (--summary-json, --har, Prometheus) against nginx's access log and httpsnoop's own JSON records.
"""Usage: check_prof.py COMMAND [options]

Routes: --map REGEX=ROUTE (repeatable) names the route each request URI
should have (the first REGEX that matches the path, anchored at both
ends, wins); a URI no REGEX matches is its own route.  The test knows its
URIs, so this is its ground truth for httpsnoop's route heuristic.

Commands:
  summary --summary FILE --log ACCESS_LOG --jsonl RECORDS --process COMM
          [--map ...] [--error R]
          The server-side rows of process COMM in the --summary-json
          document: their count and status classes per (method, route)
          equal the access log's, their body bytes equal its
          $body_bytes_sent, and their p50/p90/p99 are within R (default
          1/128) of the exact nearest-rank percentiles of the latencies in
          RECORDS (the JSON records of the same run, server side, COMM),
          max exactly.  Every documented field has its type.
  har     --har FILE [--log ACCESS_LOG [--side S] [--subset]] [--min N]
          FILE parses as JSON and is HAR 1.2: the required fields of log,
          creator and every entry (request, response, content, cache,
          timings) are there with their types; time is the sum of the
          timings that are not -1.  With --log, the entries (of side S
          when given, from "_side"; the tracer's -P keeps them to the
          test's nginx) match the access log as a multiset of (method, path with query, status);
          with --subset they only have to be in it (a run stopped while
          requests were in flight).  --min: at least N entries.
  filter  --jsonl RECORDS --timelog LOG --pid P [--method M]... [--path G]...
          [--host G]... [--status SPEC] [--min-latency-ms N]
          The server-side records of pid P are exactly the requests of LOG
          (nginx's "$request_method $request_uri $status $request_time
          $host") that pass the filters as httpsnoop documents them, and
          the client side's are the same requests: --method compared
          without case, --path fnmatch on the path without its query,
          --host fnmatch without case on the host, --status codes,
          classes (5xx) and ranges, --min-latency-ms on $request_time.
  prom    --api URL --log ACCESS_LOG --process COMM
          Asks Prometheus's HTTP API (URL/api/v1/query) for
          sum by (http_request_method, http_response_status_code) of
          http_server_request_duration_seconds_count{process="COMM"} and
          compares it with the access log.
  grpc    --scrape FILE --summary FILE --log CALLS_LOG --service S [--side S]
          gRPC calls of service S on side S (default server) against
          grpc_peer.py's log ("METHOD STATUS IN OUT" per call): in the
          /metrics scrape FILE, rpc_<side>_duration_seconds_count summed by
          (rpc_method, rpc_grpc_status_code) equals the log's calls, with
          rpc_system "grpc", and no http_* series names the service; in
          the --summary-json document, the grpc rows /S/METHOD have the
          log's count, errors (status not 0) and grpc_status by name.

Exit status: 0 when everything matches, 1 on a difference, 2 on bad usage
or unreadable input.
"""

import argparse
import collections
import json
import math
import re
import sys
import urllib.parse
import urllib.request

diffs = []


def diff(msg):
    diffs.append(msg)


def read_log(path):
    """nginx's log in the integration tests' format (lib.sh): method, uri,
    status, body_bytes_sent, request_length, connection, requests,
    remote_port."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) != 8:
                continue
            out.append(dict(method=p[0], uri=p[1], status=int(p[2]), sent=int(p[3])))
    return out


def router(maps):
    rules = []
    for m in maps or []:
        rx, route = m.rsplit("=", 1)
        rules.append((re.compile(rx + r"\Z"), route))

    def route(uri):
        path = uri.split("?", 1)[0].split("#", 1)[0] or "/"
        for rx, r in rules:
            if rx.match(path):
                return r
        return path
    return route


def nearest_rank(vals, p):
    if p >= 100:
        return vals[-1]
    return vals[max(1, math.ceil(p * len(vals) / 100)) - 1]


def status_class(s):
    if not s:
        return "none"
    if 100 <= s < 600:
        return "%dxx" % (s // 100)
    return "other"


ENDPOINT_TYPES = {
    "side": str, "process": str, "container": (str, type(None)), "protocol": str,
    "method": str, "route": str, "count": int, "rate": (int, float), "errors": int,
    "status": dict, "latency_ns": dict, "time_ns": int, "request_bytes": int,
    "response_bytes": int,
}


def cmd_summary(a):
    with open(a.summary) as f:
        doc = json.load(f)
    route = router(a.map)
    for k, t in (("elapsed_s", (int, float)), ("percentile_error", float), ("routes", int),
                 ("route_overflow", int), ("endpoint_overflow", int), ("endpoints", list)):
        if not isinstance(doc.get(k), t):
            diff("document: %s is %r" % (k, doc.get(k)))
    rows = {}
    for e in doc.get("endpoints", []):
        for k, t in ENDPOINT_TYPES.items():
            if not isinstance(e.get(k), t):
                diff("endpoint %r: %s is %r" % (e.get("route"), k, e.get(k)))
        for k in ("1xx", "2xx", "3xx", "4xx", "5xx", "none", "other"):
            if not isinstance(e["status"].get(k), int):
                diff("endpoint %r: status.%s" % (e.get("route"), k))
        for k in ("p50", "p90", "p99", "max", "mean"):
            if not isinstance(e["latency_ns"].get(k, "x"), (int, type(None))):
                diff("endpoint %r: latency_ns.%s" % (e.get("route"), k))
        if e.get("side") == "server" and e.get("process") == a.process:
            key = (e["method"], e["route"])
            if key in rows:
                diff("two rows for %r" % (key,))
            rows[key] = e
    want = collections.defaultdict(lambda: dict(count=0, sent=0, classes=collections.Counter()))
    for r in read_log(a.log):
        w = want[(r["method"], route(r["uri"]))]
        w["count"] += 1
        w["sent"] += r["sent"]
        w["classes"][status_class(r["status"])] += 1
    for key in sorted(set(want) | set(rows)):
        w, e = want.get(key), rows.get(key)
        if not e:
            diff("%r: %d requests in the access log, no summary row" % (key, w["count"]))
            continue
        if not w:
            diff("%r: a summary row of %d, not in the access log" % (key, e["count"]))
            continue
        if e["count"] != w["count"]:
            diff("%r: count %d, access log %d" % (key, e["count"], w["count"]))
        if e["response_bytes"] != w["sent"]:
            diff("%r: response_bytes %d, access log %d" % (key, e["response_bytes"], w["sent"]))
        for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "none", "other"):
            if e["status"][c] != w["classes"].get(c, 0):
                diff("%r: %s %d, access log %d" % (key, c, e["status"][c], w["classes"].get(c, 0)))
    # percentiles against the JSON records of the same run
    lat = collections.defaultdict(list)
    with open(a.jsonl) as f:
        for line in f:
            t = json.loads(line)
            if t.get("role") != "server" or t.get("comm") != a.process:
                continue
            if t.get("latency_ns") is None:
                continue
            lat[(t["request"]["method"], route(t["request"]["target"]))].append(t["latency_ns"])
    checked = 0
    for key, e in rows.items():
        vals = sorted(lat.get(key, []))
        if len(vals) != e["count"] - e["status"]["none"]:
            diff("%r: %d latencies in the records, %d in the summary" % (
                key, len(vals), e["count"] - e["status"]["none"]))
        if not vals:
            continue
        for name, p in (("p50", 50), ("p90", 90), ("p99", 99)):
            exact = nearest_rank(vals, p)
            got = e["latency_ns"][name]
            if abs(got - exact) > a.error * exact:
                diff("%r: %s %d ns, exact %d ns (%.3f%% off)" % (
                    key, name, got, exact, 100 * abs(got - exact) / exact))
        if e["latency_ns"]["max"] != vals[-1]:
            diff("%r: max %d, exact %d" % (key, e["latency_ns"]["max"], vals[-1]))
        checked += 1
    print("summary: %d rows of %s compared with %d log records; percentiles of %d rows "
          "within %.2f%%" % (len(rows), a.process, sum(w["count"] for w in want.values()),
                             checked, 100 * a.error))


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_pairs(where, v, what):
    if not isinstance(v, list):
        diff("%s: %s is not an array" % (where, what))
        return
    for p in v:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or \
                not isinstance(p.get("value"), str):
            diff("%s: %s has %r" % (where, what, p))


ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def check_entry(i, e):
    w = "entry %d" % i
    if not isinstance(e.get("startedDateTime"), str) or not ISO.match(e["startedDateTime"]):
        diff("%s: startedDateTime %r" % (w, e.get("startedDateTime")))
    if not is_num(e.get("time")) or e["time"] < 0:
        diff("%s: time %r" % (w, e.get("time")))
    rq, rs, t = e.get("request"), e.get("response"), e.get("timings")
    if not isinstance(rq, dict) or not isinstance(rs, dict) or not isinstance(t, dict):
        diff("%s: request, response or timings missing" % w)
        return
    for k, ty in (("method", str), ("url", str), ("httpVersion", str), ("headersSize", int),
                  ("bodySize", int)):
        if not isinstance(rq.get(k), ty):
            diff("%s: request.%s %r" % (w, k, rq.get(k)))
    for k in ("cookies", "headers", "queryString"):
        if k != "cookies":
            check_pairs(w, rq.get(k), "request." + k)
        elif not isinstance(rq.get(k), list):
            diff("%s: request.cookies" % w)
    if "postData" in rq:
        pd = rq["postData"]
        if not isinstance(pd, dict) or not isinstance(pd.get("mimeType"), str) or \
                ("text" in pd and not isinstance(pd["text"], str)):
            diff("%s: request.postData %r" % (w, pd))
    for k, ty in (("status", int), ("statusText", str), ("httpVersion", str),
                  ("redirectURL", str), ("headersSize", int), ("bodySize", int),
                  ("content", dict), ("cookies", list)):
        if not isinstance(rs.get(k), ty):
            diff("%s: response.%s %r" % (w, k, rs.get(k)))
    check_pairs(w, rs.get("headers"), "response.headers")
    c = rs.get("content") or {}
    if not isinstance(c.get("size"), int) or not isinstance(c.get("mimeType"), str):
        diff("%s: response.content %r" % (w, {k: c.get(k) for k in ("size", "mimeType")}))
    if "text" in c and not isinstance(c["text"], str):
        diff("%s: content.text" % w)
    if "encoding" in c and c["encoding"] != "base64":
        diff("%s: content.encoding %r" % (w, c["encoding"]))
    if not isinstance(e.get("cache"), dict):
        diff("%s: cache" % w)
    for k in ("send", "wait", "receive"):
        if not is_num(t.get(k)) or t[k] < 0:
            diff("%s: timings.%s %r" % (w, k, t.get(k)))
    for k in ("blocked", "dns", "connect", "ssl"):
        if k in t and (not is_num(t[k]) or (t[k] < 0 and t[k] != -1)):
            diff("%s: timings.%s %r" % (w, k, t[k]))
    total = sum(v for v in t.values() if is_num(v) and v != -1)
    if is_num(e.get("time")) and abs(total - e["time"]) > 1e-3 + 1e-6 * total:
        diff("%s: time %r, timings add up to %r" % (w, e["time"], total))


def cmd_har(a):
    with open(a.har) as f:
        doc = json.load(f)   # the first check: it parses
    log = doc.get("log") if isinstance(doc, dict) else None
    if not isinstance(log, dict):
        diff("no log object")
        return
    if log.get("version") != "1.2":
        diff("log.version %r" % log.get("version"))
    cr = log.get("creator")
    if not isinstance(cr, dict) or not isinstance(cr.get("name"), str) or \
            not isinstance(cr.get("version"), str):
        diff("log.creator %r" % cr)
    entries = log.get("entries")
    if not isinstance(entries, list):
        diff("log.entries is not an array")
        return
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            diff("entry %d is not an object" % i)
            continue
        check_entry(i, e)
    if a.min is not None and len(entries) < a.min:
        diff("%d entries, at least %d wanted" % (len(entries), a.min))
    if a.log:
        got = collections.Counter()
        for e in entries:
            if a.side and e.get("_side") != a.side:
                continue
            target = e["request"]["url"].split("://", 1)[1]
            target = target[target.find("/"):]
            got[(e["request"]["method"], target, e["response"]["status"])] += 1
        want = collections.Counter((r["method"], r["uri"], r["status"]) for r in read_log(a.log))
        if a.subset:
            # A run stopped mid-way may end with requests that had no
            # response yet (status 0): their request must be in the log.
            pending = collections.Counter({k[:2]: n for k, n in got.items() if k[2] == 0})
            answered = collections.Counter({k: n for k, n in got.items() if k[2] != 0})
            requests = collections.Counter()
            for k, n in want.items():
                requests[k[:2]] += n
            if answered - want:
                diff("entries not in the access log: %r" % list((answered - want).items())[:5])
            if pending - requests:
                diff("unanswered entries not in the access log: %r" % list((pending - requests).items())[:5])
        elif got != want:
            diff("entries vs access log: missing %r, extra %r" % (
                list((want - got).items())[:5], list((got - want).items())[:5]))
    print("har: %d entries checked" % len(entries))


def cmd_prom(a):
    q = ('sum by (http_request_method, http_response_status_code) '
         '(http_server_request_duration_seconds_count{process="%s"})' % a.process)
    url = a.api.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        res = json.load(r)
    if res.get("status") != "success":
        diff("query failed: %r" % res)
        return
    got = collections.Counter()
    for s in res["data"]["result"]:
        m = s["metric"]
        got[(m.get("http_request_method"), int(m.get("http_response_status_code", 0)))] += \
            int(float(s["value"][1]))
    want = collections.Counter((r["method"], r["status"]) for r in read_log(a.log))
    if got != want:
        diff("Prometheus %r, access log %r" % (sorted(got.items()), sorted(want.items())))
    print("prom: %d requests by (method, status) from Prometheus's API, access log %d" % (
        sum(got.values()), sum(want.values())))


PROM_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$')
PROM_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
GRPC_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
              "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
              "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
              "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]


def cmd_grpc(a):
    side = a.side or "server"
    calls = []
    with open(a.log) as f:
        for line in f:
            m, st = line.split()[:2]
            calls.append((m, int(st)))
    want = collections.Counter(calls)
    got = collections.Counter()
    with open(a.scrape) as f:
        for line in f:
            m = PROM_SAMPLE.match(line.strip())
            if not m:
                continue
            labels = dict(PROM_LABEL.findall(m.group(2)))
            if m.group(1).startswith("http_") and \
                    labels.get("http_route", "").startswith("/%s/" % a.service):
                diff("gRPC call in an http_* series: %s" % line.strip())
            if m.group(1) != "rpc_%s_duration_seconds_count" % side or \
                    labels.get("rpc_service") != a.service:
                continue
            if labels.get("rpc_system") != "grpc":
                diff("rpc_system: %s" % line.strip())
            got[(labels.get("rpc_method"), int(labels.get("rpc_grpc_status_code", -1)))] += \
                int(m.group(3))
    if got != want:
        diff("rpc_%s_duration_seconds_count %r, the server's log %r" % (
            side, sorted(got.items()), sorted(want.items())))
    with open(a.summary) as f:
        doc = json.load(f)
    rows = {}
    for e in doc["endpoints"]:
        if e["side"] == side and e["protocol"] == "grpc" and \
                e["route"].startswith("/%s/" % a.service):
            r = rows.setdefault(e["route"], {"count": 0, "errors": 0,
                                             "grpc_status": collections.Counter()})
            r["count"] += e["count"]
            r["errors"] += e["errors"]
            r["grpc_status"].update(e["grpc_status"] or {})
    want_rows = {}
    for m, st in calls:
        r = want_rows.setdefault("/%s/%s" % (a.service, m), {
            "count": 0, "errors": 0, "grpc_status": collections.Counter()})
        r["count"] += 1
        r["errors"] += st != 0
        r["grpc_status"][GRPC_NAMES[st]] += 1
    if rows != want_rows:
        diff("summary grpc rows %r, the server's log %r" % (rows, want_rows))
    print("grpc: %d calls in the metrics and %d in the summary, the server's log %d" % (
        sum(got.values()), sum(r["count"] for r in rows.values()), len(calls)))


def status_ok(spec, st):
    for item in spec.split(","):
        if len(item) == 3 and item[1:].lower() == "xx":
            if st // 100 == int(item[0]):
                return True
        elif "-" in item:
            lo, hi = item.split("-")
            if int(lo) <= st <= int(hi):
                return True
        elif st == int(item):
            return True
    return False


def cmd_filter(a):
    import fnmatch
    want = collections.Counter()
    with open(a.timelog) as f:
        for line in f:
            method, uri, st, rt, host = line.split()
            st, rt = int(st), float(rt)
            path = uri.split("?", 1)[0]
            if a.method and method.upper() not in [m.upper() for ms in a.method for m in ms.split(",")]:
                continue
            if a.path and not any(fnmatch.fnmatchcase(path, g) for g in a.path):
                continue
            if a.host and not any(fnmatch.fnmatchcase(host.lower(), g.lower()) for g in a.host):
                continue
            if a.status and not status_ok(a.status, st):
                continue
            if a.min_latency_ms is not None and rt * 1000 < a.min_latency_ms:
                continue
            want[(method, uri, st)] += 1
    got = {"server": collections.Counter(), "client": collections.Counter()}
    with open(a.jsonl) as f:
        for line in f:
            t = json.loads(line)
            side = t.get("role")
            if side == "server" and t.get("pid") != a.pid:
                continue
            if side not in got or not t.get("response"):
                continue
            got[side][(t["request"]["method"], t["request"]["target"], t["response"]["status"])] += 1
    for side, g in got.items():
        if g != want:
            diff("%s side: missing %r, extra %r" % (side, list((want - g).items())[:4],
                                                     list((g - want).items())[:4]))
    print("filter: %d requests pass, on both sides" % sum(want.values()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["summary", "har", "prom", "filter", "grpc"])
    ap.add_argument("--summary")
    ap.add_argument("--log")
    ap.add_argument("--jsonl")
    ap.add_argument("--process")
    ap.add_argument("--map", action="append")
    ap.add_argument("--error", type=float, default=1 / 128)
    ap.add_argument("--har")
    ap.add_argument("--min", type=int)
    ap.add_argument("--side")
    ap.add_argument("--timelog")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--method", action="append")
    ap.add_argument("--path", action="append")
    ap.add_argument("--host", action="append")
    ap.add_argument("--status")
    ap.add_argument("--min-latency-ms", type=float)
    ap.add_argument("--subset", action="store_true")
    ap.add_argument("--api")
    ap.add_argument("--scrape")
    ap.add_argument("--service")
    a = ap.parse_args()
    try:
        {"summary": cmd_summary, "har": cmd_har, "prom": cmd_prom,
         "filter": cmd_filter, "grpc": cmd_grpc}[a.command](a)
    except (OSError, ValueError, KeyError) as e:
        print("check_prof: %s: %s" % (a.command, e))
        return 1 if isinstance(e, (ValueError, KeyError)) else 2
    for d in diffs[:30]:
        print("  DIFF: " + d)
    if diffs:
        print("%s: %d difference(s)" % (a.command, len(diffs)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
