#!/bin/bash
# test-filters.sh -- -p PID, -c COMM and -P PORT: two servers on two ports, each filter keeps exactly its own transactions.
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

P1=$(free_port)
demo_start "$P1" demo1
D1=$DEMO_PID
# the second server under its own command name, for -c
cp "$DEMO" "$T/hs-filter-demo"
DEMO=$T/hs-filter-demo
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done
demo_start "$P2" demo2
D2=$DEMO_PID

# four tracers at once, one per filter
hs_spawn by-pid -p "$D1"
hs_spawn by-pids -p "$D1" -p "$D2"
hs_spawn by-comm -c hs-filter-demo
hs_spawn by-port -P "$P1"
for n in by-pid by-pids by-comm by-port; do hs_wait "$n"; done
GT=$T/curl.gt
: >"$GT"
for i in 1 2 3; do curl_gt "$GT" GET "http://127.0.0.1:$P1/users"; done
for i in 1 2; do curl_gt "$GT" GET "http://127.0.0.1:$P2/health"; done
hs_stop by-pid by-pids by-comm by-port

printf 'GET /users 200 157\n%.0s' 1 2 3 >"$T/d1.expect"
printf 'GET /health 200 15\n%.0s' 1 2 >"$T/d2.expect"
cat "$T/d1.expect" "$T/d2.expect" >"$T/both.expect"
CURLS1=$(head -n 3 "$GT" | awk '{ print $1 }' | paste -sd,)

# -p D1: D1's server side and nothing else, not even its peers
$CHECK expect --jsonl "$T/by-pid.jsonl" --expect "$T/d1.expect" --exact-count ||
	fail "-p $D1 should show exactly demo1's 3 transactions"
$CHECK expect --jsonl "$T/by-pid.jsonl" --pid "$D1" --role server --expect "$T/d1.expect" \
	--exact-count || fail "-p $D1: demo1's transactions"
# -p D1 -p D2: both servers' sides
$CHECK expect --jsonl "$T/by-pids.jsonl" --role server --expect "$T/both.expect" --exact-count ||
	fail "-p $D1 -p $D2 should show both servers' 5 transactions"
$CHECK count --jsonl "$T/by-pids.jsonl" --role client | grep -qx 0 ||
	fail "-p $D1 -p $D2 shows client transactions"
# -c hs-filter-demo: demo2 only
$CHECK expect --jsonl "$T/by-comm.jsonl" --pid "$D2" --role server --expect "$T/d2.expect" \
	--exact-count || fail "-c hs-filter-demo: demo2's transactions"
n=$(jq -r 'select(.comm != "hs-filter-demo" or .pid != '"$D2"') | .comm' "$T/by-comm.jsonl" | sort | uniq -c)
[ -z "$n" ] || fail "-c hs-filter-demo let other commands through: $n"
# -P P1: both sides of port P1, nothing on P2 or elsewhere
$CHECK expect --jsonl "$T/by-port.jsonl" --pid "$D1" --role server --expect "$T/d1.expect" \
	--exact-count || fail "-P $P1: demo1's server side"
$CHECK expect --jsonl "$T/by-port.jsonl" --pid "$CURLS1" --role client --expect "$T/d1.expect" \
	--exact-count || fail "-P $P1: curl's client side"
n=$(jq -c --arg p ":$P1" 'select(((.local // "") | endswith($p) | not) and ((.remote // "") | endswith($p) | not)) |
	[.pid, .comm, .local, .remote, .request.target]' "$T/by-port.jsonl")
[ -z "$n" ] || fail "-P $P1 let other ports through: $n"
for n in by-pid by-pids by-comm by-port; do hs_expect_stat "$n" 'parse errors' 0; done
finish
