#!/bin/bash
# test-container-filter.sh -- httpsnoop --container ID-PREFIX, run from a container, reports the demo container's transactions and nothing else on the host.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
need_images

PORT=$(free_port)
PORT2=$(free_port)
demo_start "$(cname demo2)" "$PORT2"
ID2=$DEMO_ID
demo_start "$(cname demo)" "$PORT"
PREFIX=${DEMO_ID:0:12}
log "demo container $PREFIX on 127.0.0.1:$PORT, another (${ID2:0:12}) on $PORT2"

RUN=(--network=host --cap-add "$LEAST_CAPS" "${HEADER_MOUNTS[@]}" "${TRACEFS_MOUNTS[@]}")
hs_run "$(cname hs)" "$T/traces" "${RUN[@]}" -- -v -f json -o /traces/t.json --container "$PREFIX"
# With the host's cgroup v2 hierarchy visible, the filter can work in the
# kernel by cgroup id; it must give the same answer.
UNIFIED=
if [ -f /sys/fs/cgroup/unified/cgroup.procs ]; then
	UNIFIED=/sys/fs/cgroup/unified
	hs_run "$(cname hs-cg)" "$T/traces-cg" "${RUN[@]}" \
		-v /sys/fs/cgroup/unified:/sys/fs/cgroup/unified:ro -- \
		-v -f json -o /traces/t.json --container "$PREFIX"
fi

# In a private cgroup namespace (the default of podman and docker on cgroup
# v2 hosts, and of Kubernetes pods there) /proc/PID/cgroup shows other
# containers' paths relative to its own root ("/../libpod-ID"); the id must
# still be found.
hs_run "$(cname hs-cgns)" "$T/traces-cgns" "${RUN[@]}" --cgroupns=private -- \
	-v -f json -o /traces/t.json --container "$PREFIX"

traffic "$T/gt" "$PORT"
# traffic the filter must drop: the other demo container's, from the host
: >"$T/gt2"
host_curl "$T/gt2" "$PORT2" GET /users
host_curl "$T/gt2" "$PORT2" GET /user/9
# A restarted container keeps its id but gets a new cgroup: still traced.
podman restart -t 2 "$(cname demo)" >/dev/null 2>&1 || fail "podman restart of the demo failed"
for _ in $(seq 100); do
	ss -Hltn "sport = :$PORT" 2>/dev/null | grep -c . >/dev/null && break
	sleep 0.1
done
host_curl "$T/gt" "$PORT" GET '/user/7?after=restart'
hs_stop "$(cname hs)"
hs_stop "$(cname hs-cgns)"
[ -n "$UNIFIED" ] && hs_stop "$(cname hs-cg)"

# check FILE LABEL
check() {
	local f=$1 label=$2 n n_gt others failed_before=$FAILED
	FAILED=0
	grep 'filtering' "$T/$label.err" | sed 's/^/    /' >&2
	[ -s "$f" ] || { fail "$label: no transactions"; return; }
	# nothing from anywhere else: not the clients, not the other demo,
	# not the host's processes (other tests may be running)
	others=$(jq -r --arg id "$DEMO_ID" 'select(.container_id != $id)
		| "\(.comm) \(.role) \(.container_id) \(.request.target)"' "$f" | sort | uniq -c)
	[ -z "$others" ] || fail "$label: transactions outside the container: $others"
	# every request to the demo: its server side once, with its status
	while read -r who method target code; do
		n=$(jq -r --arg m "$method" --arg t "$target" --arg port "$PORT" '
			select(.role == "server" and .request.method == $m and .request.target == $t
			       and ((.local // "") | endswith(":" + $port)))
			| .response.status' "$f")
		[ "$n" = "$code" ] || fail "$label: $method $target: server side status [$n], expected once with $code"
	done <"$T/gt"
	n=$(jq -c 'select(.role == "server")' "$f" | wc -l)
	n_gt=$(wc -l <"$T/gt")
	[ "$n" = "$n_gt" ] || fail "$label: $n server-side transactions, expected $n_gt"
	[ "$FAILED" = 0 ] && pass_msg "$label: $n server-side transactions, all in $PREFIX"
	[ "$failed_before" = 0 ] || FAILED=1
}
check "$T/traces/t.json" "$(cname hs)"
check "$T/traces-cgns/t.json" "$(cname hs-cgns)"
[ -n "$UNIFIED" ] && {
	check "$T/traces-cg/t.json" "$(cname hs-cg)"
	grep -q 'filtering in the kernel by cgroup' "$T/$(cname hs-cg).err" ||
		fail "with $UNIFIED mounted, --container did not filter in the kernel"
}

# a prefix that is not hex is a usage error (exit 2), not a silent no-op
CONTAINERS+=("$(cname bad)")
timeout 60 podman run --name "$(cname bad)" --network=none "$HS_IMAGE" -o - --container 'xyz!' \
	>/dev/null 2>"$T/bad.err"
rc=$?
podman rm -f -v "$(cname bad)" >/dev/null 2>&1
[ "$rc" = 2 ] || fail "--container 'xyz!': status $rc, expected 2 (usage)"
finish
