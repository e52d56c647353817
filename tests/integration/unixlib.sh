# unixlib.sh -- peers that talk HTTP, gRPC or a line protocol over Unix sockets, for the integration tests, each with its own ground truth.
#
# Sourced after lib.sh by the tests of HTTP over Unix sockets:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/unixlib.sh"
# Everything runs on sockets in the test's scratch directory ($T), or in
# the abstract namespace under names with the test's pid in them.

PEERS="$PY $LIB_DIR/unix_peers.py"
# Debian's docker CLI (docker.io), which the tests name: another docker
# may come first on PATH.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}

# --- podman's API service ---------------------------------------------------

# podman_api_start SOCKET: podman's REST API (the Docker-compatible one and
# libpod's) on unix://SOCKET, as `podman system service --time=0` serves
# it, with podman's own access log of every API call (the ground truth)
# in $T/podman-api.log.  Uses the podman settings of scripts/container-base
# (runc, cgroupfs, ulimits this machine allows).  Sets PODMAN_API (pid).
# Skips when podman cannot run here.
podman_api_start() {
	local sock=$1 envline i
	need_tools podman
	envline=$("$SRCDIR/scripts/container-base" --env 2>"$T/container-base.err") ||
		skip "no podman configuration for this machine: $(tail -n 1 "$T/container-base.err")"
	eval "$envline"
	# --log-level=info: podman then logs each API call Apache-style,
	#   @ - - [date] "GET /v1.41/version HTTP/1.1" 200 833 "" "Docker-Client/..."
	podman --log-level=info system service --time=0 "unix://$sock" \
		>"$T/podman-api.log" 2>&1 &
	PODMAN_API=$!
	track "$PODMAN_API"
	for i in $(seq $((START_TIMEOUT * 10))); do
		grep -q 'API service listening' "$T/podman-api.log" && [ -S "$sock" ] && return 0
		kill -0 "$PODMAN_API" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/    /' "$T/podman-api.log" >&2
	kill -0 "$PODMAN_API" 2>/dev/null || skip "podman system service cannot run here"
	die "podman's API service did not listen on $sock"
}

# podman_api_calls: podman's access log so far, one "METHOD TARGET STATUS
# BYTES" line per API call, in order.  (Requests its router refuses, 404s
# for unknown paths, are not in it: curl's -w is their truth.)
podman_api_calls() {
	sed -n 's/^[^"]*"\([A-Z]*\) \([^ ]*\) HTTP\/[0-9.]*" \([0-9]*\) \([0-9-]*\) .*/\1 \2 \3 \4/p' \
		"$T/podman-api.log"
}

# docker_cli SOCKET OUT ARGS...: Debian's docker CLI against the API on
# SOCKET, stdout to OUT; fails the test if it fails.  Sets DOCKER_CLI_PID
# (its pid: bash execs it).
docker_cli() {
	local sock=$1 out=$2
	shift 2
	[ -x "$DOCKER_CLI" ] || skip "Debian's docker CLI is not installed (apt-get install docker.io)"
	DOCKER_HOST="unix://$sock" DOCKER_CONFIG="$T/docker-config" \
		"$DOCKER_CLI" "$@" >"$out" 2>"$out.err" &
	DOCKER_CLI_PID=$!
	wait "$DOCKER_CLI_PID" || { sed 's/^/    /' "$out.err" >&2; fail "docker $* failed"; }
}

# curl_unix GTFILE SOCKET METHOD CURL-ARGS...: curl --unix-socket once,
# appending "PID STATUS SIZE_DOWNLOAD METHOD" per URL to GTFILE, as
# curl_gt does for TCP (curl's own -w is the truth).
curl_unix() {
	local gt=$1 sock=$2
	shift 2
	curl_gt "$gt" "$1" --unix-socket "$sock" "${@:2}"
}

# --- gRPC ---------------------------------------------------------------

# grpc_unix_server SOCKET: python3-grpcio serving /hs.Echo/Say and
# /hs.Echo/Count on unix:SOCKET (unix-abstract: for @name); it logs every
# call it finishes to $T/grpc-calls.log ("METHOD CODE REQ RESP").  Sets
# GRPC_SERVER.
grpc_unix_server() {
	local sock=$1
	$PY -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"
	: >"$T/grpc-calls.log"
	$PEERS grpc-server "$sock" "$T/grpc-calls.log" >"$T/grpc-server.out" 2>&1 &
	GRPC_SERVER=$!
	track "$GRPC_SERVER"
	$PEERS ready "$sock" 20 || { cat "$T/grpc-server.out" >&2; die "the gRPC server did not listen on $sock"; }
}

# grpc_unix_client SOCKET N: N unary calls (one failing with NOT_FOUND)
# and one server-streaming call.  Sets GRPC_CLIENT (pid).
grpc_unix_client() {
	$PEERS grpc-client "$1" "$2" >"$T/grpc-client.out" 2>&1 &
	GRPC_CLIENT=$!
	wait "$GRPC_CLIENT" || { cat "$T/grpc-client.out" >&2; fail "the gRPC client failed"; }
}

# --- plain HTTP/1.1 over a Unix socket --------------------------------------

# http_unix_server SOCKET NAME: python's http.server on SOCKET (a path or
# @name), logging "METHOD TARGET STATUS BODY_BYTES" per response to
# $T/NAME.log (/status/N answers N).  Sets HTTP_UNIX (pid).
http_unix_server() {
	local sock=$1 name=$2
	: >"$T/$name.log"
	$PEERS http-server "$sock" "$T/$name.log" >"$T/$name.out" 2>&1 &
	HTTP_UNIX=$!
	track "$HTTP_UNIX"
	$PEERS ready "$sock" 20 || { cat "$T/$name.out" >&2; die "the HTTP server did not listen on $sock"; }
}

# http_unix_get SOCKET TARGET...: GETs on one keep-alive connection.
# Sets HTTP_GET (pid).
http_unix_get() {
	$PEERS http-get "$@" >"$T/http-get.out" 2>&1 &
	HTTP_GET=$!
	wait "$HTTP_GET" || { cat "$T/http-get.out" >&2; fail "GET over $1 failed"; }
}

# --- a Unix socket that carries no HTTP --------------------------------------

# line_server_start SOCKET: "PING n" / "PONG n" lines on SOCKET.  Sets
# LINE_SERVER.
line_server_start() {
	local sock=$1
	$PEERS line-server "$sock" >"$T/line-server.out" 2>&1 &
	LINE_SERVER=$!
	track "$LINE_SERVER"
	$PEERS ready "$sock" 20 || { cat "$T/line-server.out" >&2; die "the line server did not listen on $sock"; }
}

# line_client SOCKET N: N pings on one connection, every answer checked.
# Sets LINE_CLIENT (pid).
line_client() {
	$PEERS line-client "$1" "$2" >"$T/line-client.out" 2>&1 &
	LINE_CLIENT=$!
	wait "$LINE_CLIENT" || { cat "$T/line-client.out" >&2; fail "the line client failed"; }
}

# podman_base_image: true when the container tests' base image
# (scripts/container-base: docker.io/library/debian:bookworm, imported
# locally; no registry is reachable) is there, so that containers can be
# created through the API without a pull.  Call after podman_api_start.
podman_base_image() {
	podman image exists docker.io/library/debian:bookworm 2>/dev/null
}
