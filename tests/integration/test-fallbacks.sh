#!/bin/bash
# test-fallbacks.sh -- the paths for older kernels or other machines, forced on this one: one ring buffer for all CPUs instead of one per CPU, a perf buffer instead of the ring buffers, accept/connect tracking + /proc instead of the sock tracepoints, no syscall arguments from registers, TCP sends dated at their end; each must trace the demo exactly (and HTTP over a Unix socket on the perf buffers); a server that moves between CPUs must come out whole from the per-CPU ring buffers and perf buffers; file I/O that looks like HTTP must not be reported; the reader runs as SCHED_BATCH unless HTTPSNOOP_SCHED=normal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/unixlib.sh"
need_tools curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT
printf 'GET /not-a-socket HTTP/1.1\r\nHost: file\r\n\r\n' >"$T/looks-like-http.txt"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' >"$T/looks-like-response.txt"

# run NAME ENV SAYS [POLICY]: trace the demo with ENV set, send the same
# requests; stderr must say SAYS, and the reader's scheduling policy
# (field 41 of /proc/PID/stat) be POLICY (3: SCHED_BATCH; 0: the default).
run() {
	local name=$1 env=$2 i policy
	env "$env" "$HTTPSNOOP" -v -p "$DEMO_PID" -f json -o "$T/$name.jsonl" 2>"$T/$name.err" &
	HS_PID[$name]=$!
	track "$!"
	hs_wait "$name"
	grep -q "$3" "$T/$name.err" || fail "$name: stderr does not say '$3' is in use"
	if [ -n "${4:-}" ]; then
		policy=$(sed 's/.*) //' "/proc/${HS_PID[$name]}/stat" | awk '{ print $39 }')
		[ "$policy" = "$4" ] || fail "$name: the reader's scheduling policy is '$policy', not $4"
	fi
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

run sharedring HTTPSNOOP_FORCE_SHARED_RING=1 'using one ring buffer' 3
# The reader runs as SCHED_BATCH unless asked not to; a value it does
# not know is said to be wrong.
run schednormal HTTPSNOOP_SCHED=normal 'reading at the default scheduling policy' 0
HTTPSNOOP_SCHED=bogus "$HTTPSNOOP" -v -d 1 -p "$DEMO_PID" -o /dev/null 2>"$T/schedbogus.err" ||
	fail "schedbogus: httpsnoop failed: $(tail -3 "$T/schedbogus.err")"
grep -q "HTTPSNOOP_SCHED=bogus: expected 'normal' or 'batch'" "$T/schedbogus.err" ||
	fail "schedbogus: no warning about HTTPSNOOP_SCHED=bogus"
grep -q "reading as SCHED_BATCH" "$T/schedbogus.err" ||
	fail "schedbogus: stderr does not say the reader runs as SCHED_BATCH"
run perfbuf HTTPSNOOP_FORCE_PERF_BUFFER=1 'perf buffer'
run nosocktp HTTPSNOOP_FORCE_NO_SOCK_TP=1 'accept/connect tracking'
# Without reading a syscall's arguments from the task's registers (kernels
# before 5.15, no BTF, not x86-64): only what entered after the start.
run noregs HTTPSNOOP_FORCE_NO_TASK_REGS=1 'sock tracepoints$'
# Without tcp:tcp_sendmsg_locked (kernels before 6.12): TCP sends dated at
# their end.
run notcpsend HTTPSNOOP_FORCE_NO_TCP_SEND_TP=1 'TCP sends dated at their end'

# Perf buffers, and the ring buffers of a machine with a few CPUs, are one
# buffer per CPU, read one after the other, so the records of a thread
# that moves between CPUs come in out of order unless httpsnoop puts them
# back in time order.  This server moves on purpose: it reads each request
# on one CPU, answers on the other and closes on the first, so that the
# response is in a buffer the reader drains after the request's or the
# close's.  Every transaction must come out whole, on both kinds.
CPUS=$($PY -c 'import os; print(" ".join(map(str, sorted(os.sched_getaffinity(0))[:2])))')
if [ "$(wc -w <<<"$CPUS")" -lt 2 ]; then
	log "skipped the migrating server: it needs two CPUs, this machine has one"
else
	cat >"$T/migrating.py" <<'PYEOF'
import os, socket, sys
port, a, b, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
print("listening", flush=True)
for i in range(n):
    first, second = (a, b) if i % 2 == 0 else (b, a)
    c, _ = ls.accept()
    os.sched_setaffinity(0, {first})
    req = b""
    while b"\r\n\r\n" not in req:
        req += c.recv(4096)
    os.sched_setaffinity(0, {second})
    body = b"moved %d\n" % i
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    os.sched_setaffinity(0, {first})
    c.close()
    print(req.split(b" ")[1].decode(), flush=True)
PYEOF
	# migrating NAME ENV WANT: the server traced with ENV set, whose -v
	# must say WANT.
	migrating() {
		local name=$1 env=$2 want=$3 i mport mpid N=40
		mport=$(free_port)
		$PY "$T/migrating.py" "$mport" $CPUS $N >"$T/$name.out" 2>&1 &
		mpid=$!
		track "$mpid"
		wait_listen "$mport" || die "the migrating server did not listen"
		env "$env" "$HTTPSNOOP" -v -p "$mpid" -f json -o "$T/$name.jsonl" 2>"$T/$name.err" &
		HS_PID[$name]=$!
		track "$!"
		hs_wait "$name"
		grep -q "$want" "$T/$name.err" || fail "$name: stderr does not say '$want' is in use"
		: >"$T/expect"
		for i in $(seq $N); do
			curl -sS -o /dev/null "http://127.0.0.1:$mport/m$i" || fail "curl to the migrating server failed"
			echo "GET /m$i 200 *" >>"$T/expect"
		done
		wait "$mpid" || fail "the migrating server failed: $(cat "$T/$name.out")"
		# Ground truth: what the server says it served, in order.
		diff <(sed 's/^/GET /; s/$/ 200 */' <(grep '^/m' "$T/$name.out")) "$T/expect" >&2 ||
			fail "the migrating server did not serve what curl asked"
		hs_stop "$name"
		hs_show_stats "$name"
		$CHECK expect --jsonl "$T/$name.jsonl" --pid "$mpid" --role server \
			--expect "$T/expect" --ordered --exact-count || fail "$name: server side differs"
		hs_expect_stat "$name" 'unpaired responses' 0
		hs_expect_stat "$name" 'lost events' 0
	}
	migrating migrating HTTPSNOOP_FORCE_PERF_BUFFER=1 'perf buffer'
	# The default where a ring per CPU has 2 MiB of the 32 (2 to 16 CPUs).
	ncpu=$(getconf _NPROCESSORS_CONF)
	if [ "$ncpu" -ge 2 ] && [ "$ncpu" -le 16 ]; then
		migrating migrating-rings HS_NOTHING_FORCED=1 'a ring buffer per CPU'
	else
		log "skipped the migrating server on per-CPU ring buffers: $ncpu CPUs get one ring"
	fi
fi

# HTTP over a Unix socket on the perf buffers: a connection's names go in
# a record that wakes the reader at once (hs_urgent), its bytes in
# hs_events, which wakes it every 256 records; the names must still come
# first, or its transactions name no path.
U=$T/fb.sock
http_unix_server "$U" fb
export HTTPSNOOP_FORCE_PERF_BUFFER=1
hs_spawn unixperf -v --unix "$U"
unset HTTPSNOOP_FORCE_PERF_BUFFER
hs_wait unixperf
grep -q 'perf buffer' "$T/unixperf.err" || fail "unixperf: stderr does not say 'perf buffer' is in use"
http_unix_get "$U" /u1 /status/404 /u2
hs_stop unixperf
printf '%s\n' "GET /u1 200 *" "GET /status/404 404 *" "GET /u2 200 *" >"$T/expect"
$CHECK expect --jsonl "$T/unixperf.jsonl" --pid "$HTTP_UNIX" --role server --unix "$U" \
	--expect "$T/expect" --ordered --exact-count || fail "unixperf: server side differs"
$CHECK expect --jsonl "$T/unixperf.jsonl" --pid "$HTTP_GET" --role client --unix "$U" \
	--expect "$T/expect" --ordered --exact-count || fail "unixperf: client side differs"
hs_expect_stat unixperf 'parse errors' 0
hs_expect_stat unixperf 'lost events' 0

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
