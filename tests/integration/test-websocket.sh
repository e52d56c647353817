#!/bin/bash
# test-websocket.sh -- WebSocket after a 101, between python3-websockets' server and client (text, binary, long, fragmented, masked client frames, a close with a code), with and without permessage-deflate: every message on both sides against each peer's own log of what it sent and received.
. "$(dirname "$0")/lib.sh"
need_bpf
"$PY" -c 'import websockets' 2>/dev/null || skip "python3-websockets is not installed"

# One program, two modes: an echo server and a client; each logs every
# message it sends and receives, and the close code it ends with.
cat >"$T/peer.py" <<'PYEOF'
import asyncio, json, os, ssl, sys, websockets
mode, port, logf, comp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
compression = None if comp == "none" else "deflate"
# "tls": permessage-deflate over TLS (python's ssl drives OpenSSL through
# memory BIOs under asyncio)
tls = comp == "tls"
cert = os.environ.get("WS_CERT")
log = open(logf, "w")

def note(**kw):
    log.write(json.dumps(kw) + "\n")
    log.flush()

def kind(m):
    return ("text", m.encode()) if isinstance(m, str) else ("binary", bytes(m))

async def handler(ws, path=None):
    try:
        async for m in ws:
            k, b = kind(m)
            note(dir="recv", kind=k, hex=b.hex())
            await ws.send(m)
            note(dir="send", kind=k, hex=b.hex())
    except websockets.ConnectionClosed:
        pass
    note(dir="close", code=ws.close_code, reason=ws.close_reason)

async def server():
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, os.environ["WS_KEY"])
    async with websockets.serve(handler, "127.0.0.1", port, compression=compression,
                                ssl=ctx):
        await asyncio.Future()

async def client():
    msgs = ["hello", "h\u00e9llo w\u00f6rld \u2713", os.urandom(3000), "x" * 5000]
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    async with websockets.connect(f"{'wss' if tls else 'ws'}://127.0.0.1:{port}/chat",
                                  compression=compression, ssl=ctx) as ws:
        for m in msgs:
            await ws.send(m)
            k, b = kind(m)
            note(dir="send", kind=k, hex=b.hex())
            r = await ws.recv()
            k, b = kind(r)
            note(dir="recv", kind=k, hex=b.hex())
        parts = ["frag one ", "frag two ", "frag three"]
        await ws.send(iter(parts))
        note(dir="send", kind="text", hex="".join(parts).encode().hex(), frames=len(parts))
        r = await ws.recv()
        k, b = kind(r)
        note(dir="recv", kind=k, hex=b.hex())
        await ws.close(code=4000, reason="done")
    note(dir="close", code=ws.close_code, reason=ws.close_reason)

asyncio.run(server() if mode == "server" else client())
PYEOF

# Each side's messages, as httpsnoop reported them, against that peer's
# log, in order: direction, kind, payload, and the frames of a message
# sent in fragments; then the close, with its code and reason.
cat >"$T/compare.py" <<'PYEOF'
import base64, json, sys
jsonl, role, port, logf, comp = sys.argv[1:6]
log = [json.loads(l) for l in open(logf)]
want = [e for e in log if e["dir"] != "close"]
closed = [e for e in log if e["dir"] == "close"][0]
end = "local" if role == "server" else "remote"
got = [r for r in map(json.loads, open(jsonl))
       if r.get("protocol") == "websocket" and r["role"] == role and
       r[end] == "127.0.0.1:" + port]
bad = []
data = [r for r in got if r["opcode"] in ("text", "binary")]
if len(data) != len(want):
    bad.append(f"{len(data)} data messages reported, the {role} logged {len(want)}")
for i, (r, e) in enumerate(zip(data, want)):
    p = (r["payload"].encode() if r["payload_encoding"] == "text"
         else base64.b64decode(r["payload"]))
    what = f"{role} message {i}"
    if r["direction"] != e["dir"] or r["opcode"] != e["kind"]:
        bad.append(f"{what}: {r['direction']} {r['opcode']}, logged {e['dir']} {e['kind']}")
    if p.hex() != e["hex"] or r["payload_truncated"] or r["missing"] or r["error"]:
        bad.append(f"{what}: payload differs ({len(p)} bytes, logged {len(e['hex']) // 2})")
    if r["masked"] != (r["from"] == "client") or r["from"] != ("client" if (role == "client") == (e["dir"] == "send") else "server"):
        bad.append(f"{what}: from {r['from']}, masked {r['masked']}")
    if comp == "none" and (r["compressed"] or r["size"] != len(p)):
        bad.append(f"{what}: size {r['size']} for {len(p)} bytes, compressed {r['compressed']}")
    # websockets ends a message sent in parts with an empty frame
    if e.get("frames") and not e["frames"] <= r["frames"] <= e["frames"] + 1:
        bad.append(f"{what}: {r['frames']} frames, sent in {e['frames']} parts")
if comp != "none" and not any(r["compressed"] for r in data):
    bad.append(f"{role}: no message compressed though permessage-deflate was agreed")
def reason(r):
    if r["payload_encoding"] == "text":
        return r["payload"]
    return base64.b64decode(r["payload"]).decode(errors="replace")
closes = [r for r in got if r["opcode"] == "close"]
if (sorted(r["direction"] for r in closes) != ["recv", "send"] or
        any(r["close_code"] != closed["code"] or reason(r) != closed["reason"]
            for r in closes)):
    bad.append(f"{role}: closes {[(r['direction'], r['close_code'], r['payload']) for r in closes]}, "
               f"logged {closed['code']} {closed['reason']!r}")
for b in bad:
    print(b)
print(f"{role} ({comp}): {len(data)} messages, {len(closes)} closes compared")
sys.exit(1 if bad else 0)
PYEOF

PORTS=()
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 1 -subj /CN=localhost >/dev/null 2>&1 || die "openssl could not make a certificate"
export WS_CERT=$T/cert.pem WS_KEY=$T/key.pem
COMPS=(none deflate tls)
for comp in "${COMPS[@]}"; do
	PORTS+=("$(free_port)")
done
hs_start hs -P "${PORTS[0]}" -P "${PORTS[1]}" -P "${PORTS[2]}" -b 1048576
i=0
for comp in "${COMPS[@]}"; do
	port=${PORTS[$i]}
	i=$((i + 1))
	"$PY" "$T/peer.py" server "$port" "$T/server-$comp.log" "$comp" >"$T/server-$comp.out" 2>&1 &
	track "$!"
	wait_listen "$port" || die "the websockets server did not listen on $port"
	"$PY" "$T/peer.py" client "$port" "$T/client-$comp.log" "$comp" >"$T/client-$comp.out" 2>&1 ||
		fail "the websockets client failed ($comp): $(tail -n 3 "$T/client-$comp.out")"
done
sleep 1 # the server logs its close after the client's
hs_stop hs
hs_show_stats hs

i=0
for comp in "${COMPS[@]}"; do
	port=${PORTS[$i]}
	i=$((i + 1))
	for role in server client; do
		"$PY" "$T/compare.py" "$T/hs.jsonl" "$role" "$port" "$T/$role-$comp.log" "$comp" >&2 ||
			fail "$role side ($comp) differs from the $role's log"
	done
	n=$(jq_port "$port" 'select(.response.status == 101)' "$T/hs.jsonl" | wc -l)
	[ "$n" = 2 ] || fail "$comp: the upgrade reported $n times, expected on both sides"
	if [ "$comp" = tls ]; then
		n=$(jq_port "$port" 'select(.tls != true)' "$T/hs.jsonl" | wc -l)
		[ "$n" = 0 ] || fail "tls: $n records not marked tls"
	fi
done
hs_expect_stat hs 'parse errors' 0
finish
