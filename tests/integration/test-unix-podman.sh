#!/bin/bash
# test-unix-podman.sh -- podman's API on a Unix socket, called by curl --unix-socket and Debian's docker CLI: both sides reported with the socket's path and the right statuses, against curl -w and podman's own access log; the peers; --record and --replay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/unixlib.sh"
need_tools curl jq
need_bpf

SOCK=$T/podman.sock
podman_api_start "$SOCK"
# One tracer keeps only this socket (--unix), one traces everything: for
# these processes they must agree.
hs_spawn hs --unix "$SOCK" --record "$T/hs.rec"
hs_spawn all
hs_wait hs
hs_wait all

# curl, with its own -w as the truth
: >"$T/curl.gt"
curl_unix "$T/curl.gt" "$SOCK" GET http://d/_ping
curl_unix "$T/curl.gt" "$SOCK" GET http://d/v1.41/version
curl_unix "$T/curl.gt" "$SOCK" GET http://d/v1.41/no-such-thing
curl_unix "$T/curl.gt" "$SOCK" HEAD -I http://d/_ping
curl_unix "$T/curl.gt" "$SOCK" POST -X POST http://d/v1.41/containers/prune
CURL_PIDS=$(awk '{ print $1 }' "$T/curl.gt" | paste -sd,)

# the docker CLI: each command's API calls are the lines it added to
# podman's log
declare -a DOCKER_PIDS=()
docker_cmd() {
	local name=$1 n0
	shift
	n0=$(podman_api_calls | wc -l)
	docker_cli "$SOCK" "$T/docker-$name.out" "$@"
	DOCKER_PIDS+=("$DOCKER_CLI_PID")
	# podman writes its log line after the response: wait for it
	for _ in $(seq 50); do
		[ "$(podman_api_calls | wc -l)" -gt "$n0" ] && break
		sleep 0.1
	done
	sleep 0.2
	podman_api_calls | tail -n +$((n0 + 1)) >"$T/docker-$name.expect"
	[ -s "$T/docker-$name.expect" ] || fail "docker $*: podman logged no API call"
}
docker_cmd version version
docker_cmd ps ps -a
docker_cmd images images
grep -q 'Podman Engine' "$T/docker-version.out" || fail "docker version did not reach podman"
if podman_base_image; then
	# a container made and removed through the API: POST 201, DELETE 204
	docker_cmd create create --name "hs-unix-$$" docker.io/library/debian:bookworm true
	docker_cmd rm rm "hs-unix-$$"
else
	log "no local debian:bookworm image (scripts/container-base): no create/rm"
fi

# a client that keeps its connection open: the other end can be looked up
$PEERS http-hold "$SOCK" /v1.41/info 1 >"$T/hold.out" 2>&1 &
HOLD=$!
wait "$HOLD" || fail "the holding client failed"
sleep 0.3
hs_stop hs all
hs_show_stats hs

for name in hs all; do
	f=$T/$name.jsonl
	# the client side: curl's -w, and podman's log per docker command
	$CHECK curl --jsonl "$f" --gt "$T/curl.gt" --unix "$SOCK" ||
		fail "$name: curl's client side differs from curl -w"
	i=0
	for cmd in version ps images create rm; do
		[ -f "$T/docker-$cmd.expect" ] || continue
		$CHECK expect --jsonl "$f" --pid "${DOCKER_PIDS[$i]}" --role client --unix "$SOCK" \
			--expect "$T/docker-$cmd.expect" --ordered ||
			fail "$name: docker $cmd's client side differs from podman's log"
		i=$((i + 1))
	done
	# the server side: podman's log, and curl's 404 that its router
	# answers without logging
	{ podman_api_calls; awk '$2 == 404 { print "GET /v1.41/no-such-thing 404 " $3 }' "$T/curl.gt"; } >"$T/server.expect"
	$CHECK expect --jsonl "$f" --pid "$PODMAN_API" --role server --unix "$SOCK" \
		--expect "$T/server.expect" --exact-count ||
		fail "$name: podman's server side differs from its own log"
	# every record of these processes names the socket: the server's
	# local, the client's remote
	bad=$(jq -c --arg s "unix:$SOCK" --argjson p "$PODMAN_API" \
		'select((.pid == $p and .local != $s) or (.pid != $p and .role == "client" and
		        (.remote != $s or .local != "unix:")))' "$f" |
		jq -c --arg pids "$PODMAN_API,$CURL_PIDS,$(IFS=,; echo "${DOCKER_PIDS[*]}"),$HOLD" \
		'select(.pid as $x | $pids | split(",") | map(tonumber) | index($x))')
	[ -z "$bad" ] || fail "$name: records without the socket's path: $bad"
	# the peers of the held connection, each end naming the other
	n=$(jq -c --argjson p "$PODMAN_API" --argjson h "$HOLD" \
		'select((.pid == $p and .request.target == "/v1.41/info" and .peer_pid == $h and .peer_comm == "python3") or
		        (.pid == $h and .peer_pid == $p and .peer_comm == "podman"))' "$f" | wc -l)
	[ "$n" = 2 ] || fail "$name: the held connection's two records do not name each other's process ($n of 2)"
done
pass_msg "client and server sides match curl -w and podman's log, with the socket's path"

# nothing else of this machine in the filtered trace: only the socket
other=$(jq -c --arg s "unix:$SOCK" 'select(.local != $s and .remote != $s) | [.pid, .comm, .local, .remote]' "$T/hs.jsonl")
[ -z "$other" ] || fail "--unix $SOCK let other connections through: $other"

# a replay shows what the live run showed: names and peers included
"$HTTPSNOOP" --replay "$T/hs.rec" -f json -o "$T/replay.jsonl" 2>"$T/replay.err" ||
	fail "--replay failed: $(tail -n 3 "$T/replay.err")"
$CHECK same --jsonl "$T/hs.jsonl" --other "$T/replay.jsonl" ||
	fail "the replay differs from the live trace"
hs_expect_stat hs 'parse errors' 0
finish
