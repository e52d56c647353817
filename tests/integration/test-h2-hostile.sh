#!/bin/bash
# test-h2-hostile.sh -- hostile HTTP/2 (a CONTINUATION flood, a HEADERS frame claiming 16 MiB, an HPACK bomb, a SETTINGS flood, garbage after the preface): httpsnoop stays up, within its memory limits, and reports no transaction that was not sent.
. "$(dirname "$0")/lib.sh"
need_bpf
$PY -c 'import h2' 2>/dev/null || skip "python3-h2 is not installed"

PEER=$SRCDIR/tests/integration/h2peer.py
CH2="$PY $SRCDIR/tests/integration/check_h2.py"
PORT=$(free_port)
# A server that reads everything and answers nothing: both sides of each
# hostile stream reach the tracer whole.
cat >"$T/sink.py" <<'PYEOF'
import os, socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(16)
while True:
    s, _ = ls.accept()
    if os.fork() == 0:
        while s.recv(1 << 20):
            pass
        os._exit(0)
    s.close()
PYEOF
$PY "$T/sink.py" "$PORT" >"$T/sink.out" 2>&1 &
track $!
wait_listen "$PORT" || die "the sink did not listen on $PORT"

hwm() { awk '/^VmHWM/ {print $2}' "/proc/${HS_PID[hs]}/status"; }
# hostile CASE 'statistic': sends CASE, then the statistic must have grown
# (read from a SIGUSR1 dump, so each case is checked on its own).
hostile() {
	local before after
	hs_stats_now hs || die "httpsnoop gave no statistics"
	before=$(hs_stat hs "$2")
	timeout 60 $PY "$PEER" hostile "$PORT" "$1" >>"$T/hostile.out" 2>&1 ||
		fail "the hostile client ($1) failed"
	kill -0 "${HS_PID[hs]}" || die "httpsnoop died on $1"
	hs_stats_now hs || die "httpsnoop gave no statistics after $1"
	after=$(hs_stat hs "$2")
	log "$1: '$2' $before -> $after"
	[ "${after:-0}" -gt "${before:-0}" ] || fail "$1 did not count in '$2'"
}
hs_start hs -P "$PORT"
base=$(hwm)
hostile headers-16mib 'h2 bad frames'
hostile garbage-after-preface 'h2 not HTTP/2'
hostile hpack-bomb 'h2 fields over cap'
hostile settings-flood 'h2 connections'
# Last: 22 MB that the probe's buffers may drop in part (lost events).
hostile continuation-flood 'h2 fields over cap'
peak=$(hwm)
hs_stop hs
hs_show_stats hs

log "VmHWM: $base KiB at the start, $peak KiB after it all"
# Each connection may hold a header block (H2_BLOCK_MAX), a resync window
# and an HPACK table per direction: well under 16 MiB in all, while the
# flood alone sends 22 MB that a tracer buffering it would keep.
[ "$((peak - base))" -lt 16384 ] || fail "httpsnoop grew by $((peak - base)) KiB under hostile HTTP/2"
# Requests sent: the bomb's two (twice), the flood's one; each side.
$CH2 hostile --jsonl "$T/hs.jsonl" --port "$PORT" --max 10 ||
	fail "transactions that were not sent"
finish
