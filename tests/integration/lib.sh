# lib.sh -- helpers of the integration tests (real eBPF, real peers, loopback only), on top of tests/lib/common.sh.
#
# Sourced by every tests/integration/test-*.sh; brings in tests/lib/common.sh
# (results, scratch directory $T, cleanup, ports, statistics, nginx).
# Environment (set by meson, or by hand when a test is run directly):
#   HTTPSNOOP  the httpsnoop binary        (default: build/src/httpsnoop)
#   DEMO       the httpsnoop-demo binary   (default: build/demo/httpsnoop-demo)
#   SRCDIR, KEEP: see tests/lib/common.sh
#
# Scope: other processes on this machine may speak HTTP, even benchmark at
# full speed, while a test runs.  So every assertion is filtered by the pids
# and ports the test owns, and most tests also trace with -P of their own
# ports, so that the kernel drops everyone else's traffic and a neighbour's
# load does not overflow the ring buffer under the test (test-filter-busy
# checks that this holds).  test-nginx-curl also runs an unfiltered tracer
# next to its -P one.
#
# Exit codes follow meson/automake: 0 pass, 1 fail, 77 skip.  skip() is only
# for a machine that truly cannot run the test (not root, no BPF, a missing
# tool or kernel headers); a wrong answer from httpsnoop is always fail().

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRATCH=httpsnoop-it
START_TIMEOUT=${START_TIMEOUT:-45}   # probe compile + attach on a loaded VM
. "$LIB_DIR/../lib/common.sh"
: "${HTTPSNOOP:=$SRCDIR/build/src/httpsnoop}"
: "${DEMO:=$SRCDIR/build/demo/httpsnoop-demo}"
# Tracers also settle before the load: a neighbour's backlog from the
# probe's attach window is drained in the first moments after "Tracing"
# (test-filter-busy runs with START_SETTLE=0 to check that nothing is lost
# meanwhile).
START_SETTLE=${START_SETTLE:-1}

declare -A HS_PID=()

# --- preconditions -------------------------------------------------------

# need_tools TOOL...: skip when a peer is not installed.
need_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
	done
}

# need_binaries: the build must exist; its absence is a failure, not a skip.
# A concurrent relink (ninja) removes the binary for a moment: wait for it.
need_binaries() {
	local i
	for i in $(seq 600); do
		[ -x "$HTTPSNOOP" ] && [ -x "$DEMO" ] && break
		sleep 0.1
	done
	[ -x "$HTTPSNOOP" ] || die "httpsnoop binary not found at $HTTPSNOOP (ninja -C build)"
	[ -x "$DEMO" ] || die "demo binary not found at $DEMO"
	[ -x "$PY" ] || skip "$PY is not installed"
}

# need_bpf: root, a kernel with the bpf() syscall, and kernel headers for
# BCC.  These are facts about the machine; anything httpsnoop itself gets
# wrong later is a failure.
need_bpf() {
	need_binaries
	[ "$(id -u)" -eq 0 ] || skip "needs root to load eBPF programs"
	bpf_usable || skip "the kernel offers no usable bpf() syscall"
	if [ -z "${BCC_KERNEL_SOURCE:-}" ] && [ ! -r /sys/kernel/kheaders.tar.xz ] &&
	   [ ! -d "/lib/modules/$(uname -r)/build/include" ]; then
		skip "no kernel headers for $(uname -r) (run scripts/setup)"
	fi
}

# --- httpsnoop -----------------------------------------------------------

# hs_start NAME ARGS...: run httpsnoop in the background with JSON output to
# $T/NAME.jsonl and stderr to $T/NAME.err; return once it says "Tracing".
# Its pid is ${HS_PID[NAME]}.
hs_start() {
	hs_spawn "$@"
	hs_wait "$1"
}

# hs_spawn NAME ARGS...: the same without waiting, so that several tracers
# compile their probes at once; hs_wait NAME then waits for each.
hs_spawn() {
	local name=$1
	shift
	: >"$T/$name.err"
	"$HTTPSNOOP" -f json -o "$T/$name.jsonl" "$@" 2>"$T/$name.err" &
	HS_PID[$name]=$!
	track "$!"
}

hs_wait() {
	local name=$1 pid=${HS_PID[$1]} i rc
	for i in $(seq $((START_TIMEOUT * 10))); do
		if grep -q '^Tracing' "$T/$name.err"; then
			sleep "$START_SETTLE"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			rc=$?
			log "httpsnoop ($name) exited with status $rc before tracing; its stderr:"
			sed 's/^/    /' "$T/$name.err" >&2
			die "httpsnoop ($name) did not start"
		fi
		sleep 0.1
	done
	sed 's/^/    /' "$T/$name.err" >&2
	die "httpsnoop ($name) did not print 'Tracing' within ${START_TIMEOUT}s"
}

# hs_stop NAME...: let the tracers drain, SIGINT them, wait for their exit;
# fails the test if one does not exit cleanly.  The JSON is complete after.
hs_stop() {
	local name pid i rc
	sleep "$SETTLE"
	for name in "$@"; do
		kill -INT "${HS_PID[$name]}" 2>/dev/null
	done
	for name in "$@"; do
		pid=${HS_PID[$name]}
		for i in $(seq $((STOP_TIMEOUT * 10))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL "$pid"
			wait "$pid" 2>/dev/null
			die "httpsnoop ($name) did not exit within ${STOP_TIMEOUT}s of SIGINT"
		fi
		wait "$pid"
		rc=$?
		if [ "$rc" -ne 0 ]; then
			sed 's/^/    /' "$T/$name.err" >&2
			fail "httpsnoop ($name) exited with status $rc after SIGINT"
		fi
		grep -q 'httpsnoop statistics' "$T/$name.err" ||
			fail "httpsnoop ($name) printed no statistics at exit"
		[ -f "$T/$name.jsonl" ] || : >"$T/$name.jsonl"
	done
	return 0
}

# hs_stats_now NAME: has the running tracer NAME print its statistics
# (SIGUSR1) and waits until that dump is whole; hs_stat then reads it.
hs_stats_now() {
	local name=$1 want i
	want=$(($(grep -c '^httpsnoop statistics' "$T/$name.err") + 1))
	kill -USR1 "${HS_PID[$name]}" || return 1
	for i in $(seq 100); do
		awk -v w="$want" '/^httpsnoop statistics/ {n++} n == w && /^  kernel table/ {f = 1} END {exit !f}' \
			"$T/$name.err" && return 0
		sleep 0.1
	done
	return 1
}

# --- python http.server ---------------------------------------------------

# py_server_start PORT DIR VERSION: python's http.server (SimpleHTTPRequest-
# Handler) on 127.0.0.1:PORT serving DIR, speaking HTTP/VERSION (1.0 closes
# after each response, 1.1 keeps alive).  /noclen answers without a
# Content-Length: with 1.0 the body is delimited by the close.  Sets PY_SERVER.
py_server_start() {
	local port=$1 dir=$2 ver=$3
	cat >"$T/pyserver.py" <<'EOF'
import http.server, sys, os
port, root, ver = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/" + ver
    def log_message(self, fmt, *args):
        pass
    def do_GET(self):
        if self.path.startswith("/noclen"):
            body = b"no content-length here\n" * 10
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            if ver == "1.1":
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        return super().do_GET()
os.chdir(root)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
	"$PY" "$T/pyserver.py" "$port" "$dir" "$ver" >"$T/pyserver.out" 2>&1 &
	PY_SERVER=$!
	track "$PY_SERVER"
	wait_listen "$port" || die "python http.server did not listen on $port"
}

# --- the demo -------------------------------------------------------------

# demo_start PORT [NAME]: httpsnoop-demo on 127.0.0.1:PORT.  Sets DEMO_PID.
demo_start() {
	local port=$1 name=${2:-demo} i
	"$DEMO" -p "$port" >"$T/$name.out" 2>&1 &
	DEMO_PID=$!
	track "$DEMO_PID"
	for i in $(seq 200); do
		grep -q 'listening on' "$T/$name.out" && return 0
		kill -0 "$DEMO_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/$name.out" >&2
	die "the demo did not print 'listening on'"
}

# --- curl with ground truth --------------------------------------------------

# curl_gt GTFILE METHOD CURL-ARGS...: run curl once in the foreground,
# append "PID STATUS SIZE_DOWNLOAD METHOD" per URL to GTFILE.  The pid
# is curl's own (bash execs it), so the trace can be filtered by it.
curl_gt() {
	local gt=$1 method=$2 pid
	shift 2
	curl -sS -o /dev/null -w '%{http_code} %{size_download}\n' "$@" >"$T/curl.w" 2>"$T/curl.err" &
	pid=$!
	wait "$pid" || { cat "$T/curl.err" >&2; fail "curl $* failed"; }
	sed "s/^/$pid /; s/\$/ $method/" "$T/curl.w" >>"$gt"
}

# jq_port PORT [JQ-OPTIONS...] FILTER FILE: jq -c FILTER over the
# transactions whose local or remote port is PORT (the test's own).
jq_port() {
	local port=$1 file=${!#}
	local -a mid=("${@:2:$#-2}")
	local filter=${mid[-1]}
	unset 'mid[-1]'
	jq -c --arg port "$port" "${mid[@]}" \
		"select(((.local // \"\") | endswith(\":\" + \$port)) or
		        ((.remote // \"\") | endswith(\":\" + \$port))) | $filter" "$file"
}
