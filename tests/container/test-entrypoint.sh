#!/bin/bash
# test-entrypoint.sh -- the image's entrypoint: flags pass through, and -o /traces/http-trace.txt is added exactly when no output is named.
. "$(dirname "$0")/lib.sh"

EP=$SRCDIR/container/entrypoint.sh
[ -x "$EP" ] || die "$EP is missing or not executable"

# A stand-in for httpsnoop that prints its arguments, one per line.
cat >"$T/fake-httpsnoop" <<'EOS'
#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done
EOS
chmod 755 "$T/fake-httpsnoop"
DEF=$T/traces/http-trace.txt

# expect 'ARGS' 'EXPECTED ARGV (| separated)'
expect() {
	local in=$1 want=$2 got
	local -a args=()
	[ -n "$in" ] && read -r -a args <<<"$in"
	got=$(HTTPSNOOP=$T/fake-httpsnoop HTTPSNOOP_DEFAULT_OUTPUT=$DEF \
		"$EP" "${args[@]}" 2>"$T/ep.err" | paste -sd '|') ||
		{ fail "entrypoint $in: exit status $?"; return; }
	want=${want//DEF/$DEF}
	if [ "$got" = "$want" ]; then
		pass_msg "[$in] -> [$got]"
	else
		fail "entrypoint [$in]: got [$got], expected [$want]"
	fi
}

# no output named: the default file, in front of the user's flags
expect '' "-o|DEF"
expect '-f json' "-o|DEF|-f|json"
expect '-v -P 8080 --container 3f2a' "-o|DEF|-v|-P|8080|--container|3f2a"
expect '-vfjson' "-o|DEF|-vfjson"
# option values that look like -o are values, not the option
expect '-c -o' "-o|DEF|-c|-o"
expect '--comm -o' "-o|DEF|--comm|-o"
expect '--comm=-o' "-o|DEF|--comm=-o"
expect '-p 1 -- -o' "-o|DEF|-p|1|--|-o"
# an output named in any form getopt_long accepts: nothing added
expect '-o -' "-o|-"
expect '-f json -o -' "-f|json|-o|-"
expect '-oFILE' "-oFILE"
expect '-vo FILE' "-vo|FILE"
expect '--output FILE' "--output|FILE"
expect '--output=FILE' "--output=FILE"
expect '--out FILE' "--out|FILE"
# no tracing: nothing added
expect '-h' "-h"
expect '--help' "--help"
expect '-V' "-V"
expect '--ebpf' "--ebpf"
expect '--replay rec.bin -f json' "--replay|rec.bin|-f|json"

# the default directory is made when it is missing
[ -d "$T/traces" ] || fail "the entrypoint did not create $(dirname "$DEF")"
HTTPSNOOP=$T/fake-httpsnoop HTTPSNOOP_DEFAULT_OUTPUT=$DEF "$EP" >/dev/null 2>"$T/ep.err"
grep -q "writing transactions to $DEF" "$T/ep.err" ||
	fail "the entrypoint does not say where the transactions go"
# an uncreatable default directory is a clear error, not a silent exit
if HTTPSNOOP=$T/fake-httpsnoop HTTPSNOOP_DEFAULT_OUTPUT=/proc/nonexistent/x.txt \
	"$EP" >/dev/null 2>"$T/ep2.err"; then
	fail "the entrypoint succeeded although /proc/nonexistent cannot be made"
else
	grep -q 'pass -o FILE' "$T/ep2.err" || fail "unclear error for an unwritable /traces: $(cat "$T/ep2.err")"
fi
finish
