"""check_report.py -- checks test_report's summary JSON or Prometheus exposition (stdin) against the transactions it aggregated (RAW, JSON Lines), recomputed here.

usage: check_report.py --json RAW  |  check_report.py --prom RAW
Exits 0 when every figure matches, 1 with the differences otherwise.
"""
import collections
import json
import math
import re
import sys

REL_ERROR = 1 / 128
DUR_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]
SIZE_BOUNDS = [0, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]

# grpc/doc/statuscodes.md
GRPC_NAMES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
              "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
              "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
              "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
VERSIONS = {"http/1.0": "1.0", "http/1.1": "1.1", "h2": "2"}

failures = []


def fail(msg):
    failures.append(msg)


def nearest_rank(sorted_vals, p):
    if p >= 100:
        return sorted_vals[-1]
    rank = max(1, math.ceil(p * len(sorted_vals) / 100))
    return sorted_vals[rank - 1]


def status_class(s):
    if s <= 0:
        return "none"
    if 100 <= s < 600:
        return "%dxx" % (s // 100)
    return "other"


def is_error(r):
    """gRPC: a grpc-status other than OK, or none; HTTP: 5xx or none."""
    if r["protocol"] == "grpc":
        return r["grpc_status"] != 0
    return r["status"] <= 0 or 500 <= r["status"] < 600


def grpc_name(code):
    if code < 0:
        return "none"
    return GRPC_NAMES[code] if code < len(GRPC_NAMES) else "other"


def check_json(doc, raw):
    for k, t in (("elapsed_s", (int, float)), ("percentile_error", float), ("routes", int),
                 ("route_overflow", int), ("endpoint_overflow", int), ("endpoints", list)):
        if not isinstance(doc.get(k), t):
            fail("top-level %s: %r" % (k, doc.get(k)))
    groups = collections.defaultdict(list)
    for r in raw:
        key = (r["side"], r["process"], r["container"] or None, r["protocol"], r["method"], r["route"])
        groups[key].append(r)
    seen = set()
    last_time = None
    for e in doc["endpoints"]:
        key = (e["side"], e["process"], e["container"], e["protocol"], e["method"], e["route"])
        if key in seen:
            fail("endpoint twice: %r" % (key,))
        seen.add(key)
        rows = groups.get(key)
        if not rows:
            fail("endpoint not in the data: %r" % (key,))
            continue
        lat = sorted(r["latency_ns"] for r in rows if r["latency_ns"] >= 0)
        want = {
            "count": len(rows),
            "errors": sum(1 for r in rows if is_error(r)),
            "request_bytes": sum(r["request_bytes"] for r in rows),
            "response_bytes": sum(r["response_bytes"] for r in rows),
            "time_ns": sum(lat),
        }
        for k, v in want.items():
            if e[k] != v:
                fail("%r %s: %r, want %r" % (key, k, e[k], v))
        if abs(e["rate"] - len(rows) / doc["elapsed_s"]) > 0.0005:
            fail("%r rate %r" % (key, e["rate"]))
        classes = collections.Counter(status_class(r["status"]) for r in rows)
        for c in ("1xx", "2xx", "3xx", "4xx", "5xx", "none", "other"):
            if e["status"].get(c) != classes.get(c, 0):
                fail("%r status %s: %r, want %r" % (key, c, e["status"].get(c), classes.get(c, 0)))
        if key[3] == "grpc":
            want_grpc = dict(collections.Counter(grpc_name(r["grpc_status"]) for r in rows))
        else:
            want_grpc = None
        if e.get("grpc_status", "absent") != want_grpc:
            fail("%r grpc_status %r, want %r" % (key, e.get("grpc_status", "absent"), want_grpc))
        ln = e["latency_ns"]
        if not lat:
            if any(v is not None for v in ln.values()):
                fail("%r latency without samples: %r" % (key, ln))
        else:
            for name, p in (("p50", 50), ("p90", 90), ("p99", 99)):
                exact = nearest_rank(lat, p)
                if abs(ln[name] - exact) > REL_ERROR * exact:
                    fail("%r %s %d, exact %d" % (key, name, ln[name], exact))
            if ln["max"] != lat[-1]:
                fail("%r max %d, exact %d" % (key, ln["max"], lat[-1]))
            if ln["mean"] != sum(lat) // len(lat):
                fail("%r mean" % (key,))
        if last_time is not None and e["time_ns"] > last_time:
            fail("not sorted by total time at %r" % (key,))
        last_time = e["time_ns"]
    if seen != set(groups):
        fail("endpoints missing: %r" % (set(groups) - seen,))


SAMPLE = re.compile(r'^([a-z_]+)\{(.*)\} (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def check_prom(text, raw):
    series = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            name, value = line.split(" ")
            series[(name, ())] = value
            continue
        labels = tuple(sorted(LABEL.findall(m.group(2))))
        series[(m.group(1), labels)] = m.group(3)
    for c in ("httpsnoop_lost_events_total", "httpsnoop_route_overflow_total",
              "httpsnoop_open_connections"):
        if (c, ()) not in series:
            fail("counter %s missing" % c)
    # 12000034 us, written in seconds
    if series.get(("httpsnoop_tracer_cpu_seconds_total", ())) != "12.000034":
        fail("httpsnoop_tracer_cpu_seconds_total is %r, expected '12.000034'" %
             series.get(("httpsnoop_tracer_cpu_seconds_total", ())))
    want = {}
    for r in raw:
        if r["side"] not in ("server", "client"):
            continue
        grpc = r["protocol"] == "grpc"
        if grpc:
            svc, _, method = r["route"][1:].rpartition("/")
            if not svc:  # "/Bare": all service
                svc, method = method, ""
            labels = {"rpc_system": "grpc", "rpc_service": svc, "rpc_method": method,
                      "process": r["process"]}
            if r["grpc_status"] >= 0:
                labels["rpc_grpc_status_code"] = str(r["grpc_status"])
        else:
            labels = {
                "http_request_method": r["method"],
                "http_route": r["route"],
                "network_protocol_version": VERSIONS[r["protocol"]],
                "process": r["process"],
            }
            if r["status"] > 0:
                labels["http_response_status_code"] = str(r["status"])
        if r["container"]:
            labels["container"] = r["container"]
        base = tuple(sorted(labels.items()))
        side = r["side"]
        for fam, bounds, value in (
                ("request_duration_seconds", DUR_BOUNDS,
                 r["latency_ns"] / 1e9 if r["latency_ns"] >= 0 else None),
                ("request_body_size_bytes", SIZE_BOUNDS, r["request_bytes"]),
                ("response_body_size_bytes", SIZE_BOUNDS, r["response_bytes"])):
            if value is None:
                continue
            if grpc and fam != "request_duration_seconds":
                continue  # gRPC calls: durations only
            name = ("rpc_%s_duration_seconds" % side) if grpc else "http_%s_%s" % (side, fam)
            for b in bounds + [math.inf]:
                le = "+Inf" if b == math.inf else ("%g" % b)
                k = (name + "_bucket", tuple(sorted(base + (("le", le),))))
                # exact comparison in ns for durations
                if b == math.inf:
                    inside = True
                elif fam.startswith("request_dur"):
                    inside = r["latency_ns"] <= round(b * 1e9)
                else:
                    inside = value <= b
                want[k] = want.get(k, 0) + (1 if inside else 0)
            want[(name + "_count", base)] = want.get((name + "_count", base), 0) + 1
            s = r["latency_ns"] if fam.startswith("request_dur") else value
            want[(name + "_sum", base)] = want.get((name + "_sum", base), 0) + s
    got_keys = {k for k in series if not k[0].startswith("httpsnoop_")}
    if got_keys != set(want):
        fail("series differ: %d extra, %d missing; e.g. %r" % (
            len(got_keys - set(want)), len(set(want) - got_keys),
            sorted(got_keys ^ set(want))[:2]))
    for k, v in want.items():
        got = series.get(k)
        if got is None:
            continue
        if k[0].endswith("_sum") and "duration" in k[0]:
            sec, frac = got.split(".")
            if int(sec) * 10**9 + int(frac) != v:
                fail("%r: %s, want %d ns" % (k, got, v))
        elif int(got) != v:
            fail("%r: %s, want %d" % (k, got, v))


def main():
    mode, raw_path = sys.argv[1], sys.argv[2]
    text = sys.stdin.read()  # first: RAW is complete once the writer is done
    with open(raw_path) as f:
        raw = [json.loads(line) for line in f]
    if not raw:
        fail("no data")
    if mode == "--json":
        check_json(json.loads(text), raw)
    else:
        check_prom(text, raw)
    for m in failures[:20]:
        print("FAIL", m)
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("check_report %s: %d transactions, all figures match" % (mode, len(raw)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
