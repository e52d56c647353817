#!/bin/bash
# test-least-privilege.sh -- httpsnoop traces from a container with capabilities instead of --privileged, also exactly as the DaemonSet runs it; too few capabilities give a clear error.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
need_pyyaml
need_images

PORT=$(free_port)
demo_start "$(cname demo)" "$PORT"
log "demo container ${DEMO_ID:0:12} on 127.0.0.1:$PORT"

# 1. The documented least-privilege run: JSON to the /traces volume.
CAPS_RUN=(--network=host --cap-add "$LEAST_CAPS" "${HEADER_MOUNTS[@]}" "${TRACEFS_MOUNTS[@]}")
# (-P keeps the rest of a busy host out of the output, in the kernel.)
hs_run "$(cname hs-caps)" "$T/traces" "${CAPS_RUN[@]}" -- -P "$PORT" -f json -o /traces/t.json

# 2. The pod of container/kubernetes/daemonset.yaml, run by podman: its
#    capabilities (all others dropped), read-only root, hostPath mounts and
#    args (JSON Lines on stdout).
mapfile -t K8S < <("$PY" "$LIB_DIR/manifests.py" podman-flags "$SRCDIR/container/kubernetes/daemonset.yaml") ||
	die "cannot derive podman flags from the DaemonSet"
log "DaemonSet as podman flags: ${K8S[*]}"
hs_run "$(cname hs-k8s)" "$T/traces-k8s" "${K8S[@]}" -P "$PORT"

traffic "$T/gt" "$PORT"
hs_stop "$(cname hs-caps)"
hs_stop "$(cname hs-k8s)"
hs_show_stats "$(cname hs-caps)"

check_jsonl "$T/traces/t.json" "$T/gt" "$PORT" "$DEMO_ID"
# The DaemonSet's stdout is JSON Lines and nothing else: a log collector
# reads it line by line.
check_jsonl "$T/$(cname hs-k8s).out" "$T/gt" "$PORT" "$DEMO_ID"
[ -z "$(ls -A "$T/traces-k8s")" ] || fail "with -o - the entrypoint still wrote into /traces: $(ls "$T/traces-k8s")"

# httpsnoop drops its capabilities once the probe is attached; the
# least-privilege container must not defeat that.
for n in hs-caps hs-k8s; do
	if grep -q 'failed to drop capabilities' "$T/$(cname $n).err"; then
		fail "$n: $(grep 'failed to drop capabilities' "$T/$(cname $n).err")"
	fi
done

# 3. Too few capabilities: a clear error that names the fix, quickly.
#    expect_refusal NAME PATTERN PODMAN-FLAGS...
expect_refusal() {
	local name=$1 pat=$2 rc
	shift 2
	CONTAINERS+=("$(cname "$name")")
	timeout "$START_TIMEOUT" podman run --name "$(cname "$name")" --pid=host --network=host \
		"$@" "${HEADER_MOUNTS[@]}" "${TRACEFS_MOUNTS[@]}" "$HS_IMAGE" -o - -d 5 \
		>"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	podman rm -f -v "$(cname "$name")" >/dev/null 2>&1
	sed 's/^/    /' "$T/$name.err" >&2
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		fail "$name: httpsnoop did not refuse to start (status $rc)"
	elif ! grep -Eq -- "$pat" "$T/$name.err"; then
		fail "$name: the error does not name the fix (/$pat/)"
	else
		pass_msg "$name: refused with a clear error"
	fi
}
expect_refusal no-caps 'not enough privileges.*--cap-add SYS_ADMIN'
# CAP_BPF and CAP_PERFMON are what the kernel asks for, but podman's
# seccomp profile lets bpf() through only with CAP_SYS_ADMIN.
expect_refusal bpf-perfmon-only 'SYS_ADMIN' --cap-add BPF,PERFMON
finish
