#!/bin/bash
# test-tls-pid.sh -- with -p, the TLS uprobes trap only in the processes it names: the SSL calls of every other process run none of the probe's programs (the kernel's run counts, in fdinfo), -p's own are traced as nginx's access log says, past 8 processes they trap everywhere, as before; and Go's, between two servers of one binary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/go-lib.sh"
need_tools nginx curl openssl
need_bpf

# The kernel counts program runs only while it keeps BPF statistics.
SYSCTL=/proc/sys/kernel/bpf_stats_enabled
[ -w "$SYSCTL" ] || skip "no writable $SYSCTL"
ON_EXIT+=("echo $(cat "$SYSCTL") >$SYSCTL")
echo 1 >"$SYSCTL"

PORT=$(free_port)
D=$T/ngx
nginx_tls_start "$D" "$PORT"
URL=https://127.0.0.1:$PORT
N=20

# uprobe_runs PID: how many times the uprobe programs PID holds (kprobe
# type, prog_type 2: the OpenSSL and Go ones) have run, each program once
# however many fds hold it.
uprobe_runs() {
	awk 'FNR == 1 { id = ""; kp = 0 } /^prog_type:/ { kp = ($2 == 2) } /^prog_id:/ { id = $2 }
		kp && id != "" && /^run_cnt:/ { n[id] = $2 }
		END { for (i in n) r += n[i]; printf "%d\n", r }' /proc/"$1"/fdinfo/* 2>/dev/null
}

# curls NAME: N HTTPS requests, each from a new curl, none of them in -p.
curls() {
	for i in $(seq "$N"); do
		curl -sk -o /dev/null "$URL/$1/$i" || fail "curl failed on request $i"
	done
}

# idle_pids K: K processes that make no TLS call, in IDLE.
idle_pids() {
	IDLE=()
	for _ in $(seq "$1"); do
		sleep 600 &
		track $!
		IDLE+=(-p $!)
	done
}

# 1. -p names a process that makes no SSL call: curl's and nginx's calls,
#    all outside -p, must not run the uprobe programs once.
idle_pids 1
hs_start one -v "${IDLE[@]}"
grep -q "^httpsnoop: TLS: attached to .*trapping in -p's 1 process alone" "$T/one.err" ||
	fail "-v does not say the uprobes trap in -p's process alone: $(grep 'TLS:' "$T/one.err")"
r0=$(uprobe_runs "${HS_PID[one]}")
curls one
r1=$(uprobe_runs "${HS_PID[one]}")
hs_stop one
log "one idle -p: uprobe runs $r0 -> $r1 over $N requests"
[[ $r0 =~ ^[0-9]+$ ]] || fail "no run counts in fdinfo: [$r0]"
[ "$r1" = "$r0" ] || fail "SSL calls outside -p ran the uprobe programs $((r1 - r0)) times"
[ -s "$T/one.jsonl" ] && fail "transactions outside -p traced: $(head -c 300 "$T/one.jsonl")"

# 2. Past PROBE_UPROBE_PIDS (8) processes, the uprobes trap in every
#    process that maps the library and the probe's filter drops the
#    calls: the same requests now run the programs (the test can fail).
idle_pids 9
hs_start nine -v "${IDLE[@]}"
grep -q "trapping in -p" "$T/nine.err" && fail "-v says the uprobes trap in -p's processes alone with 9 of them"
r0=$(uprobe_runs "${HS_PID[nine]}")
curls nine
r1=$(uprobe_runs "${HS_PID[nine]}")
hs_stop nine
log "nine idle -p: uprobe runs $r0 -> $r1 over $N requests"
[ "$((r1 - r0))" -ge "$((4 * N))" ] ||
	fail "with 9 -p, $N requests ran the uprobe programs only $((r1 - r0)) times"
[ -s "$T/nine.jsonl" ] && fail "transactions outside -p traced: $(head -c 300 "$T/nine.jsonl")"

# 3. -p nginx's worker: its side of every request is traced, as its
#    access log says, and curl's is not.
: >"$D/logs/access.log"
hs_start ngx -p "$NGINX_WORKER"
r0=$(uprobe_runs "${HS_PID[ngx]}")
curls ngx
r1=$(uprobe_runs "${HS_PID[ngx]}")
hs_stop ngx
hs_show_stats ngx
log "-p nginx: uprobe runs $r0 -> $r1 over $N requests"
$CHECK nginx --jsonl "$T/ngx.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$D/logs/access.log" || fail "-p nginx's worker differs from its access log"
n=$(jq -c 'select(.role != "server" or .pid != '"$NGINX_WORKER"' or .tls != true)' "$T/ngx.jsonl" | wc -l)
[ "$n" = 0 ] || fail "$n transactions not nginx's over TLS"
hs_expect_stat ngx 'parse errors' 0

# 4. Go's uprobes: two servers run from one binary, -p names one of them.
#    The other's calls run no program; the traced one's are all seen.
if [ ! -f "$GO_DIR/MODES" ]; then
	log "no Go test programs in $GO_DIR (golang-go not installed): Go's part left out"
	finish
fi
PA=$(free_port)
PB=$(free_port)
"$GO_DIR/server-default" -addr "127.0.0.1:$PA" -http1 >"$T/ga.log" 2>"$T/ga.err" &
GA=$!
track "$GA"
"$GO_DIR/server-default" -addr "127.0.0.1:$PB" -http1 >"$T/gb.log" 2>"$T/gb.err" &
track $!
wait_listen "$PA" && wait_listen "$PB" || die "the Go servers did not listen"
hs_start go -v -p "$GA"
grep -q "Go TLS: attached to .*/server-default (pid $GA" "$T/go.err" ||
	fail "no Go TLS attachment to the -p server: $(grep 'Go TLS' "$T/go.err")"
r0=$(uprobe_runs "${HS_PID[go]}")
"$GO_DIR/client-default" -url "https://127.0.0.1:$PB/b" -n 10 -http1 >/dev/null 2>&1 ||
	fail "the Go client failed against the untraced server"
r1=$(uprobe_runs "${HS_PID[go]}")
"$GO_DIR/client-default" -url "https://127.0.0.1:$PA/a" -n 10 -http1 >/dev/null 2>&1 ||
	fail "the Go client failed against the traced server"
r2=$(uprobe_runs "${HS_PID[go]}")
hs_stop go
log "Go: uprobe runs $r0 -> $r1 (untraced server) -> $r2 (-p server), 10 requests each"
[ "$r1" = "$r0" ] || fail "the untraced Go server's calls ran the uprobe programs $((r1 - r0)) times"
[ "$r2" -gt "$r1" ] || fail "the -p Go server's calls ran no uprobe program"
n=$(jq -c 'select(.pid == '"$GA"' and .role == "server" and .tls == true)' "$T/go.jsonl" | wc -l)
[ "$n" = 10 ] || fail "-p Go server: $n TLS transactions traced, expected 10"
n=$(jq -c 'select(.pid != '"$GA"')' "$T/go.jsonl" | wc -l)
[ "$n" = 0 ] || fail "$n transactions of other processes traced"
finish
