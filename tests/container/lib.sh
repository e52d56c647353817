# lib.sh -- helpers of the container tests (real podman, real eBPF, images built from container/), on top of tests/lib/common.sh.
#
# Sourced by every tests/container/test-*.sh; brings in tests/lib/common.sh
# (results, scratch directory $T, cleanup, ports, statistics, nginx).
# Environment (set by meson, or by hand when a test is run directly):
#   HS_IMAGE    the httpsnoop image under test (default localhost/httpsnoop:test)
#   DEMO_IMAGE  the demo image (default localhost/httpsnoop-demo:test)
#   SRCDIR, KEEP: see tests/lib/common.sh
#
# The images are built by test-image-build.sh, the first test of the suite;
# a later test run on its own builds them if they are missing.  They stay
# after the tests (with podman's layer cache) so that the next run only
# rebuilds what changed; every container a test starts (CONTAINERS) is
# removed at exit.  A broken image is a failure, never a skip.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRATCH=httpsnoop-ct
START_TIMEOUT=${START_TIMEOUT:-90}   # container start + probe compile on a loaded VM
. "$LIB_DIR/../lib/common.sh"
: "${HS_IMAGE:=localhost/httpsnoop:test}"
: "${DEMO_IMAGE:=localhost/httpsnoop-demo:test}"
BUILD_TIMEOUT=${BUILD_TIMEOUT:-900}

# The mounts every tracing httpsnoop container gets (container/Containerfile).
HEADER_MOUNTS=(-v /lib/modules:/lib/modules:ro -v /usr/src:/usr/src:ro)
TRACEFS_MOUNTS=(-v /sys/kernel/debug:/sys/kernel/debug)
LEAST_CAPS=SYS_ADMIN,BPF,PERFMON,SYS_RESOURCE

declare -a CONTAINERS=()      # removed (with their anonymous volumes) at exit

# suite_cleanup: common.sh's cleanup calls it after ON_EXIT and BG_PIDS.
suite_cleanup() {
	local c
	for c in "${CONTAINERS[@]}"; do
		podman rm -f -v -t 0 "$c" >/dev/null 2>&1
	done
}

# --- preconditions -------------------------------------------------------

# need_podman: root, a base image and a podman configured for this machine
# (scripts/container-base installs podman if needed and exports
# CONTAINERS_CONF).  Its failure is a failure: the project's own script must
# make containers work on the machines it supports.
need_podman() {
	local env
	[ "$(id -u)" -eq 0 ] || skip "needs root (rootful podman, eBPF)"
	command -v jq >/dev/null 2>&1 || die "jq is not installed (run scripts/setup)"
	command -v curl >/dev/null 2>&1 || die "curl is not installed (run scripts/setup)"
	env=$("$SRCDIR/scripts/container-base" 2>"$T/container-base.err") ||
		{ cat "$T/container-base.err" >&2; die "scripts/container-base failed"; }
	eval "$env"
	[ -n "${CONTAINERS_CONF:-}" ] || die "scripts/container-base printed no CONTAINERS_CONF"
	export CONTAINERS_CONF
	remove_stale
}

# remove_stale: containers left by a test run that was killed before its
# cleanup (a meson timeout ends with SIGKILL): named hs-ct-*-PID, with PID
# no longer running.
remove_stale() {
	local name pid
	podman ps -a --filter name=^hs-ct- --format '{{.Names}}' 2>/dev/null |
	while read -r name; do
		pid=${name##*-}
		[[ "$pid" =~ ^[0-9]+$ ]] || continue
		kill -0 "$pid" 2>/dev/null && continue
		log "removing $name, left by an earlier run"
		podman rm -f -v -t 0 "$name" >/dev/null 2>&1
	done
}

# need_bpf: what the host must offer for httpsnoop to trace from a
# container: a usable bpf() syscall and kernel headers to mount.
need_bpf() {
	[ -x "$PY" ] || skip "$PY is not installed"
	bpf_usable || skip "the kernel offers no usable bpf() syscall"
	[ -d "/lib/modules/$(uname -r)/build/include" ] ||
		die "no kernel headers for $(uname -r) on the host to mount (run scripts/setup)"
}

# apt_install PACKAGE...: Debian packages the tests drive (not peers under
# test), installed when missing rather than hidden behind a skip; the
# package lists are refreshed once if they are too old to find them.
apt_install() {
	local -a opts=(-y -qq --no-install-recommends -o DPkg::Lock::Timeout=600)
	[ "$(id -u)" -eq 0 ] || skip "$* not installed, and installing needs root"
	log "installing $*"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install "${opts[@]}" "$@" >"$T/apt.log" 2>&1 && return 0
	apt-get -qq -o DPkg::Lock::Timeout=600 update >>"$T/apt.log" 2>&1
	apt-get install "${opts[@]}" "$@" >>"$T/apt.log" 2>&1 && return 0
	tail -n 5 "$T/apt.log" >&2
	die "apt-get install $* failed"
}

# need_pkg COMMAND PACKAGE: COMMAND, from PACKAGE if missing.
need_pkg() {
	command -v "$1" >/dev/null 2>&1 || apt_install "$2"
}

# need_pyyaml: /usr/bin/python3 with python3-yaml.
need_pyyaml() {
	[ -x "$PY" ] || skip "$PY is not installed"
	"$PY" -c 'import yaml' 2>/dev/null || apt_install python3-yaml
}

# --- images --------------------------------------------------------------

# build_image TAG CONTAINERFILE: podman build from the source tree; the log
# is $T/build-<file>.log.
build_image() {
	local tag=$1 file=$2 logf="$T/build-$(basename "$2").log" start=$SECONDS
	log "building $tag from $file"
	if ! timeout "$BUILD_TIMEOUT" podman build --pull=never --network=host \
		-f "$SRCDIR/$file" -t "$tag" "$SRCDIR" >"$logf" 2>&1; then
		tail -n 40 "$logf" >&2
		die "podman build of $file failed (log: $logf)"
	fi
	log "built $tag in $((SECONDS - start)) s"
}

# need_images: the two images, built if missing.
need_images() {
	podman image exists "$HS_IMAGE" || build_image "$HS_IMAGE" container/Containerfile
	podman image exists "$DEMO_IMAGE" || build_image "$DEMO_IMAGE" container/demo.Containerfile
}

# --- containers ----------------------------------------------------------

# cname ROLE: a container name unique to this test run.
cname() { echo "hs-ct-$TEST_NAME-$1-$$"; }

# ctr_id NAME: the full id of a container.
ctr_id() { podman inspect --format '{{.Id}}' "$1"; }

# wait_log NAME PATTERN TIMEOUT [STREAM]: until the container's output
# has a line matching PATTERN; fails if it exits first.  STREAM is "all"
# (default) or "stderr": a tracer writing JSON to stdout can flood it.
wait_log() {
	local name=$1 pat=$2 timeout=$3 stream=${4:-all} i state
	for i in $(seq $((timeout * 5))); do
		if if [ "$stream" = stderr ]; then
			podman logs "$name" 2>&1 >/dev/null
		else
			podman logs "$name" 2>&1
		fi | grep -c -- "$pat" >/dev/null; then
			return 0
		fi
		state=$(podman inspect --format '{{.State.Status}}' "$name" 2>/dev/null)
		if [ "$state" != running ] && [ "$state" != created ] && [ "$state" != configured ]; then
			podman logs "$name" 2>&1 | tail -n 30 | cut -c1-300 | sed 's/^/    /' >&2
			log "container $name is $state (exit $(podman inspect --format '{{.State.ExitCode}}' "$name"))"
			return 1
		fi
		sleep 0.2
	done
	podman logs "$name" 2>&1 >/dev/null | tail -n 30 | sed 's/^/    /' >&2
	log "no '$pat' from $name within ${timeout}s"
	return 1
}

# demo_start NAME PORT: the demo image serving on 127.0.0.1:PORT in the
# host's network namespace.  Sets DEMO_ID (the full container id).
demo_start() {
	local name=$1 port=$2
	CONTAINERS+=("$name")
	podman run -d --name "$name" --network=host "$DEMO_IMAGE" -a 127.0.0.1 -p "$port" \
		>"$T/$name.cid" 2>"$T/$name.run.err" ||
		{ cat "$T/$name.run.err" >&2; die "podman run of the demo failed"; }
	wait_log "$name" 'listening on' 30 || die "the demo container did not start"
	DEMO_ID=$(ctr_id "$name")
}

# hs_run NAME TRACEDIR [PODMAN-FLAGS...] -- [HTTPSNOOP-ARGS...]: the
# httpsnoop image in the background, tracing the host (--pid=host), with
# TRACEDIR mounted on /traces; returns once it prints "Tracing".
hs_run() {
	local name=$1 dir=$2
	local -a flags=()
	shift 2
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		flags+=("$1")
		shift
	done
	[ "$#" -gt 0 ] && shift
	mkdir -p "$dir"
	CONTAINERS+=("$name")
	podman run -d --name "$name" --pid=host "${flags[@]}" -v "$dir:/traces" \
		"$HS_IMAGE" "$@" >"$T/$name.cid" 2>"$T/$name.run.err" ||
		{ cat "$T/$name.run.err" >&2; die "podman run of httpsnoop ($name) failed"; }
	wait_log "$name" '^Tracing' "$START_TIMEOUT" stderr || die "httpsnoop ($name) did not start tracing"
}

# hs_stop NAME: let it drain, SIGINT, wait; its stderr is then in
# $T/NAME.err and its stdout in $T/NAME.out.  Fails the test unless it
# exits 0 and prints its statistics.
hs_stop() {
	local name=$1 rc
	sleep "$SETTLE"
	podman kill --signal INT "$name" >/dev/null 2>&1
	rc=$(timeout "$STOP_TIMEOUT" podman wait "$name" 2>/dev/null)
	if [ -z "$rc" ]; then
		podman logs "$name" >"$T/$name.out" 2>"$T/$name.err"
		die "httpsnoop ($name) did not exit within ${STOP_TIMEOUT}s of SIGINT"
	fi
	podman logs "$name" >"$T/$name.out" 2>"$T/$name.err"
	if [ "$rc" != 0 ]; then
		sed 's/^/    /' "$T/$name.err" >&2
		fail "httpsnoop ($name) exited with status $rc after SIGINT"
	fi
	grep -q 'httpsnoop statistics' "$T/$name.err" ||
		fail "httpsnoop ($name) printed no statistics at exit"
}

# --- traffic ---------------------------------------------------------------

# host_curl GT PORT METHOD TARGET [CURL-ARGS...]: one request from the host;
# appends "host METHOD TARGET STATUS" to the ground-truth file GT.
host_curl() {
	local gt=$1 port=$2 method=$3 target=$4 code
	shift 4
	code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X "$method" "$@" \
		"http://127.0.0.1:$port$target" 2>>"$T/curl.err") ||
		fail "curl $method $target from the host failed: $(tail -n 1 "$T/curl.err")"
	echo "host $method $target $code" >>"$gt"
}

# ctr_curl GT NAME PORT METHOD TARGET [CURL-ARGS...]: one request from a
# third container (the demo image's curl, host network), removed after;
# appends "<container id> METHOD TARGET STATUS" to GT.
ctr_curl() {
	local gt=$1 name=$2 port=$3 method=$4 target=$5 code id
	shift 5
	CONTAINERS+=("$name")
	code=$(podman run --name "$name" --network=host --entrypoint curl "$DEMO_IMAGE" \
		-sS -m 10 -o /dev/null -w '%{http_code}' -X "$method" "$@" \
		"http://127.0.0.1:$port$target" 2>>"$T/curl.err") ||
		fail "curl $method $target from container $name failed: $(tail -n 1 "$T/curl.err")"
	id=$(ctr_id "$name")
	podman rm -f -v "$name" >/dev/null 2>&1
	echo "$id $method $target $code" >>"$gt"
}

# --- checks -----------------------------------------------------------------

# check_jsonl FILE GT PORT SERVER_CTR_ID: every request in the ground truth
# appears exactly once on each side, with its method, target and status, in
# the right container: the server side in SERVER_CTR_ID, the client side
# in the container that ran curl (null for the host).  Only transactions
# on PORT count: everything else on the host is traced too.
check_jsonl() {
	local file=$1 gt=$2 port=$3 sid=$4 who method target code want n got cid
	[ -s "$file" ] || { fail "no transactions in $file"; return; }
	if ! jq -e . "$file" >/dev/null 2>"$T/jq.err"; then
		fail "$file is not valid JSON Lines: $(head -n 3 "$T/jq.err")"
		return
	fi
	while read -r who method target code; do
		for side in server client; do
			if [ "$side" = server ]; then
				want=$sid
			elif [ "$who" = host ]; then
				want=null
			else
				want=$who
			fi
			got=$(jq -r --arg port "$port" --arg side "$side" --arg m "$method" --arg t "$target" '
				select(.role == $side and .request.method == $m and .request.target == $t
				       and (if $side == "server" then (.local // "") else (.remote // "") end
				            | endswith(":" + $port)))
				| [(.response.status // "none"), (.container_id // "null")] | @tsv' "$file")
			n=$(printf '%s' "$got" | grep -c .)
			if [ "$n" != 1 ]; then
				fail "$method $target from $who: $n $side-side transactions, expected 1"
				continue
			fi
			read -r st cid <<<"$got"
			[ "$st" = "$code" ] ||
				fail "$method $target from $who: $side side has status $st, curl saw $code"
			[ "$cid" = "$want" ] ||
				fail "$method $target from $who: $side side has container_id $cid, expected $want"
		done
	done <"$gt"
}

# cgroup2_id_of_ctr NAME: the cgroup v2 id (the inode of its cgroup
# directory) of the container's main process, as bpf_get_current_cgroup_id()
# reports it; empty when the host has no cgroup v2 hierarchy.
cgroup2_id_of_ctr() {
	local pid path root
	pid=$(podman inspect --format '{{.State.Pid}}' "$1") || return 0
	path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$path" ] && [ -n "$root" ] || return 0
	stat -c %i "$root$path"
}

# traffic GT PORT: the requests of the attribution tests, from the host and
# from a third container, recorded in the ground-truth file GT.  Targets
# are unique per request, so each can be found on both sides.
traffic() {
	local gt=$1 port=$2
	: >"$gt"
	host_curl "$gt" "$port" GET /users
	host_curl "$gt" "$port" GET /user/2
	host_curl "$gt" "$port" GET /status/404
	host_curl "$gt" "$port" POST '/echo?from=host' --data-binary 'hello from the host'
	ctr_curl "$gt" "$(cname curl1)" "$port" GET /user/3
	ctr_curl "$gt" "$(cname curl2)" "$port" GET /status/503
	ctr_curl "$gt" "$(cname curl3)" "$port" POST '/echo?from=container' --data-binary 'hello from a container'
}
