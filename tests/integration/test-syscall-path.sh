#!/bin/bash
# test-syscall-path.sh -- both hook paths: the choice (--hooks, HTTPSNOOP_HOOKS, -v), then the key integration tests again with every httpsnoop in them forced onto the syscall tracepoints (kernels before 6.3, or without BTF), which the default run does not use on a kernel that has the socket-level hooks.
. "$(dirname "$0")/lib.sh"
need_bpf

DIR=$(cd "$(dirname "$0")" && pwd)
# The tests that check what each hook path does on its own: every way to
# move bytes, sendfile accounting, fd reuse, connections opened before
# tracing, TLS (socket and memory BIOs, Go), hostile peers, Unix sockets,
# and nginx against its access log.
TESTS=(nginx-curl syscalls sendfile uring-splice fd-reuse preexisting-conn tls tls-membio
	hostile unix-non-http unix-filters unix-grpc unix-podman go-tls)

# uses NAME ENV... -- ARGS: what httpsnoop -v says it uses, with ENV.
uses() {
	local name=$1
	shift
	local env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	env "${env[@]}" "$HTTPSNOOP" -v -d 1 -P "$(free_port)" -o /dev/null "$@" \
		>"$T/$name.out" 2>"$T/$name.err"
	echo $? >"$T/$name.rc"
	grep 'httpsnoop: using' "$T/$name.err"
}

unset HTTPSNOOP_HOOKS
TRACEFS=/sys/kernel/tracing
[ -d "$TRACEFS/events" ] || TRACEFS=/sys/kernel/debug/tracing
SOCK=no
[ "$(uname -m)" = x86_64 ] && [ -r /sys/kernel/btf/vmlinux ] &&
	[ -e "$TRACEFS/events/sock/sock_send_length" ] && SOCK=yes

u=$(uses syscall-opt -- --hooks syscall)
grep -q 'syscall tracepoints' <<<"$u" || fail "--hooks syscall: -v says: $u"
u=$(uses syscall-env HTTPSNOOP_HOOKS=syscall --)
grep -q 'syscall tracepoints' <<<"$u" || fail "HTTPSNOOP_HOOKS=syscall: -v says: $u"
# --hooks wins over the environment
u=$(uses both HTTPSNOOP_HOOKS=sock -- --hooks syscall)
grep -q 'syscall tracepoints' <<<"$u" || fail "--hooks syscall with HTTPSNOOP_HOOKS=sock: -v says: $u"
if [ $SOCK = yes ]; then
	u=$(uses default HS_UNUSED=1 --)
	grep -q 'socket-level hooks' <<<"$u" ||
		fail "the default on a kernel with the socket-level hooks: -v says: $u"
	u=$(uses sock-opt -- --hooks sock)
	grep -q 'socket-level hooks' <<<"$u" || fail "--hooks sock: -v says: $u"
	# What the hooks need, taken away: auto falls back, sock refuses.
	u=$(uses auto-nosocktp HTTPSNOOP_FORCE_NO_SOCK_TP=1 --)
	grep -q 'syscall tracepoints' <<<"$u" || fail "auto without sock tracepoints: -v says: $u"
	uses sock-noregs HTTPSNOOP_FORCE_NO_TASK_REGS=1 -- --hooks sock >/dev/null
	[ "$(cat "$T/sock-noregs.rc")" != 0 ] && grep -q 'socket-level hooks cannot be used' "$T/sock-noregs.err" ||
		fail "--hooks sock without registers: exit $(cat "$T/sock-noregs.rc"), $(tail -n 2 "$T/sock-noregs.err")"
	pass_msg "hook path chosen as asked"
else
	log "the socket-level hooks are not tested: this kernel lacks what they need"
fi

export HTTPSNOOP_HOOKS=syscall
for t in "${TESTS[@]}"; do
	[ -f "$DIR/test-$t.sh" ] || continue
	bash "$DIR/test-$t.sh" >"$T/$t.log" 2>&1
	rc=$?
	case $rc in
	0) pass_msg "$t on the syscall path" ;;
	77) log "$t skipped on the syscall path: $(grep -i skip "$T/$t.log" | tail -n 1)" ;;
	*) tail -n 30 "$T/$t.log" >&2
	   fail "$t on the syscall path (exit $rc; its log: $T/$t.log)" ;;
	esac
done
finish
