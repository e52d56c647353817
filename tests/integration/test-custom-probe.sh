#!/bin/bash
# test-custom-probe.sh -- --ebpf and --probe: an edited probe changes what is traced without a rebuild; a copy of probes/httpsnoop.bpf.c (which includes event.h) works as it is; a broken one fails with clang's diagnostic, an unsafe one with the verifier's log and its source lines; one without the SSL uprobes traces plain HTTP and says HTTPS is not traced.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT

"$HTTPSNOOP" --ebpf >"$T/probe.c" || die "httpsnoop --ebpf failed"
grep -q TRACEPOINT_PROBE "$T/probe.c" || die "--ebpf printed no probe source"
# The edit: protocol inference no longer accepts "GET ", so a connection
# that opens with a GET is declared not HTTP, while POST still is.
sed "/b\[0\] == 'G' && b\[1\] == 'E' && b\[2\] == 'T' && b\[3\] == ' '/{n;s/return 1;/return 0; \/* edited by $TEST_NAME *\//}" \
	"$T/probe.c" >"$T/noget.c"
if cmp -s "$T/probe.c" "$T/noget.c"; then
	die "the probe no longer has the GET test of looks_http() this test edits; update the sed"
fi
diff -u "$T/probe.c" "$T/noget.c" >&2
BIN_MTIME=$(stat -c %Y "$HTTPSNOOP")

# A probe with its SSL uprobes cut out still traces plain HTTP; httpsnoop
# says that HTTPS is not traced.
grep -v '^int uprobe__SSL\|^int uretprobe__SSL' "$T/probe.c" >"$T/notls.c"
cmp -s "$T/probe.c" "$T/notls.c" && die "the probe no longer defines uprobe__SSL_*; update the grep"

# A probe edited from an older version, whose Go TLS programs had other
# names, still traces; httpsnoop says that Go's HTTPS is not traced.
sed 's/^int uprobe__go_tls(/int uprobe__go_tls_read(/' "$T/probe.c" >"$T/oldgo.c"
cmp -s "$T/probe.c" "$T/oldgo.c" && die "the probe no longer defines uprobe__go_tls; update the sed"

# A copy of the source tree's probe, which includes event.h rather than
# its text: httpsnoop supplies the header it was built with.
cp "$SRCDIR/probes/httpsnoop.bpf.c" "$T/srccopy.c"
grep -q '^#include "event.h"' "$T/srccopy.c" || die "probes/httpsnoop.bpf.c no longer includes event.h; update this test"

hs_spawn builtin -P "$PORT"
hs_spawn srccopy -P "$PORT" --probe "$T/srccopy.c"
hs_spawn edited -P "$PORT" --probe "$T/noget.c"
hs_spawn notls -P "$PORT" --probe "$T/notls.c"
hs_spawn oldgo -P "$PORT" --probe "$T/oldgo.c"
hs_wait builtin
hs_wait srccopy
hs_wait edited
hs_wait notls
hs_wait oldgo
grep -q 'has no SSL uprobes.*HTTPS is not traced' "$T/notls.err" ||
	fail "a probe without SSL uprobes: no word that HTTPS is not traced"
grep -q 'oldgo.c has the Go TLS programs of an older httpsnoop.*HTTPS from Go programs is not traced' \
	"$T/oldgo.err" || fail "a probe with old Go TLS program names: no word that Go's HTTPS is not traced"
grep -q 'Go TLS programs of an older' "$T/builtin.err" "$T/edited.err" &&
	fail "the Go TLS warning for a probe that has the current programs"

curl -sS -o /dev/null "$URL/health" || fail "curl GET failed"
curl -sS -o /dev/null --data-binary 'posted' "$URL/echo" || fail "curl POST failed"
curl -sS -o /dev/null "$URL/users" || fail "curl GET failed"
hs_stop builtin srccopy edited notls oldgo
hs_show_stats edited

printf 'GET /health 200 15\nPOST /echo 200 6\nGET /users 200 157\n' >"$T/builtin.expect"
printf 'POST /echo 200 6\n' >"$T/edited.expect"
$CHECK expect --jsonl "$T/builtin.jsonl" --pid "$DEMO_PID" --role server \
	--expect "$T/builtin.expect" --ordered || fail "the built-in probe"
$CHECK expect --jsonl "$T/srccopy.jsonl" --pid "$DEMO_PID" --role server \
	--expect "$T/builtin.expect" --ordered || fail "a copy of probes/httpsnoop.bpf.c"
$CHECK expect --jsonl "$T/notls.jsonl" --pid "$DEMO_PID" --role server \
	--expect "$T/builtin.expect" --ordered || fail "the probe without SSL uprobes"
$CHECK expect --jsonl "$T/oldgo.jsonl" --pid "$DEMO_PID" --role server \
	--expect "$T/builtin.expect" --ordered || fail "the probe with old Go TLS program names"
$CHECK expect --jsonl "$T/edited.jsonl" --pid "$DEMO_PID" --role server \
	--expect "$T/edited.expect" --ordered || fail "the edited probe still traced GETs, or lost the POST"
$CHECK expect --jsonl "$T/edited.jsonl" --role client --port "$PORT" \
	--expect "$T/edited.expect" --ordered || fail "the edited probe, client side"
[ "$(stat -c %Y "$HTTPSNOOP")" = "$BIN_MTIME" ] || fail "the binary changed during the test"

# A syntax error on a known line: non-zero exit, clang's diagnostic with
# that line, and a message naming the file.
# (before a #define, so never inside a comment)
LINE=$(grep -n -m 1 '^#define HS_MAX_SEGS' "$T/probe.c" | cut -d: -f1)
[ -n "$LINE" ] || die "no '#define HS_MAX_SEGS' in the built-in probe"
sed "${LINE}i this is not C;" "$T/probe.c" >"$T/broken.c"
timeout 60 "$HTTPSNOOP" --probe "$T/broken.c" -P "$PORT" -d 1 >"$T/broken.out" 2>"$T/broken.err"
rc=$?
sed 's/^/    /' "$T/broken.err" >&2
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a probe with a syntax error: exit status $rc, expected a failure"
grep -Eq ":$LINE:[0-9]+: error:" "$T/broken.err" ||
	fail "no clang diagnostic for line $LINE on stderr"
grep -q "$T/broken.c" "$T/broken.err" || fail "the error does not name $T/broken.c"
grep -q '^Tracing' "$T/broken.err" && fail "httpsnoop said Tracing with a broken probe"
# The same in the source tree's copy: the header put in for its include
# line leaves the lines after it numbered as in the file.
LINE=$(grep -n -m 1 '^static __always_inline void stat_add' "$T/srccopy.c" | cut -d: -f1)
[ -n "$LINE" ] || die "no stat_add() in probes/httpsnoop.bpf.c"
sed "${LINE}i this is not C;" "$T/srccopy.c" >"$T/broken2.c"
timeout 60 "$HTTPSNOOP" --probe "$T/broken2.c" -P "$PORT" -d 1 >/dev/null 2>"$T/broken2.err"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a source copy with a syntax error: exit status $rc, expected a failure"
grep -Eq "main.c:$LINE:[0-9]+: error:" "$T/broken2.err" ||
	fail "a source copy with a syntax error on line $LINE: $(grep error: "$T/broken2.err" | head -n 2)"

# A probe the verifier rejects (a map value used without its NULL check):
# non-zero, the program named, and the verifier's log showing the source
# line it stopped at, which only a probe compiled with debug information
# has (--probe is; the built-in probe is not).
LINE=$(grep -n -m 1 '^TRACEPOINT_PROBE(sched, sched_process_exit)' "$T/probe.c" | cut -d: -f1)
[ -n "$LINE" ] || die "no sched_process_exit handler in the built-in probe"
sed "$((LINE + 1))a\\
	struct hs_conn_key bad_key = {}; struct hs_conn *bad = hs_conns.lookup(\\&bad_key); if (args->pid == 1) return bad->role; /* REJECTED-BY-THE-VERIFIER */" \
	"$T/probe.c" >"$T/unsafe.c"
grep -q REJECTED-BY-THE-VERIFIER "$T/unsafe.c" || die "the sed did not insert the unsafe line"
timeout 120 "$HTTPSNOOP" --probe "$T/unsafe.c" -P "$PORT" -d 1 >/dev/null 2>"$T/unsafe.err"
rc=$?
tail -n 5 "$T/unsafe.err" | sed 's/^/    /' >&2
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a probe the verifier rejects: exit status $rc, expected a failure"
grep -q "verifier rejected.*sched_process_exit\|sched_process_exit.*verifier rejected" "$T/unsafe.err" ||
	fail "the verifier's rejection does not name the program"
grep -q '^; .*REJECTED-BY-THE-VERIFIER' "$T/unsafe.err" ||
	fail "the verifier's log shows no source line (is --probe compiled without debug information?)"
grep -q '^Tracing' "$T/unsafe.err" && fail "httpsnoop said Tracing with a probe the verifier rejects"

# A probe file that does not exist: a clear error, non-zero
"$HTTPSNOOP" --probe "$T/no-such.c" -d 1 >/dev/null 2>"$T/missing.err"
rc=$?
[ "$rc" -ne 0 ] || fail "--probe of a missing file exited 0"
grep -q "$T/no-such.c" "$T/missing.err" || fail "--probe of a missing file: the error does not name it: $(cat "$T/missing.err")"
finish
