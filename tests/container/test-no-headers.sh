#!/bin/bash
# test-no-headers.sh -- without the host's kernel headers mounted, httpsnoop in a container stops at once with an error that says which mounts to add.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
need_images

# run_without NAME PODMAN-FLAGS...: httpsnoop in a privileged container
# (so that nothing but the headers can be missing); must exit non-zero
# within the start timeout and name the fix.
run_without() {
	local name=$1 rc start=$SECONDS
	shift
	CONTAINERS+=("$(cname "$name")")
	timeout "$START_TIMEOUT" podman run --name "$(cname "$name")" --privileged --pid=host \
		--network=none "${TRACEFS_MOUNTS[@]}" "$@" "$HS_IMAGE" -o - -d 5 \
		>"$T/$name.out" 2>"$T/$name.err"
	rc=$?
	podman rm -f -v "$(cname "$name")" >/dev/null 2>&1
	sed 's/^/    /' "$T/$name.err" >&2
	if [ "$rc" = 0 ] || [ "$rc" = 124 ]; then
		fail "$name: httpsnoop ran without kernel headers (status $rc)"
		return
	fi
	grep -q "kernel headers not found for $(uname -r)" "$T/$name.err" ||
		fail "$name: no 'kernel headers not found' error"
	grep -q "mount the host's /lib/modules and /usr/src read-only" "$T/$name.err" ||
		fail "$name: the error does not say which mounts to add"
	grep -q '^Tracing' "$T/$name.err" && fail "$name: it said Tracing before failing"
	pass_msg "$name: status $rc after $((SECONDS - start)) s"
}

# neither mount
run_without no-mounts
# /lib/modules alone: its build link points into /usr/src, which is missing
if [ -L "/lib/modules/$(uname -r)/build" ] &&
   [[ "$(readlink -f "/lib/modules/$(uname -r)/build")" == /usr/src/* ]]; then
	run_without no-usr-src -v /lib/modules:/lib/modules:ro
else
	log "the host's headers are not linked into /usr/src: no /usr/src case"
fi
finish
