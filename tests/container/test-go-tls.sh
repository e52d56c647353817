#!/bin/bash
# test-go-tls.sh -- HTTPS from a Go program in a container that starts after httpsnoop (itself in a container): its own binary, inside the container's filesystem, is attached at its exec through /proc/PID/exe, and its transactions carry its container id; a Go client on the host is traced too, both sides against the programs' own logs.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
# The httpsnoop image is built from this source tree every time, under a
# tag of this test's own: localhost/httpsnoop:test may come from another
# tree (one without Go TLS) when this test runs alone.  With podman's layer
# cache an unchanged tree rebuilds in seconds.
HS_IMAGE=localhost/httpsnoop:go-tls-test
build_image "$HS_IMAGE" container/Containerfile
need_images
: "${GO_DIR:=$SRCDIR/build/tests/go}"
[ -x "$GO_DIR/server-static" ] || skip "no Go test programs in $GO_DIR (golang-go not installed)"
export GODEBUG=http2server=0,http2client=0

PORT=$(free_port)
HS=$(cname hs)
hs_run "$HS" "$T/traces" --privileged "${HEADER_MOUNTS[@]}" "${TRACEFS_MOUNTS[@]}" -- \
	-v -f json -o /traces/t.json -P "$PORT"

# The server's binary is copied into the container's own filesystem (a
# file the host does not have), then exec'd: after "Tracing".
SRV=$(cname goserver)
CONTAINERS+=("$SRV")
mkdir -p "$T/logs"
chmod 777 "$T/logs"
podman run -d --name "$SRV" --network=host -e GODEBUG \
	-v "$GO_DIR:/gobin:ro" -v "$T/logs:/logs" --entrypoint sh "$DEMO_IMAGE" -c \
	"cp /gobin/server-static /usr/local/bin/go-https-server &&
	 exec /usr/local/bin/go-https-server -addr 127.0.0.1:$PORT -http1 -log /logs/srv.log" \
	>"$T/srv.cid" 2>"$T/srv.err" || { cat "$T/srv.err" >&2; die "podman run of the Go server failed"; }
wait_log "$SRV" 'listening' 30 || die "the Go server container did not start"
wait_log "$HS" 'Go TLS: attached to .*go-https-server' 30 stderr ||
	die "httpsnoop did not attach to the Go server in the container"
SID=$(ctr_id "$SRV")
SPID=$(podman inspect --format '{{.State.Pid}}' "$SRV")

# A Go client on the host: a first run has httpsnoop attach to it.
"$GO_DIR/client-static" -url "https://127.0.0.1:$PORT/" -n 0 >/dev/null 2>&1 ||
	die "the Go client failed to start"
wait_log "$HS" 'Go TLS: attached to .*client-static' 30 stderr ||
	die "httpsnoop did not attach to the Go client"
"$GO_DIR/client-static" -url "https://127.0.0.1:$PORT/ctr" -n 20 -c 2 -http1 -size 500 \
	-log "$T/cli.log" >"$T/cli.out" 2>&1 &
CLI=$!
wait "$CLI" || fail "the Go client failed: $(tail -n 3 "$T/cli.out")"
hs_stop "$HS"
hs_show_stats "$HS"
grep 'Go TLS' "$T/$HS.err" | sed 's/^/    /' >&2
podman stop -t 10 "$SRV" >/dev/null 2>&1
rc=$(podman wait "$SRV" 2>/dev/null)
[ "$rc" = 0 ] || fail "the Go server container exited with status [$rc]"
F=$T/traces/t.json
[ -s "$F" ] || die "no transactions traced"

n=$(wc -l <"$T/logs/srv.log")
[ "$n" = 20 ] || fail "the Go server logged $n requests, expected 20"
awk '{ print $1, $2, $3, $5 }' "$T/logs/srv.log" >"$T/srv.expect"
awk '{ print $1, $2, $3, $4 }' "$T/cli.log" >"$T/cli.expect"
"$PY" "$SRCDIR/tests/integration/check.py" expect --jsonl "$F" --pid "$SPID" --role server \
	--expect "$T/srv.expect" --exact-count || fail "the server's side differs from its log"
"$PY" "$SRCDIR/tests/integration/check.py" expect --jsonl "$F" --pid "$CLI" --role client \
	--expect "$T/cli.expect" --exact-count || fail "the client's side differs from its log"
bad=$(jq -c --argjson p "$SPID" --arg id "$SID" 'select(.pid == $p and (.container_id != $id or .tls != true)) |
	[.request.target, .container_id, .tls]' "$F" | head -n 3)
[ -z "$bad" ] || fail "server-side transactions not in container ${SID:0:12} or not TLS: $bad"
bad=$(jq -c --argjson p "$CLI" 'select(.pid == $p and (.container_id != null or .tls != true)) |
	[.request.target, .container_id, .tls]' "$F" | head -n 3)
[ -z "$bad" ] || fail "client-side transactions not on the host or not TLS: $bad"
[ "$FAILED" = 0 ] && pass_msg "20 HTTPS requests to a Go server in container ${SID:0:12}, traced on both sides"
finish
