#!/bin/bash
# test-soak.sh -- a mixed run (keep-alive, short-lived connections, 1 MB bodies, hostile bytes) against a traced nginx for SOAK_SECONDS (90 in CI; SOAK_SECONDS=600 for the 10-minute soak), sampling httpsnoop's RSS and its connection tables every 10 s: flat, reclaimed, nothing lost, every request traced.
. "$(dirname "$0")/lib.sh"
need_tools nginx jq
need_bpf

SOAK_SECONDS=${SOAK_SECONDS:-90}
[ "$SOAK_SECONDS" -ge 40 ] || die "SOAK_SECONDS must be at least 40"
PORT=$(free_port)
nginx_start soak "$PORT"
WORKER=$NGINX_WORKER

cat >"$T/load.py" <<'PYEOF'
# Paced load of four kinds, one thread each, for a fixed time.
import http.client, os, socket, struct, sys, threading, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + seconds
errors = []

def paced(period, fn):
    n, t = 0, time.monotonic()
    while time.monotonic() < end:
        try:
            fn(n)
        except Exception as e:  # a failed request is a test failure
            errors.append(repr(e))
        n += 1
        t += period
        time.sleep(max(0, t - time.monotonic()))

def get(c, target, size):
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    if r.status != 200 or (size is not None and len(body) != size):
        raise RuntimeError(f"{target}: {r.status}, {len(body)} bytes")

ka = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
def keepalive(n):
    get(ka, f"/index.html?ka={n}", None)

def short(n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    get(c, f"/index.html?short={n}", None)
    c.close()

def big(n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    get(c, f"/file-1m?big={n}", 1 << 20)
    c.close()

def hostile(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    kind = n % 3
    if kind == 0:
        s.sendall(os.urandom(4096))
    elif kind == 1:
        s.sendall(b"GET /half HTTP/1.1\r\nHost: x\r\nX-")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    else:
        # a good request, then garbage pipelined behind it
        s.sendall(b"GET /index.html?pre-garbage=%d HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"\x00garbage\r\n\r\n" % n)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    s.close()

threads = [threading.Thread(target=paced, args=a) for a in
           [(0.005, keepalive), (0.02, short), (1.0, big), (0.5, hostile)]]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit(f"{len(errors)} request(s) failed, first: {errors[0]}")
PYEOF

hs_start hs -P "$PORT" -b 64
HS=${HS_PID[hs]}
# sample: "SECONDS RSS_KB KERNEL_TABLE OPEN_CONNECTIONS" from a SIGUSR1 dump
sample() {
	hs_stats_now hs || return 1
	echo "$1 $(awk '/^VmRSS/ {print $2}' "/proc/$HS/status") $(hs_stat hs 'kernel table') $(hs_stat hs 'open connections')"
}
sample 0 >"$T/samples"
$PY "$T/load.py" "$PORT" "$SOAK_SECONDS" >"$T/load.out" 2>&1 &
LOAD=$!
track "$LOAD"
start=$(date +%s)
while kill -0 "$LOAD" 2>/dev/null; do
	sleep 10
	kill -0 "$HS" 2>/dev/null || die "httpsnoop died $(($(date +%s) - start)) s into the soak"
	sample $(($(date +%s) - start)) >>"$T/samples"
done
wait "$LOAD" || fail "the load client: $(tail -n 1 "$T/load.out")"
sleep 2
sample end >>"$T/samples"
hs_stop hs
hs_show_stats hs
log "samples (seconds, RSS kB, kernel table, open connections):"
sed 's/^/    /' "$T/samples" >&2

# Flat: after the first 20 s (buffers and caches warm), RSS grows by less
# than 16 MiB whatever the duration; connections are given back.
read -r _ rss0 kt0 _ < <(awk '$1 != "end" && $1 >= 20' "$T/samples" | head -n 1)
read -r _ rss1 kt1 open1 < <(tail -n 1 "$T/samples")
[ -n "$rss0" ] || die "no sample after 20 s"
[ $((rss1 - rss0)) -lt 16384 ] || fail "RSS grew from $rss0 kB to $rss1 kB during the soak"
[ "$open1" -lt 50 ] || fail "$open1 connections still tracked in user space after the load"
read -r _ _ kts _ < <(head -n 1 "$T/samples")
[ $((kt1 - kts)) -lt 50 ] || fail "kernel table: $kts entries before, $kt1 after the load"
hs_expect_stat hs 'lost events' 0

# Every request nginx answered with 200 is traced, on its side, once.
for kind in ka short big pre-garbage; do
	logged=$(grep -c "[?&]$kind[=& ]" "$NGINX_LOG" || true)
	traced=$(jq -c --argjson w "$WORKER" --arg k "$kind" 'select(.pid == $w and .role == "server" and .response.status == 200 and
		((.request.target // "") | test("[?&]" + $k + "(=|&|$)")))' "$T/hs.jsonl" | wc -l)
	[ "$logged" -gt 0 ] || fail "nginx logged no '$kind' request"
	[ "$traced" = "$logged" ] || fail "'$kind': nginx logged $logged, httpsnoop traced $traced"
done
$CHECK within --jsonl "$T/hs.jsonl" --pid "$WORKER" --role server --log "$NGINX_LOG" ||
	fail "httpsnoop reported server-side transactions nginx never logged"
finish
