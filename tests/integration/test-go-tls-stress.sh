#!/bin/bash
# test-go-tls-stress.sh -- Go programs that would crash under uretprobes run traced to the end: deep recursion (goroutine stacks grow and shrink under tls.Conn.Read/Write) and a thousand concurrent TLS connections; both exit 0 and every request is reported.
#
# The Go server and client run with -stress: each request is made (or
# answered) at the bottom of a recursion of random depth, or right after
# one, and the garbage collector runs every millisecond, so that stacks
# are copied and shrunk while Read and Write are on them.  httpsnoop's
# uprobes sit on the functions' entries and RET instructions, which Go
# never sees.  A control run first puts a uretprobe (BCC, from python3)
# on the same functions: the same programs must then die with a Go
# runtime crash -- the proof that this load exercises what a uretprobe
# breaks.  Go up to 1.20 says "unexpected return pc"; from 1.21 its new
# unwinder dies with a SIGSEGV on the rewritten return address instead
# (seen with Go 1.23), so both count.  Without python3-bpfcc the control
# is skipped (said).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/go-lib.sh"
need_bpf
need_go
export GODEBUG=http2server=0,http2client=0
SERVER=$GO_DIR/server-default
CLIENT=$GO_DIR/client-default
N=${GO_STRESS_REQUESTS:-3000}
C=${GO_STRESS_CONNS:-1000}
ulimit -n "$(ulimit -Hn)" 2>/dev/null
# A Go runtime crash report, in any Go version's words.
GO_CRASH='unexpected return pc|^SIGSEGV: segmentation violation|^fatal error: '

# The control: uretprobes on the same functions crash the same load.
if "$PY" -c 'import bcc' 2>/dev/null; then
	cat >"$T/uret.py" <<'EOF'
import os, sys, time
from bcc import BPF
b = BPF(text="int ret(void *ctx) { return 0; }")
for path in sys.argv[2:]:
    for fn in ("crypto/tls.(*Conn).Read", "crypto/tls.(*Conn).Write"):
        b.attach_uretprobe(name=path, sym=fn, fn_name="ret")
print("attached", flush=True)
while os.path.exists(sys.argv[1]):
    time.sleep(0.1)
EOF
	touch "$T/uret.run"
	"$PY" "$T/uret.py" "$T/uret.run" "$SERVER" "$CLIENT" >"$T/uret.out" 2>&1 &
	U=$!
	track "$U"
	for _ in $(seq 300); do
		grep -q attached "$T/uret.out" && break
		kill -0 "$U" 2>/dev/null || break
		sleep 0.1
	done
	grep -q attached "$T/uret.out" || die "the control's uretprobes did not attach: $(tail -n 3 "$T/uret.out")"
	PORT=$(free_port)
	"$SERVER" -addr "127.0.0.1:$PORT" -http1 -stress >"$T/uret.srv.out" 2>&1 &
	S=$!
	track "$S"
	wait_listen "$PORT" || die "the Go server did not listen on $PORT"
	timeout 120 "$CLIENT" -url "https://127.0.0.1:$PORT/control" -n 2000 -c 200 -http1 -stress \
		>"$T/uret.cli.out" 2>&1
	crc=$?
	kill -TERM "$S" 2>/dev/null
	wait "$S"
	src=$?
	rm -f "$T/uret.run"
	wait "$U"
	if crash=$(grep -h -m 1 -E "$GO_CRASH" "$T/uret.srv.out" "$T/uret.cli.out" | head -n 1) &&
		[ -n "$crash" ]; then
		pass_msg "control: under uretprobes the stress load crashes Go (client $crc, server $src: $crash)"
	else
		fail "control: the stress load survived uretprobes (client $crc, server $src): it does not exercise stack moves"
	fi
else
	log "python3-bpfcc is not installed: no uretprobe control run"
fi

PORT=$(free_port)
hs_start stress -v -P "$PORT"
"$SERVER" -addr "127.0.0.1:$PORT" -http1 -stress -log "$T/srv.log" >"$T/srv.out" 2>&1 &
SRV=$!
track "$SRV"
wait_listen "$PORT" || die "the Go server did not listen on $PORT"
wait_attached stress server-default || fail "no 'Go TLS: attached' line for the server"
go_attach_client stress "$CLIENT" "https://127.0.0.1:$PORT/"
"$CLIENT" -url "https://127.0.0.1:$PORT/stress" -n "$N" -c "$C" -http1 -stress \
	-size 3000 -log "$T/cli.log" >"$T/cli.out" 2>&1 &
CLI=$!
wait "$CLI"
rc=$?
[ "$rc" = 0 ] || fail "the traced Go client exited with status $rc: $(grep -m 3 -v '^0x' "$T/cli.out")"
hs_stop stress
hs_show_stats stress
kill -TERM "$SRV"
wait "$SRV"
rc=$?
[ "$rc" = 0 ] || fail "the traced Go server exited with status $rc: $(grep -m 3 -v '^0x' "$T/srv.out")"
grep -q -E "$GO_CRASH" "$T/srv.out" "$T/cli.out" &&
	fail "Go crashed: $(grep -h -m 1 -E "$GO_CRASH" "$T/srv.out" "$T/cli.out" | head -n 1)"

n=$(wc -l <"$T/srv.log")
[ "$n" = "$N" ] || fail "the server logged $n requests, expected $N"
awk '{ print $1, $2, $3, $5 }' "$T/srv.log" >"$T/srv.expect"
awk '{ print $1, $2, $3, $4 }' "$T/cli.log" >"$T/cli.expect"
$CHECK expect --jsonl "$T/stress.jsonl" --pid "$SRV" --role server --expect "$T/srv.expect" \
	--exact-count --max-diffs 10 || fail "server side: not every request reported as served"
$CHECK expect --jsonl "$T/stress.jsonl" --pid "$CLI" --role client --expect "$T/cli.expect" \
	--exact-count --max-diffs 10 || fail "client side: not every request reported as made"
hs_expect_stat stress 'parse errors' 0
hs_expect_stat stress 'TLS without socket' 0
hs_lost stress && fail "events were lost: $(hs_stat stress 'lost events')"
[ "$FAILED" = 0 ] && pass_msg "$N requests on $C concurrent connections with stack growth: both exit 0, all traced"
finish
