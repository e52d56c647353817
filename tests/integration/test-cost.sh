#!/bin/bash
# test-cost.sh -- the statistics say what tracing cost: httpsnoop's CPU against /proc, its probe's run time against the kernel's own count in fdinfo.
. "$(dirname "$0")/lib.sh"
need_tools ab
need_bpf

SYSCTL=/proc/sys/kernel/bpf_stats_enabled
[ -w "$SYSCTL" ] || skip "no writable $SYSCTL"
ON_EXIT+=("echo $(cat "$SYSCTL") >$SYSCTL")

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT/health
N=10000

# cpu_us PID: user+system CPU of PID so far, in us (/proc/PID/stat).
cpu_us() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", ($14 + $15) * 1000000 / hz }' "/proc/$1/stat"
}

# bpf_sum PID: "RUNS NS", the run counts and run times of the BPF programs
# PID holds, summed over /proc/PID/fdinfo (a program held twice counts
# once: by prog_id).  One process, so that little runs meanwhile.
bpf_sum() {
	awk 'FNR == 1 { id = "" } /^prog_id:/ { id = $2 }
		id != "" && /^run_time_ns:/ { ns[id] = $2 }
		id != "" && /^run_cnt:/ { n[id] = $2 }
		END { for (i in n) { r += n[i]; t += ns[i] } printf "%d %d\n", r, t }' \
		/proc/"$1"/fdinfo/* 2>/dev/null
}

# 1. Without the kernel's BPF statistics: the CPU only, and a word on how to
#    have the rest.
echo 0 >"$SYSCTL"
hs_start off -P "$PORT"
ab -k -n "$N" -c 4 "$URL" >"$T/ab-off.out" 2>&1 || fail "ab failed: $(tail -n 3 "$T/ab-off.out")"
hs_stop off
hs_show_stats off
[ "$(hs_stat off 'tracer CPU us')" -gt 0 ] 2>/dev/null || fail "no 'tracer CPU us' without BPF statistics"
grep -q '^  probe run us' "$T/off.err" && fail "'probe run us' shown while the kernel kept no statistics"
grep -q '^  per transaction .* us of httpsnoop.s CPU (its probe.s time: sysctl kernel.bpf_stats_enabled=1)' "$T/off.err" ||
	fail "no 'per transaction' line saying how to have the probe's time"

# 2. With them: the figures of a SIGUSR1 dump against what /proc and
#    fdinfo said after 'Tracing' (a) and right before the dump (b): at
#    least what happened between, and not much more.
echo 1 >"$SYSCTL"
hs_spawn on -P "$PORT"
pid=${HS_PID[on]}
for i in $(seq $((START_TIMEOUT * 20))); do
	grep -q '^Tracing' "$T/on.err" && break
	sleep 0.05
done
read -r runs_a ns_a <<<"$(bpf_sum "$pid")"
cpu_a=$(cpu_us "$pid")
ab -k -n "$N" -c 4 "$URL" >"$T/ab-on.out" 2>&1 || fail "ab failed: $(tail -n 3 "$T/ab-on.out")"
sleep 1 # the tracer drains
read -r runs_b ns_b <<<"$(bpf_sum "$pid")"
cpu_b=$(cpu_us "$pid")
kill -USR1 "$pid"
for i in $(seq 100); do
	grep -q '^  per transaction' "$T/on.err" && break
	sleep 0.1
done
hs_stop on
hs_show_stats on
# dump NAME: the statistic NAME of the SIGUSR1 dump (the first of two)
dump() { sed -n "s|^  $1  *\([0-9][0-9]*\)\$|\1|p" "$T/on.err" | head -n 1; }
runs=$(dump 'probe runs') us=$(dump 'probe run us') cpu=$(dump 'tracer CPU us') txns=$(dump transactions)
[ -n "$runs" ] && [ -n "$us" ] && [ -n "$cpu" ] && [ -n "$txns" ] ||
	fail "cost statistics missing from the SIGUSR1 dump with BPF statistics on"
d_runs=$((runs_b - runs_a)) d_us=$(((ns_b - ns_a) / 1000)) d_cpu=$((cpu_b - cpu_a))
log "dump: probe runs $runs (fdinfo between: $d_runs), run us $us ($d_us), CPU us $cpu (/proc between: $d_cpu), $txns transactions"
[ "$txns" -ge $((2 * N)) ] || fail "$txns transactions, expected $((2 * N)) (both sides)"
# ab's requests each run several programs on each side
[ "$d_runs" -ge "$((2 * N))" ] || fail "fdinfo counted only $d_runs runs"
# not twice what the kernel counted between (a program counted twice)
[ "$runs" -ge "$d_runs" ] || fail "probe runs $runs < $d_runs counted by the kernel"
[ "$runs" -lt "$((d_runs * 2))" ] || fail "probe runs $runs, twice the kernel's $d_runs or more"
[ "$us" -ge "$((d_us - 1))" ] || fail "probe run us $us < $d_us from the kernel"
[ "$us" -lt "$((d_us * 2))" ] || fail "probe run us $us, twice the kernel's $d_us or more"
# /proc counts in clock ticks: 2 of slack either way
tick=$((1000000 / $(getconf CLK_TCK)))
[ "$cpu" -ge "$((d_cpu - 2 * tick))" ] || fail "tracer CPU us $cpu < $d_cpu from /proc"
[ "$cpu" -lt "$((d_cpu * 2 + 2 * tick))" ] || fail "tracer CPU us $cpu, twice /proc's $d_cpu or more"
[ "$(grep -Ec '^  per transaction +[0-9.]+ us of httpsnoop.s CPU, [0-9.]+ us in its probe$' "$T/on.err")" = 2 ] ||
	fail "no 'per transaction' line with the probe's time in each dump"
finish
