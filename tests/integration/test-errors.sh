#!/bin/bash
# test-errors.sh -- error paths: bad flags, no privileges, no kernel headers, no tracefs, a bad replay file: clear messages and exit codes.
. "$(dirname "$0")/lib.sh"
need_binaries

# expect_exit WANT_RC PATTERN DESCRIPTION -- CMD...: run CMD (60 s at most)
# and check its exit status and that stderr matches the extended regex.
expect_exit() {
	local want=$1 pattern=$2 what=$3 rc
	shift 4
	timeout 60 "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	if [ "$rc" = 124 ]; then
		fail "$what: still running after 60 s"
		return
	fi
	if [ "$want" = nonzero ]; then
		[ "$rc" -ne 0 ] || fail "$what: exit status 0, expected a failure"
	elif [ "$rc" != "$want" ]; then
		fail "$what: exit status $rc, expected $want"
	fi
	if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$T/err"; then
		fail "$what: stderr does not match /$pattern/; it was:"
		sed 's/^/    /' "$T/err" >&2
	fi
	grep -q '^Tracing' "$T/err" && fail "$what: httpsnoop said it was tracing"
	log "ok: $what -> $rc: $(grep -v '^$' "$T/err" | head -n 1)"
}

# --- bad command lines: usage on stderr, exit 2, before any privilege check
for args in '-p abc' '-p 0' '-p -5' '-p 99999999999' '-P 70000' '-P 0' '-P 80x' \
	'-f xml' '-f' '-b -1' '-b 1048577' '-b 1k' '-d 0' '-d -3' '-d 1.5' \
	'--no-such-option' '-Z' 'stray-argument' '--record a.rec --replay b.rec' \
	'-c waytoolongcommandname'; do
	# shellcheck disable=SC2086
	expect_exit 2 '^Usage: httpsnoop' "httpsnoop $args" -- "$HTTPSNOOP" $args
done
expect_exit 2 '^Usage: httpsnoop' "httpsnoop -c ''" -- "$HTTPSNOOP" -c ''
expect_exit 0 '' "httpsnoop --help" -- "$HTTPSNOOP" --help
grep -q '^Usage: httpsnoop' "$T/out" && grep -q 'Examples:' "$T/out" ||
	fail "--help: no usage with examples on stdout"

# --- --replay of things that are not recordings: exit 1, a clear error
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/not-a-recording"
expect_exit 1 'not an httpsnoop recording' "--replay of an HTTP text file" -- \
	"$HTTPSNOOP" --replay "$T/not-a-recording" -f json
: >"$T/empty-file"
expect_exit 1 "$T/empty-file" "--replay of an empty file" -- \
	"$HTTPSNOOP" --replay "$T/empty-file" -f json
expect_exit 1 "$T/missing.rec.*(No such file|not found)" "--replay of a missing file" -- \
	"$HTTPSNOOP" --replay "$T/missing.rec" -f json
head -c 4096 /dev/urandom >"$T/random.rec"
expect_exit 1 'not an httpsnoop recording' "--replay of random bytes" -- \
	"$HTTPSNOOP" --replay "$T/random.rec" -f json

# The rest needs root to set up (privilege drop, mount namespaces).
if [ "$(id -u)" -ne 0 ]; then
	log "SKIP (part): not root: privilege, header and tracefs checks not run"
	finish
fi

# --- not root: a clear message about root or capabilities.  A copy of the
# binary in a directory 'nobody' can read, with its own output dir.
cp "$HTTPSNOOP" "$T/httpsnoop"
chmod 755 "$T/httpsnoop"
expect_exit nonzero 'root.*CAP_|CAP_.*root' "httpsnoop as nobody" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$T/httpsnoop" -d 1
expect_exit nonzero 'root.*CAP_|CAP_.*root' "httpsnoop as root without capabilities" -- \
	setpriv --inh-caps=-all --bounding-set=-all "$T/httpsnoop" -d 1

# --- no kernel headers: a private mount namespace where /lib/modules is an
# empty tmpfs (the host keeps its own).
if unshare -m --propagation private true 2>/dev/null; then
	expect_exit nonzero 'kernel headers not found.*(linux-headers|scripts/setup)' \
		"httpsnoop without kernel headers" -- \
		env -u BCC_KERNEL_SOURCE unshare -m --propagation private sh -c \
		'mount -t tmpfs -o ro,size=4k none /lib/modules && exec "$0" -d 1' "$HTTPSNOOP"
	# --- no tracefs: unmount tracefs and debugfs in a private namespace,
	# and lay an empty read-only tmpfs over /sys/kernel so that httpsnoop
	# cannot mount tracefs again (its mount point is gone).
	expect_exit nonzero 'tracefs' "httpsnoop without tracefs" -- \
		env -u BCC_KERNEL_SOURCE unshare -m --propagation private sh -c '
		for m in $(awk "\$2 ~ \"^/sys/kernel/(debug|tracing)\" { print \$2 }" /proc/self/mounts | sort -r); do
			umount -l "$m" || exit 99
		done
		mount -t tmpfs -o ro,size=4k none /sys/kernel || exit 99
		[ ! -e /sys/kernel/tracing ] || exit 99
		exec "$0" -d 1' "$HTTPSNOOP"
	grep -q 'mount -t tracefs' "$T/err" || fail "the tracefs error does not say how to mount it"
	# the namespace was private: the host's mounts are untouched
	grep -q ' /sys/kernel/tracing tracefs ' /proc/self/mounts ||
		grep -q ' /sys/kernel/debug debugfs ' /proc/self/mounts ||
		fail "tracefs/debugfs vanished from the host's mounts"
else
	# unshare -m needs CAP_SYS_ADMIN; as root it only fails in a
	# sandbox that forbids namespaces
	log "SKIP (part): cannot create a mount namespace: header and tracefs checks not run"
fi
finish
