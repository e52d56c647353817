#!/bin/bash
# test-fallbacks.sh -- the paths for older kernels, forced on this one: a perf buffer instead of the ring buffer, and accept/connect tracking + /proc instead of the sock tracepoints; both must trace the demo exactly, and file I/O that looks like HTTP must not be reported.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT
printf 'GET /not-a-socket HTTP/1.1\r\nHost: file\r\n\r\n' >"$T/looks-like-http.txt"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' >"$T/looks-like-response.txt"

# run NAME ENV: trace the demo with ENV set, send the same requests.
run() {
	local name=$1 env=$2 i
	env "$env" "$HTTPSNOOP" -v -p "$DEMO_PID" -f json -o "$T/$name.jsonl" 2>"$T/$name.err" &
	HS_PID[$name]=$!
	track "$!"
	hs_wait "$name"
	grep -q "$3" "$T/$name.err" || fail "$name: stderr does not say '$3' is in use"
	curl -sS -o /dev/null "$URL/users"
	curl -sS -o /dev/null "$URL/chunked"
	curl -sS -o /dev/null --compressed "$URL/gzip"
	curl -sS -o /dev/null --data-binary 'x=1' "$URL/echo"
	for i in 1 2 3; do curl -sS -o /dev/null "$URL/health"; done
	hs_stop "$name"
	hs_show_stats "$name"
	printf '%s\n' "GET /users 200 *" "GET /chunked 200 32" "GET /gzip 200 *" \
		"POST /echo 200 3" "GET /health 200 *" "GET /health 200 *" \
		"GET /health 200 *" >"$T/expect"
	$CHECK expect --jsonl "$T/$name.jsonl" --pid "$DEMO_PID" --role server \
		--expect "$T/expect" --ordered --exact-count || fail "$name: server side differs"
	hs_expect_stat "$name" 'parse errors' 0
	hs_expect_stat "$name" 'lost events' 0
}

run perfbuf HTTPSNOOP_FORCE_PERF_BUFFER=1 'perf buffer'
run nosocktp HTTPSNOOP_FORCE_NO_SOCK_TP=1 'accept/connect tracking'

# Without the sock tracepoints the probe cannot tell files from sockets
# by itself: a file whose bytes look like HTTP, read by a process, must
# not come out as a transaction (user space checks /proc/PID/fd).
env HTTPSNOOP_FORCE_NO_SOCK_TP=1 "$HTTPSNOOP" -c hs-filereader -f json -o "$T/files.jsonl" 2>"$T/files.err" &
HS_PID[files]=$!
track "$!"
hs_wait files
cat >"$T/reader.py" <<'PYEOF'
import sys, time, ctypes
# comm "hs-filereader", so that the tracer's -c picks only this process
ctypes.CDLL(None).prctl(15, b"hs-filereader", 0, 0, 0)
for _ in range(20):
    for p in sys.argv[1:]:
        with open(p, "rb") as f:
            f.read()
    time.sleep(0.05)
PYEOF
$PY "$T/reader.py" "$T/looks-like-http.txt" "$T/looks-like-response.txt" || fail "the file reader failed"
hs_stop files
$CHECK none --jsonl "$T/files.jsonl" || fail "file reads were reported as HTTP"
# ...and that is because they were recognised, not because none arrived.
n=$(hs_stat files 'not sockets')
[ "${n:-0}" -gt 0 ] || fail "the probe sent no file reads to check (not sockets: ${n:-none})"
finish
