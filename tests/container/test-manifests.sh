#!/bin/bash
# test-manifests.sh -- container/compose.yaml and container/kubernetes/daemonset.yaml are valid YAML of the right kinds, with the privileges and mounts httpsnoop needs.
. "$(dirname "$0")/lib.sh"

need_pyyaml

"$PY" "$LIB_DIR/manifests.py" check "$SRCDIR" && pass_msg "compose.yaml and daemonset.yaml are well-formed" ||
	fail "manifest problems (above)"

# the checker itself catches a broken manifest: no hostPID, a writable /usr/src
mkdir -p "$T/bad/container/kubernetes"
cp "$SRCDIR/container/compose.yaml" "$SRCDIR/container/"*Containerfile "$T/bad/container/"
sed -e '/hostPID: true/d' -e '/name: usr-src/,/readOnly/s/readOnly: true/readOnly: false/' \
	"$SRCDIR/container/kubernetes/daemonset.yaml" >"$T/bad/container/kubernetes/daemonset.yaml"
if "$PY" "$LIB_DIR/manifests.py" check "$T/bad" 2>"$T/bad.err"; then
	fail "the checker accepted a DaemonSet without hostPID"
else
	grep -q hostPID "$T/bad.err" && grep -q '/usr/src should be mounted readOnly' "$T/bad.err" ||
		fail "the checker missed a problem: $(cat "$T/bad.err")"
fi

# the flags derived from the DaemonSet: what test-least-privilege.sh runs
"$PY" "$LIB_DIR/manifests.py" podman-flags "$SRCDIR/container/kubernetes/daemonset.yaml" >"$T/flags" ||
	fail "cannot derive podman flags from the DaemonSet"
sed 's/^/    /' "$T/flags" >&2
grep -qx -- '--pid=host' "$T/flags" || fail "derived flags lack --pid=host"
grep -qx -- '--volume=/lib/modules:/lib/modules:ro' "$T/flags" || fail "derived flags lack the /lib/modules mount"

# every kind the DaemonSet file holds, for the log
"$PY" -c 'import sys, yaml
print("kinds:", [d["kind"] for d in yaml.safe_load_all(open(sys.argv[1])) if d])' \
	"$SRCDIR/container/kubernetes/daemonset.yaml" >&2
finish
