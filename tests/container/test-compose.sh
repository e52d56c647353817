#!/bin/bash
# test-compose.sh -- container/compose.yaml brought up by docker-compose (through podman's Docker API): httpsnoop traces the demo service into the shared traces volume.
#
# podman-compose is not used: the version in Debian 12 (1.0.3) ignores
# "pid: host", without which httpsnoop cannot name host processes.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
need_images
need_pkg docker-compose docker-compose

# podman's Docker-compatible API, for this test only
SOCK=$T/podman.sock
podman system service --time=0 "unix://$SOCK" >"$T/service.log" 2>&1 &
BG_PIDS+=($!)
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || die "podman system service did not create $SOCK"

PROJECT=hsct$$
export DOCKER_HOST=unix://$SOCK
export DEMO_PORT=$(free_port) HTTPSNOOP_IMAGE=$HS_IMAGE DEMO_IMAGE
COMPOSE=(docker-compose -p "$PROJECT" -f "$SRCDIR/container/compose.yaml")
ON_EXIT+=("timeout 60 ${COMPOSE[*]} down -v -t 5")
CONTAINERS+=("${PROJECT}_demo_1" "${PROJECT}_httpsnoop_1")

timeout 120 "${COMPOSE[@]}" up -d --no-build >"$T/up.log" 2>&1 ||
	{ cat "$T/up.log" >&2; die "docker-compose up failed"; }
HS=${PROJECT}_httpsnoop_1
DEMO=${PROJECT}_demo_1
wait_log "$DEMO" 'listening on' 30 || die "the demo service did not start"
wait_log "$HS" '^Tracing' "$START_TIMEOUT" stderr || die "the httpsnoop service did not start tracing"
DEMO_ID=$(ctr_id "$DEMO")
[ "$(podman inspect --format '{{.HostConfig.PidMode}}' "$HS")" = host ] ||
	fail "the httpsnoop service does not run in the host's pid namespace"

: >"$T/gt"
host_curl "$T/gt" "$DEMO_PORT" GET /users
host_curl "$T/gt" "$DEMO_PORT" GET /status/404
host_curl "$T/gt" "$DEMO_PORT" POST /echo --data-binary 'composed'
sleep "$SETTLE"

# "compose stop" sends SIGTERM: httpsnoop drains, flushes and prints its
# statistics, and exits 0.
timeout 60 "${COMPOSE[@]}" stop -t 20 >"$T/stop.log" 2>&1 ||
	{ cat "$T/stop.log" >&2; fail "docker-compose stop failed"; }
rc=$(podman inspect --format '{{.State.ExitCode}}' "$HS")
podman logs "$HS" >"$T/hs.out" 2>"$T/hs.err"
[ "$rc" = 0 ] || fail "httpsnoop exited with status $rc on SIGTERM"
grep -q 'httpsnoop statistics' "$T/hs.err" || fail "httpsnoop printed no statistics on SIGTERM"

# the traces, in the named volume
VOL=$(podman volume inspect --format '{{.Mountpoint}}' "${PROJECT}_traces") ||
	die "no ${PROJECT}_traces volume"
X=$VOL/http-trace.txt
[ -f "$X" ] || die "no http-trace.txt in the traces volume"
cp "$X" "$T/http-trace.txt"
grep -A1 '(httpsnoop-demo)' "$X" | sed 's/^/    /' >&2
# The demo runs on the project's bridge network: its server side is port 8080.
n=$(grep -cE "^\[[0-9:.]+\] PID [0-9]+ \(httpsnoop-demo\) \[${DEMO_ID:0:12}\] server [0-9.]+:8080 -> " "$X")
[ "$n" = 3 ] || fail "$n server-side transactions of the demo service, expected 3"
while read -r who method target code; do
	grep -qF "→ $method $target HTTP/1.1" "$X" || fail "no request line for $method $target"
	grep -qE "← $code " "$X" || fail "no status $code for $method $target"
done <"$T/gt"
finish
