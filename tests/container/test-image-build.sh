#!/bin/bash
# test-image-build.sh -- the base image (scripts/container-base), then the httpsnoop and demo images from container/, built with podman; what the runtime image holds and leaves out.
#
# The first test of the container suite: the others reuse these images.  It
# always rebuilds (podman's layer cache makes an unchanged tree quick), so
# the images match the source tree under test.
. "$(dirname "$0")/lib.sh"
need_podman

start=$SECONDS
build_image "$HS_IMAGE" container/Containerfile
build_image "$DEMO_IMAGE" container/demo.Containerfile
log "images built in $((SECONDS - start)) s"

# --- the httpsnoop image ---------------------------------------------------
run() { timeout 60 podman run --rm --network=none "$@"; }

v=$(run "$HS_IMAGE" --version 2>&1) || fail "httpsnoop --version through the entrypoint failed: $v"
case "$v" in *httpsnoop*) pass_msg "version: $v" ;; *) fail "unexpected --version output: $v" ;; esac
run "$HS_IMAGE" --help >"$T/help" 2>&1 || fail "httpsnoop --help failed in the image"
grep -q '^Usage: httpsnoop' "$T/help" || fail "--help printed no usage"
grep -q 'writing transactions' "$T/help" && fail "--help made the entrypoint add an output file"

ep=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$HS_IMAGE")
[ "$ep" = '["/usr/local/bin/httpsnoop-entrypoint"]' ] || fail "entrypoint is $ep"
podman image inspect --format '{{json .Config.Volumes}}' "$HS_IMAGE" | grep -c '"/traces"' >/dev/null ||
	fail "the image declares no /traces volume"

# The runtime stage holds libbcc's runtime and the binary, no toolchain:
# no compiler driver, assembler, linker, meson, or development headers.
run --entrypoint /bin/sh "$HS_IMAGE" -c '
	for t in gcc cc c99 clang clang-14 as ld meson ninja make pkg-config; do
		command -v "$t" && echo "TOOL $t"
	done
	ls -d /usr/include/bcc /usr/include/llhttp.h /usr/share/llhttp 2>/dev/null | sed "s/^/DEV /"
	ldd /usr/local/bin/httpsnoop | grep "not found" | sed "s/^/MISSING /"
	test -d /traces || echo "NO /traces"
' >"$T/contents" 2>&1
if grep -Eq '^(TOOL|DEV|MISSING|NO)' "$T/contents"; then
	sed 's/^/    /' "$T/contents" >&2
	fail "the runtime image holds a toolchain or lacks a library (above)"
else
	pass_msg "runtime image: no compiler, no headers, every library found"
fi
size=$(podman image inspect --format '{{.Size}}' "$HS_IMAGE")
log "httpsnoop image: $((size / 1048576)) MiB (base: $(( $(podman image inspect --format '{{.Size}}' docker.io/library/debian:bookworm) / 1048576 )) MiB)"

# --- the demo image ----------------------------------------------------------
ep=$(podman image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' "$DEMO_IMAGE")
[ "$ep" = '["/usr/local/bin/httpsnoop-demo"] ["-a","0.0.0.0","-p","8080"]' ] ||
	fail "demo entrypoint and command: $ep"
run --entrypoint curl "$DEMO_IMAGE" --version >/dev/null 2>&1 || fail "the demo image has no curl"
# The demo answers inside its own container (network none: only its loopback).
out=$(run --entrypoint /bin/sh "$DEMO_IMAGE" -c '
	httpsnoop-demo -a 127.0.0.1 -p 8080 >/tmp/demo.out 2>&1 &
	for i in $(seq 50); do grep -q "listening on" /tmp/demo.out && break; sleep 0.1; done
	curl -sS -m 5 http://127.0.0.1:8080/health' 2>&1)
[ "$out" = '{"status":"ok"}' ] || fail "the demo in its image answered /health with: $out"
finish
