# common.sh -- what the integration and container suites share: results and exit codes, scratch files, cleanup, bpf(), ports, httpsnoop's statistics, the tests' nginx.
#
# Sourced by tests/integration/lib.sh and tests/container/lib.sh, which a
# test sources; never by a test itself.  The suite's lib.sh sets, before:
#   SCRATCH        the scratch directory's name prefix (httpsnoop-it, -ct)
#   START_TIMEOUT  seconds to wait for "Tracing" (the suites differ)
# Environment (set by meson, or by hand when a test is run directly):
#   SRCDIR     the source tree             (default: two levels above this file)
#   KEEP=1     keep the scratch directory even when the test passes
#
# Exit codes follow meson/automake: 0 pass, 1 fail, 77 skip.  skip() is only
# for a machine that truly cannot run the test (not root, no usable bpf(), a
# missing tool); a wrong answer from httpsnoop is always fail().
#
# At exit, in this order: the commands in ON_EXIT, then the processes in
# BG_PIDS (track PID) are stopped (TERM, then KILL), then the suite's
# suite_cleanup runs if it defines one; the scratch directory $T is removed
# only when the test passed.

set -u
set -o pipefail

COMMON_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$COMMON_DIR/../.." && pwd)}"
PY=/usr/bin/python3          # the system python: no pyenv shims
CHECK="$PY $COMMON_DIR/../integration/check.py"   # ground-truth comparisons
TEST_NAME=$(basename "$0" .sh)

# Every bounded wait uses these (seconds).
: "${START_TIMEOUT:=45}"
STOP_TIMEOUT=${STOP_TIMEOUT:-30}
SETTLE=${SETTLE:-1}                  # let the tracer drain after the load
STOP_GRACE=10                        # from SIGTERM to SIGKILL at exit

T=$(mktemp -d "/tmp/${SCRATCH:-httpsnoop-test}.$TEST_NAME.XXXXXX")
chmod 755 "$T"          # nginx workers and 'nobody' may need to read it
FAILED=0
declare -a ON_EXIT=()         # commands run first at exit, in order
declare -a BG_PIDS=()         # processes of ours to stop at exit, after them

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

# track PID: stop it (and wait for it) at exit.
track() { BG_PIDS+=("$1"); }

cleanup() {
	local rc=$? c pid i
	for c in "${ON_EXIT[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	for pid in "${BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${BG_PIDS[@]}"; do
		for i in $(seq $((STOP_GRACE * 10))); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
	if declare -F suite_cleanup >/dev/null; then
		suite_cleanup
	fi
	if [ "$rc" -eq 0 ] && [ "$FAILED" -eq 0 ] && [ "${KEEP:-0}" != 1 ]; then
		rm -rf "$T"
	elif [ "$rc" -ne 77 ]; then
		log "scratch files: $T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- preconditions -------------------------------------------------------

# bpf_usable: true if the kernel offers a usable bpf() syscall to this
# process (BPF_MAP_CREATE of a tiny array map; ENOSYS or EPERM mean no).
bpf_usable() {
	"$PY" - <<'EOF'
import ctypes, os, platform, struct, sys
NR_BPF = {"x86_64": 321, "aarch64": 280, "riscv64": 280, "s390x": 351, "ppc64le": 361}
libc = ctypes.CDLL(None, use_errno=True)
attr = struct.pack("IIII", 2, 4, 4, 1) + bytes(112)   # BPF_MAP_TYPE_ARRAY
buf = ctypes.create_string_buffer(attr, len(attr))
fd = libc.syscall(NR_BPF.get(platform.machine(), 321), 0, buf, len(attr))
if fd < 0:
    sys.exit(1)
os.close(fd)
EOF
}

# --- ports -----------------------------------------------------------------

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

# --- httpsnoop's statistics ---------------------------------------------------
# Each suite's hs_stop leaves the tracer NAME's stderr in $T/NAME.err.

# hs_stat NAME 'parse errors': a number from the statistics block.
hs_stat() {
	# '|' delimits: names hold '/' ("h2 not HTTP/2")
	sed -n "s|^  $2  *\([0-9][0-9]*\)\$|\1|p" "$T/$1.err" | tail -n 1
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

# nginx_conf DIR <<EOF ... EOF: writes DIR/nginx.conf: one worker (daemon
# off, run as root), pid, error log and temporary files under DIR, and the
# access log DIR/logs/access.log in the format that check.py's "nginx"
# command parses; stdin adds the http block's own directives and servers.
nginx_conf() {
	local d=$1
	mkdir -p "$d/logs" "$d/tmp"
	{
		cat <<EOF
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
    keepalive_requests 100000;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
EOF
		cat
		echo '}'
	} >"$d/nginx.conf"
}

# nginx_run DIR PORT: checks and starts the nginx of DIR/nginx.conf, which
# listens on 127.0.0.1:PORT, and waits for its worker.  Sets NGINX_MASTER,
# NGINX_WORKER, NGINX_LOG (the access log) and NGINX_DIR.
nginx_run() {
	local d=$1 port=$2 i
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

# nginx_start NAME PORT: an nginx (keep-alive, sendfile) serving
# $T/NAME/html on 127.0.0.1:PORT, started as nginx_run does.
#   /            index.html (small)
#   /file-1m     1 MiB of random bytes (sendfile)
#   /dav/...     PUT stores a file (201), DELETE removes it (204)
#   /echo        POST target: 201 with a short body (the request body is read)
#   anything else 404
nginx_start() {
	local name=$1 port=$2 d="$T/$1"
	mkdir -p "$d/html"
	echo '<html><body>httpsnoop integration test</body></html>' >"$d/html/index.html"
	head -c 1048576 /dev/urandom >"$d/html/file-1m"
	nginx_conf "$d" <<EOF
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush off;
    keepalive_timeout 65;
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
EOF
	nginx_run "$d" "$port"
}

# nginx_tls_conf DIR PORT: a throwaway certificate (DIR/cert.pem,
# DIR/key.pem) and DIR/nginx.conf for TLS on 127.0.0.1:PORT: / answers 200,
# /echo 201, /missing 404.  Returns non-zero if openssl fails.  Start it
# with nginx_run, or by hand.
nginx_tls_conf() {
	local d=$1 port=$2
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
		-days 1 -subj /CN=localhost >/dev/null 2>&1 || return 1
	nginx_conf "$d" <<EOF
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $d/cert.pem;
        ssl_certificate_key $d/key.pem;
        location = /echo { return 201 "created\n"; }
        location /put/ { root $d; dav_methods PUT; client_max_body_size 8m; }
        location / { return 200 "hello over tls\n"; }
        location /missing { return 404; }
    }
EOF
}

# nginx_tls_start DIR PORT: nginx_tls_conf, then nginx itself, tracked for
# the test's cleanup; sets NGINX_MASTER and NGINX_WORKER.
nginx_tls_start() {
	local d=$1 port=$2
	nginx_tls_conf "$d" "$port" || die "openssl could not make a certificate"
	nginx -p "$d" -c "$d/nginx.conf" >"$d/logs/stdout" 2>&1 &
	NGINX_MASTER=$!
	track "$NGINX_MASTER"
	wait_listen "$port" || die "nginx did not listen on $port"
	NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -n 1)
	[ -n "$NGINX_WORKER" ] || die "nginx worker not found"
}
