# lib.sh -- shared helpers of the integration tests: real eBPF, real peers, loopback only.
#
# Sourced by every tests/integration/test-*.sh.  Environment (set by meson,
# or by hand when a test is run directly):
#   HTTPSNOOP  the httpsnoop binary        (default: build/src/httpsnoop)
#   DEMO       the httpsnoop-demo binary   (default: build/demo/httpsnoop-demo)
#   SRCDIR     the source tree             (default: two levels above this file)
#   KEEP=1     keep the scratch directory even when the test passes
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

set -u
set -o pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$LIB_DIR/../.." && pwd)}"
: "${HTTPSNOOP:=$SRCDIR/build/src/httpsnoop}"
: "${DEMO:=$SRCDIR/build/demo/httpsnoop-demo}"
PY=/usr/bin/python3          # the system python: no pyenv shims
CHECK="$PY $LIB_DIR/check.py"
TEST_NAME=$(basename "$0" .sh)

# Every bounded wait in this file uses these (seconds).
START_TIMEOUT=${START_TIMEOUT:-45}   # probe compile + attach on a loaded VM
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
SETTLE=${SETTLE:-1}                  # let the tracer drain after the load
# ...and before it: a neighbour's backlog from the probe's attach window is
# drained in the first moments after "Tracing" (test-filter-busy runs
# with START_SETTLE=0 to check that nothing is lost meanwhile)
START_SETTLE=${START_SETTLE:-1}

T=$(mktemp -d "/tmp/httpsnoop-it.$TEST_NAME.XXXXXX")
chmod 755 "$T"          # nginx workers and 'nobody' may need to read it
FAILED=0
declare -a CLEANUP_PIDS=()
declare -A HS_PID=()

log() { printf '[%s] %s\n' "$TEST_NAME" "$*" >&2; }

# fail MESSAGE: record a failure and keep going, so that one run reports
# every mismatch; finish() turns it into exit 1.
fail() {
	log "FAIL: $*"
	FAILED=1
}

# die MESSAGE: a failure after which the test cannot go on.
die() {
	log "FAIL: $*"
	FAILED=1
	exit 1
}

skip() {
	log "SKIP: $*"
	exit 77
}

pass_msg() { log "ok: $*"; }

# finish: the last line of every test.
finish() {
	if [ "$FAILED" -ne 0 ]; then
		log "FAILED (scratch files kept in $T)"
		exit 1
	fi
	log "PASS"
	exit 0
}

cleanup() {
	local rc=$? pid
	for pid in "${CLEANUP_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${CLEANUP_PIDS[@]}"; do
		for _ in $(seq 30); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if [ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$T"
	elif [ "$rc" -ne 77 ]; then
		log "scratch files: $T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# track PID: kill it (and wait for it) at exit.
track() { CLEANUP_PIDS+=("$1"); }

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
	# BPF_MAP_CREATE of a tiny array map: ENOSYS/EPERM mean no usable BPF.
	"$PY" - <<'EOF' || skip "the kernel offers no usable bpf() syscall"
import ctypes, ctypes.util, struct, sys, os
libc = ctypes.CDLL(None, use_errno=True)
attr = struct.pack("IIII", 2, 4, 4, 1) + bytes(112)   # BPF_MAP_TYPE_ARRAY
buf = ctypes.create_string_buffer(attr, len(attr))
fd = libc.syscall(321, 0, buf, len(attr))             # __NR_bpf on x86_64
if fd < 0:
    sys.exit(1)
os.close(fd)
EOF
	if [ -z "${BCC_KERNEL_SOURCE:-}" ] && [ ! -r /sys/kernel/kheaders.tar.xz ] &&
	   [ ! -d "/lib/modules/$(uname -r)/build/include" ]; then
		skip "no kernel headers for $(uname -r) (run scripts/setup)"
	fi
}

# --- ports and readiness --------------------------------------------------

# free_port: a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
	"$PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_listen PORT [TIMEOUT]: until something listens on 127.0.0.1:PORT,
# without sending it a byte (a probe request would land in access logs).
wait_listen() {
	local port=$1 timeout=${2:-20} i
	for i in $(seq $((timeout * 10))); do
		if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	return 1
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

# hs_stat NAME 'parse errors': a number from the statistics block.
hs_stat() {
	sed -n "s/^  $2  *\([0-9][0-9]*\)\$/\1/p" "$T/$1.err" | tail -n 1
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

# hs_expect_stat NAME 'field' VALUE: the statistic must equal VALUE.
hs_expect_stat() {
	local v
	v=$(hs_stat "$1" "$2")
	if [ -z "$v" ]; then
		fail "statistic '$2' missing from httpsnoop's stderr"
	elif [ "$v" != "$3" ]; then
		fail "statistic '$2' is $v, expected $3"
	fi
}

# hs_lost NAME: true if the tracer counted lost events (a busy machine).
hs_lost() {
	local n
	n=$(hs_stat "$1" 'lost events')
	[ "${n:-0}" -gt 0 ]
}

# hs_show_stats NAME: the statistics block, for the test log.
hs_show_stats() {
	sed -n '/httpsnoop statistics/,$p' "$T/$1.err" | sed 's/^/    /' >&2
}

# --- nginx ---------------------------------------------------------------

# nginx_start NAME PORT: an nginx master (daemon off, 1 worker, keep-alive,
# sendfile) serving $T/NAME/html on 127.0.0.1:PORT.  Sets NGINX_MASTER,
# NGINX_WORKER and NGINX_LOG (the access log).
#   /            index.html (small)
#   /file-1m     1 MiB of random bytes (sendfile)
#   /dav/...     PUT stores a file (201), DELETE removes it (204)
#   /echo        POST target: 201 with a short body (the request body is read)
#   anything else 404
nginx_start() {
	local name=$1 port=$2 d="$T/$1" i
	mkdir -p "$d/html" "$d/logs" "$d/tmp"
	echo '<html><body>httpsnoop integration test</body></html>' >"$d/html/index.html"
	head -c 1048576 /dev/urandom >"$d/html/file-1m"
	cat >"$d/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root root;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    log_format hs '\$request_method \$request_uri \$status \$body_bytes_sent \$request_length \$connection \$connection_requests \$remote_port';
    access_log $d/logs/access.log hs;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush off;
    keepalive_timeout 65;
    keepalive_requests 100000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $d/html;
        location / { }
        location /dav/ {
            # PUT stores the body: nginx reads it and counts it in
            # \$request_length, unlike a discarded body.
            dav_methods PUT DELETE;
            create_full_put_path on;
            client_max_body_size 10m;
            client_body_buffer_size 1m;
        }
        location = /echo {
            client_body_buffer_size 1m;
            client_max_body_size 10m;
            # return discards the body, still reading all of it
            return 201 "created\n";
        }
    }
}
EOF
	nginx -p "$d" -c "$d/nginx.conf" -t >"$d/logs/t.out" 2>&1 ||
		{ cat "$d/logs/t.out" >&2; die "nginx config test failed"; }
	nginx -p "$d" -c "$d/nginx.conf" >"$d/logs/stdout" 2>&1 &
	NGINX_MASTER=$!
	track "$NGINX_MASTER"
	wait_listen "$port" || die "nginx did not listen on $port"
	NGINX_WORKER=
	for i in $(seq 100); do
		NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -n 1)
		[ -n "$NGINX_WORKER" ] && break
		sleep 0.1
	done
	[ -n "$NGINX_WORKER" ] || die "nginx worker not found"
	NGINX_LOG="$d/logs/access.log"
	NGINX_DIR=$d
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
