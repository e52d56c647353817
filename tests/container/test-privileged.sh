#!/bin/bash
# test-privileged.sh -- httpsnoop in a --privileged container traces the demo app's container and its clients (the host, a third container): each request once per side, the right container_id and cgroup id, JSON and the default text file on the /traces volume.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
need_images

PORT=$(free_port)
demo_start "$(cname demo)" "$PORT"
DEMO_CG=$(cgroup2_id_of_ctr "$(cname demo)")
log "demo container ${DEMO_ID:0:12} on 127.0.0.1:$PORT (cgroup v2 id ${DEMO_CG:-none})"

# The documented privileged run, twice at once: JSON to a named file, and
# no -o at all (the entrypoint's default, /traces/http-trace.txt).  -P
# keeps the rest of a busy host out of the files (filtered in the kernel).
RUN=(--privileged --network=host "${HEADER_MOUNTS[@]}" "${TRACEFS_MOUNTS[@]}")
hs_run "$(cname hs-json)" "$T/traces-json" "${RUN[@]}" -- -P "$PORT" -f json -o /traces/t.json
hs_run "$(cname hs-text)" "$T/traces-text" "${RUN[@]}" -- -P "$PORT"

traffic "$T/gt" "$PORT"
hs_stop "$(cname hs-json)"
hs_stop "$(cname hs-text)"
hs_show_stats "$(cname hs-json)"
sed 's/^/    gt: /' "$T/gt" >&2

# --- JSON: each request once per side, in the right container -------------
J=$T/traces-json/t.json
[ -f "$J" ] || die "no /traces/t.json in the mounted volume"
check_jsonl "$J" "$T/gt" "$PORT" "$DEMO_ID"
if [ -n "$DEMO_CG" ]; then
	bad=$(jq -r --arg port "$PORT" --argjson cg "$DEMO_CG" '
		select(.role == "server" and ((.local // "") | endswith(":" + $port)) and .cgroup_id != $cg)
		| "\(.request.target) \(.cgroup_id)"' "$J")
	[ -z "$bad" ] || fail "server-side cgroup_id is not the demo container's $DEMO_CG: $bad"
fi
# the host's curl runs outside any container: no id, and not the demo's cgroup
jq -c --arg port "$PORT" 'select(.role == "client" and .comm == "curl"
	and ((.remote // "") | endswith(":" + $port)) and .container_id == null)' "$J" | grep -c . >/dev/null ||
	fail "no host-side client transaction with container_id null"

# --- text: the default output file on the volume ----------------------------
X=$T/traces-text/http-trace.txt
if [ ! -f "$X" ]; then
	fail "no /traces/http-trace.txt: the entrypoint's default output is missing"
else
	grep -q "writing transactions to /traces/http-trace.txt" "$T/$(cname hs-text).err" ||
		fail "the entrypoint did not say where the transactions go"
	[ "$(stat -c %a "$X")" = 600 ] || fail "http-trace.txt has mode $(stat -c %a "$X"), expected 600"
	n_gt=$(wc -l <"$T/gt")
	# "[time] PID n (httpsnoop-demo) [<12 hex>] server 127.0.0.1:PORT -> ..."
	n=$(grep -cE "^\[[0-9:.]+\] PID [0-9]+ \(httpsnoop-demo\) \[${DEMO_ID:0:12}\] server 127\.0\.0\.1:$PORT -> " "$X")
	[ "$n" = "$n_gt" ] || {
		grep -E '\] PID ' "$X" | grep ":$PORT" | sed 's/^/    /' >&2
		fail "text: $n server-side header lines with the demo's short id, expected $n_gt"
	}
	while read -r who method target code; do
		grep -qF "→ $method $target HTTP/1.1" "$X" || fail "text: no request line for $method $target"
	done <"$T/gt"
	# the host's curl: a header line without a container id
	grep -qE "^\[[0-9:.]+\] PID [0-9]+ \(curl\) client 127\.0\.0\.1:[0-9]+ -> 127\.0\.0\.1:$PORT$" "$X" ||
		fail "text: no host-side curl header line (without a container id)"
	# the third container's curl: its short id
	cid=$(awk '$1 != "host" { print $1; exit }' "$T/gt")
	grep -qE "^\[[0-9:.]+\] PID [0-9]+ \(curl\) \[${cid:0:12}\] client .* -> 127\.0\.0\.1:$PORT$" "$X" ||
		fail "text: no client header line with the curl container's short id ${cid:0:12}"
fi
finish
