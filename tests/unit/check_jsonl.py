#!/usr/bin/python3
"""check_jsonl.py -- checks `test_output --jsonl` on stdin: every line is one
valid JSON object of httpsnoop's schema, and the fixtures decode back to what
test_output.c built.

Run: test_output --jsonl | /usr/bin/python3 tests/unit/check_jsonl.py
Exits 0 when all checks pass, 1 (printing each failure) otherwise.
"""

import base64
import binascii
import json
import re
import sys

failures = []


def fail(where, msg):
    failures.append(f"{where}: {msg}")


TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$")
ADDR_RE = re.compile(r"^((\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d{1,5}|unix:.*)$", re.S)

# Value kinds; bool is not accepted where an int is expected.
INT = "int"
STR = "str"
BOOL = "bool"
NULL_OR_INT = "int|null"
NULL_OR_STR = "str|null"


def is_int(v):
    return type(v) is int


def type_ok(v, kind):
    if kind == INT:
        return is_int(v)
    if kind == STR:
        return type(v) is str
    if kind == BOOL:
        return type(v) is bool
    if kind == NULL_OR_INT:
        return v is None or is_int(v)
    if kind == NULL_OR_STR:
        return v is None or type(v) is str
    raise AssertionError(kind)


# None: checked separately.
TOP = {
    "ts": STR, "pid": INT, "tid": INT, "comm": STR, "fd": INT, "role": STR,
    "local": NULL_OR_STR, "remote": NULL_OR_STR, "peer_pid": NULL_OR_INT,
    "peer_comm": NULL_OR_STR, "conn_id": INT,
    "cgroup_id": INT, "container_id": NULL_OR_STR, "tls": BOOL,
    "protocol": STR, "stream_id": NULL_OR_INT, "pushed": BOOL,
    "request": None, "response": None,
    "interim_status": NULL_OR_INT, "upgraded": BOOL,
    "latency_ns": NULL_OR_INT, "ttfb_ns": NULL_OR_INT, "grpc": None,
    "error": NULL_OR_STR,
}
GRPC = {
    "service": NULL_OR_STR, "method": NULL_OR_STR, "status": NULL_OR_INT,
    "status_name": NULL_OR_STR, "message": NULL_OR_STR,
    "request_messages": INT, "response_messages": INT,
    "request_preview": NULL_OR_STR, "response_preview": NULL_OR_STR,
}
MSG = {
    "version": STR, "headers": None, "trailers": None,
    "headers_truncated": BOOL, "headers_incomplete": BOOL,
    "headers_undecoded": INT,
    "complete": BOOL, "body_size": INT, "body": STR, "body_encoding": STR,
    "body_truncated": BOOL, "body_missing": INT, "body_decoded": NULL_OR_STR,
    "decode_error": NULL_OR_STR, "anomalies": None,
}
ANOMALIES = {"cl-te", "cl-differ", "te-not-chunked", "obs-fold",
             "space-before-colon", "bare-lf", "after-ambiguous"}
CONN = {k: TOP[k] for k in ("ts", "pid", "tid", "comm", "fd", "role", "local", "peer_pid", "peer_comm",
                             "remote", "conn_id", "cgroup_id", "container_id", "tls")}
WS = dict(CONN, protocol=STR, direction=STR, **{"from": STR}, opcode=STR, frames=INT,
          masked=BOOL, compressed=BOOL, size=INT, missing=INT, payload=STR,
          payload_encoding=STR, payload_truncated=BOOL, close_code=NULL_OR_INT,
          error=NULL_OR_STR)
REQ = dict(MSG, method=NULL_OR_STR, target=NULL_OR_STR)
RESP = dict(MSG, status=NULL_OR_INT, reason=STR)


def no_dup_keys(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys in {keys}")
    return dict(pairs)


def check_keys(where, obj, schema):
    if type(obj) is not dict:
        fail(where, f"not an object: {obj!r}")
        return False
    if set(obj) != set(schema):
        fail(where, f"keys differ: extra {sorted(set(obj) - set(schema))}, "
             f"missing {sorted(set(schema) - set(obj))}")
        return False
    ok = True
    for k, kind in schema.items():
        if kind is not None and not type_ok(obj[k], kind):
            fail(where, f"{k} is {obj[k]!r}, expected {kind}")
            ok = False
    return ok


def body_bytes(where, m):
    """The preview as bytes, whichever encoding carries it."""
    if m["body_encoding"] == "text":
        return m["body"].encode("utf-8")
    if m["body_encoding"] == "base64":
        try:
            return base64.b64decode(m["body"], validate=True)
        except (binascii.Error, ValueError) as e:
            fail(where, f"bad base64 body: {e}")
            return b""
    fail(where, f"body_encoding is {m['body_encoding']!r}")
    return b""


def check_msg(where, m, schema):
    if not check_keys(where, m, schema):
        return
    if not re.fullmatch(r"-?\d+\.-?\d+", m["version"]):
        fail(where, f"version {m['version']!r}")
    an = m["anomalies"]
    if type(an) is not list or not set(an) <= ANOMALIES or len(set(an)) != len(an):
        fail(where, f"anomalies not a list of known, distinct names: {an!r}")
    for key in ("headers", "trailers"):
        hdrs = m[key]
        if type(hdrs) is not list or not all(
                type(h) is list and len(h) == 2 and
                all(type(x) is str for x in h) for h in hdrs):
            fail(where, f"{key} not a list of [name, value]: {hdrs!r}")
    if m["headers_undecoded"] and not m["headers_incomplete"]:
        fail(where, "headers_undecoded without headers_incomplete")
    for k in ("body_size", "body_missing"):
        if m[k] < 0:
            fail(where, f"{k} negative")
    if m["body_missing"] > m["body_size"]:
        fail(where, "body_missing > body_size")
    b = body_bytes(where, m)
    # An undecoded, untruncated body is all there.
    if m["body_decoded"] is None and not m["body_truncated"] and \
            len(b) != m["body_size"]:
        fail(where, f"untruncated body holds {len(b)} bytes, body_size "
             f"{m['body_size']}")


def bad_constant(c):
    raise ValueError(f"non-JSON constant {c}")


def check_line(lineno, raw):
    where = f"line {lineno}"
    # The writer promises more than JSON needs: no raw control at all, so
    # that a JSON trace is as safe in a terminal as the text one.
    for i, c in enumerate(raw):
        if c < 0x20 or c == 0x7F:
            fail(where, f"raw control byte 0x{c:02x} at {i}")
            return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        fail(where, f"not UTF-8: {e}")
        return None
    for i, ch in enumerate(text):
        o = ord(ch)
        if 0x80 <= o < 0xA0 or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            fail(where, f"raw U+{o:04X} at char {i}")
            return None
    try:
        obj = json.loads(text, object_pairs_hook=no_dup_keys,
                         parse_constant=bad_constant)
    except ValueError as e:
        fail(where, f"invalid JSON: {e}")
        return None
    if obj.get("protocol") == "websocket":
        return check_ws(where, obj)
    if not check_keys(where, obj, TOP):
        return None
    if not TS_RE.match(obj["ts"]):
        fail(where, f"ts {obj['ts']!r}")
    if obj["role"] not in ("client", "server", "unknown"):
        fail(where, f"role {obj['role']!r}")
    if obj["protocol"] not in ("http/1.0", "http/1.1", "h2"):
        fail(where, f"protocol {obj['protocol']!r}")
    if (obj["protocol"] == "h2") != (obj["stream_id"] is not None):
        fail(where, "stream_id is for h2 only, and h2 always has one")
    if obj["grpc"] is not None and check_keys(where + " grpc", obj["grpc"], GRPC):
        g = obj["grpc"]
        if (g["status"] is None) != (g["status_name"] is None) and \
                (g["status"] is None or g["status"] <= 16):
            fail(where, "grpc status and status_name disagree")
    for k in ("local", "remote"):
        if obj[k] is not None and not ADDR_RE.match(obj[k]):
            fail(where, f"{k} {obj[k]!r}")
    for k in ("pid", "tid", "conn_id", "cgroup_id"):
        if obj[k] < 0:
            fail(where, f"{k} negative")
    if obj["request"] is not None:
        check_msg(where + " request", obj["request"], REQ)
    if obj["response"] is not None:
        check_msg(where + " response", obj["response"], RESP)
    elif obj["latency_ns"] is not None or obj["ttfb_ns"] is not None:
        fail(where, "timings without a response")
    if obj["request"] is None and (obj["latency_ns"] is not None or
                                   obj["ttfb_ns"] is not None):
        fail(where, "timings without a request")
    return obj


def check_ws(where, obj):
    """A WebSocket message's record."""
    if not check_keys(where, obj, WS):
        return None
    if obj["direction"] not in ("send", "recv") or obj["from"] not in ("client", "server"):
        fail(where, f"direction {obj['direction']!r}, from {obj['from']!r}")
    if obj["opcode"] not in ("text", "binary", "close", "ping", "pong"):
        fail(where, f"opcode {obj['opcode']!r}")
    if obj["missing"] > obj["size"] or obj["frames"] < 1:
        fail(where, "missing > size, or no frame")
    if obj["payload_encoding"] not in ("text", "base64"):
        fail(where, f"payload_encoding {obj['payload_encoding']!r}")
    if (obj["close_code"] is not None) != (obj["opcode"] == "close" and obj["close_code"] is not None):
        fail(where, "close_code on a message that is not a close")
    return obj


# ---- the fixtures of test_output.c, by conn_id ----

def expect(where, got, want):
    if got != want:
        fail(where, f"got {got!r}, want {want!r}")


def bin_byte(i):
    png = [0x89, ord("P"), ord("N"), ord("G"), 0x0D, 0x0A, 0x1A, 0x0A]
    return png[i] if i < len(png) else (i * 37 + 11) & 0xFF


def fx_get(o):
    expect("get ts", o["ts"], "2026-11-24T14:02:11.123456789Z")
    for k, v in (("pid", 4242), ("tid", 4243), ("comm", "curl"), ("fd", 5),
                 ("role", "client"), ("local", "127.0.0.1:51234"),
                 ("remote", "127.0.0.1:8080"), ("cgroup_id", 1234),
                 ("interim_status", None), ("upgraded", False),
                 ("latency_ns", 1234000), ("ttfb_ns", 1101000),
                 ("error", None), ("protocol", "http/1.1"),
                 ("stream_id", None), ("pushed", False), ("grpc", None)):
        expect("get " + k, o[k], v)
    q, r = o["request"], o["response"]
    expect("get method", q["method"], "GET")
    expect("get target", q["target"], "/users")
    expect("get version", q["version"], "1.1")
    expect("get req headers", q["headers"],
           [["Host", "127.0.0.1:8080"], ["User-Agent", "curl/7.88.1"],
            ["Accept", "*/*"]])
    expect("get req body", (q["body"], q["body_size"], q["body_encoding"]),
           ("", 0, "text"))
    expect("get status", (r["status"], r["reason"]), (200, "OK"))
    expect("get resp headers", r["headers"],
           [["Content-Type", "application/json"], ["Content-Length", "25"]])
    expect("get resp body", r["body"], '[{"id":1,"name":"Alice"}]')
    expect("get resp flags",
           (r["body_encoding"], r["body_truncated"], r["body_missing"],
            r["body_decoded"], r["decode_error"], r["complete"]),
           ("text", False, 0, None, None, True))
    expect("get json body", json.loads(r["body"]), [{"id": 1, "name": "Alice"}])


def fx_post(o):
    expect("post role", o["role"], "server")
    expect("post body", o["request"]["body"], "name=alice\r\nline2\n")
    expect("post status", o["response"]["status"], 201)
    expect("post timings", (o["latency_ns"], o["ttfb_ns"]), (850000, 500))


def fx_gzip(o):
    r = o["response"]
    expect("gzip decoded", r["body_decoded"], "gzip")
    # The cut "\xc3" at the end of the preview is dropped, not mangled.
    expect("gzip body", (r["body"], r["body_encoding"]), ("héllo wörld ", "text"))
    expect("gzip truncated", r["body_truncated"], True)
    expect("gzip size", r["body_size"], 40)
    expect("gzip latency", o["latency_ns"], 2500000000)


def fx_binary(o):
    r = o["response"]
    expect("binary encoding", r["body_encoding"], "base64")
    expect("binary body", body_bytes("binary", r),
           bytes(bin_byte(i) for i in range(64)))
    expect("binary flags", (r["body_size"], r["body_truncated"]), (1000, True))


def fx_missing(o):
    expect("missing response", o["response"], None)
    expect("missing error", o["error"], "connection closed before response")
    expect("missing timings", (o["latency_ns"], o["ttfb_ns"]), (None, None))
    q = o["request"]
    expect("missing req",
           (q["complete"], q["body"], q["body_size"], q["body_missing"],
            q["body_truncated"]),
           (False, "hi", 12, 10, True))


def fx_hostile(o):
    expect("hostile comm", o["comm"], "\x1b[31mevil")
    q, r = o["request"], o["response"]
    expect("hostile target", q["target"], "/h\x1b[2J?x=\ufffd")
    expect("hostile headers", q["headers"], [
        ["X-Esc", "\x1b]0;pwned\x07"],
        ["X-Bad", "\ufffd\ufffd\ufffd\ufffd ok"],
        ["X-Quote", 'a"b\\c\x00d'],
        ["X-C1", "\x9b31m"],
        ["X-Bidi", "abc\u202edef"],
        ["X-Sep", "a\u2028b"],
        ["X\x1b[1mName", "v"],
    ])
    expect("hostile req body", (q["body"], q["body_encoding"]),
           ("a\rb\u202ec\r\n", "text"))
    expect("hostile reason", r["reason"], "OK\x1b[0m")
    expect("hostile resp body", (r["body_encoding"], body_bytes("hostile", r)),
           ("base64", b"\x1b[?1049h\x1b]52;c;cHduZWQ=\x07\x7f"))


def fx_ipv6(o):
    expect("ipv6 addrs", (o["local"], o["remote"]), ("[::1]:8080", "[::1]:40000"))
    expect("ipv6 role", o["role"], "unknown")
    expect("ipv6 interim", o["interim_status"], 100)
    expect("ipv6 status", o["response"]["status"], 204)


def fx_upgrade(o):
    expect("upgrade", (o["upgraded"], o["response"]["status"],
                       o["response"]["reason"]),
           (True, 101, "Switching Protocols"))


def fx_orphan(o):
    expect("orphan request", o["request"], None)
    expect("orphan addrs", (o["local"], o["remote"]), (None, None))
    expect("orphan ts", o["ts"], "2026-11-24T14:02:18.123456789Z")
    expect("orphan comm", o["comm"], "")
    expect("orphan version", o["response"]["version"], "1.0")
    expect("orphan timings", (o["latency_ns"], o["ttfb_ns"]), (None, None))


def fx_decode_error(o):
    r = o["response"]
    expect("decode_error",
           (r["decode_error"], r["body_decoded"], r["body_missing"],
            r["complete"], r["body_encoding"], r["body_truncated"]),
           ("invalid deflate data", None, 5, False, "base64", True))
    expect("decode_error body", body_bytes("decode_error", r),
           bytes([0x78, 0x9C, 0xFF, 0x00, 0x13]))
    expect("decode_error timings", (o["latency_ns"], o["ttfb_ns"]), (None, 1000))
    expect("decode_error error", o["error"], "response truncated by capture gap")


def fx_anomalies(o):
    expect("anomalies request", o["request"]["anomalies"], ["cl-te", "obs-fold"])
    expect("anomalies response", o["response"]["anomalies"], ["bare-lf"])
def fx_h2_grpc(o):
    expect("h2 protocol", (o["protocol"], o["stream_id"], o["pushed"]),
           ("h2", 3, False))
    q, r = o["request"], o["response"]
    expect("h2 request", (q["method"], q["target"], q["version"]),
           ("POST", "/demo.Echo/Say", "2.0"))
    expect("h2 pseudo-headers", q["headers"][:2],
           [[":method", "POST"], [":path", "/demo.Echo/Say"]])
    expect("h2 trailers", r["trailers"],
           [["grpc-status", "5"], ["grpc-message", "no such user"]])
    expect("h2 grpc", o["grpc"], {
        "service": "demo.Echo", "method": "Say", "status": 5,
        "status_name": "NOT_FOUND", "message": "no such user",
        "request_messages": 1, "response_messages": 0,
        "request_preview": '1: "alice"', "response_preview": None})


def fx_h2_unknown(o):
    expect("h2 pushed", (o["stream_id"], o["pushed"]), (2, True))
    q = o["request"]
    expect("h2 unknown", (q["method"], q["target"], q["headers_incomplete"],
                          q["headers_undecoded"], o["response"]["status"]),
           (None, None, True, 2, None))


def fx_unix_server(o):
    expect("unix server", (o["role"], o["local"], o["remote"], o["peer_pid"], o["peer_comm"]),
           ("server", "unix:/run/podman/podman.sock", "unix:", 5151, "docker"))


def fx_unix_hostile(o):
    expect("unix hostile", (o["local"], o["remote"], o["peer_pid"], o["peer_comm"]),
           ("unix:", "unix:@\x1b[31m\"x\\\x7f\n", None, None))


def fx_unix_unknown(o):
    expect("unix unknown", (o["local"], o["remote"], o["peer_pid"]), ("unix:", "unix:", None))


FIXTURES = {1: fx_get, 2: fx_post, 3: fx_gzip, 4: fx_binary, 5: fx_missing,
            6: fx_hostile, 7: fx_ipv6, 8: fx_upgrade, 9: fx_orphan,
            10: fx_decode_error, 11: fx_anomalies, 12: fx_h2_grpc,
            13: fx_h2_unknown, 14: fx_unix_server, 15: fx_unix_hostile,
            16: fx_unix_unknown}
RANDOM_ID0 = 1000  # conn_id of test_output.c's first random transaction
NRANDOM = 300
WS_ID0 = 2000  # conn_id of its first WebSocket message
NWS = 5


def main():
    data = sys.stdin.buffer.read()
    if not data:
        fail("input", "empty")
    elif not data.endswith(b"\n"):
        fail("input", "does not end in a newline")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    seen = set()
    nrandom = nws = 0
    for n, raw in enumerate(lines, 1):
        obj = check_line(n, raw)
        if obj is None:
            continue
        cid = obj["conn_id"]
        if cid in FIXTURES:
            if cid in seen:
                fail(f"line {n}", f"fixture conn_id {cid} twice")
            seen.add(cid)
            FIXTURES[cid](obj)
        elif RANDOM_ID0 <= cid < RANDOM_ID0 + NRANDOM:
            nrandom += 1
        elif WS_ID0 <= cid < WS_ID0 + NWS and obj.get("protocol") == "websocket":
            nws += 1
        else:
            fail(f"line {n}", f"unexpected conn_id {cid}")
    for cid in FIXTURES:
        if cid not in seen:
            fail("input", f"fixture conn_id {cid} missing")
    if nrandom != NRANDOM:
        fail("input", f"{nrandom} random transactions, expected {NRANDOM}")
    if nws != NWS:
        fail("input", f"{nws} WebSocket messages, expected {NWS}")

    for f in failures:
        print("FAIL " + f, file=sys.stderr)
    if failures:
        print(f"check_jsonl: {len(failures)} check(s) failed", file=sys.stderr)
        return 1
    print(f"check_jsonl: {len(lines)} lines ok ({len(FIXTURES)} fixtures, "
          f"{nrandom} random, {nws} WebSocket)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
