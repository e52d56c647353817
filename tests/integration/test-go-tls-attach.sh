#!/bin/bash
# test-go-tls-attach.sh -- httpsnoop attached to and detached from Go programs under load, four times: they keep running and exit 0, and no tracer reports a request twice or one that was not made.
#
# A Go server and client (HTTP/1.1, 8 keep-alive connections) run a load
# until told to stop; tracers start and stop one after the other meanwhile, each
# attaching its uprobes to the two binaries (entry and RET instructions)
# and removing them at exit, in the middle of calls in flight.  Each
# tracer's transactions (by pid: the connections were open before it
# started, so their role is "unknown") are checked against the programs'
# own logs:
# every complete one is a request that was made (same method, target,
# status and body size), no target is reported twice on a side, and each
# tracer saw some.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/go-lib.sh"
need_bpf
need_go
export GODEBUG=http2server=0,http2client=0
ROUNDS=4

PORT=$(free_port)
"$GO_DIR/server-default" -addr "127.0.0.1:$PORT" -http1 -log "$T/srv.log" >"$T/srv.out" 2>&1 &
SRV=$!
track "$SRV"
wait_listen "$PORT" || die "the Go server did not listen on $PORT"
"$GO_DIR/client-default" -url "https://127.0.0.1:$PORT/load" -duration 600s -c 8 \
	-http1 -size 2000 -pause 1ms -log "$T/cli.log" >"$T/cli.out" 2>&1 &
CLI=$!
track "$CLI"
sleep 2
for r in $(seq "$ROUNDS"); do
	hs_start "r$r" -P "$PORT"
	sleep 2
	hs_stop "r$r"
	sleep 1
	kill -0 "$SRV" && kill -0 "$CLI" || die "a Go program died after tracer $r detached"
done
sleep 1
kill -TERM "$CLI"
wait "$CLI"
rc=$?
[ "$rc" = 0 ] || fail "the Go client exited with status $rc: $(tail -n 3 "$T/cli.out")"
kill -TERM "$SRV"
wait "$SRV"
rc=$?
[ "$rc" = 0 ] || fail "the Go server exited with status $rc: $(tail -n 3 "$T/srv.out")"
log "the load made $(wc -l <"$T/cli.log") requests"

for r in $(seq "$ROUNDS"); do
	"$PY" - "$T/r$r.jsonl" "$T/srv.log" "$T/cli.log" "$SRV" "$CLI" <<'PYEOF' ||
import json, sys
from collections import Counter
jsonl, srv_log, cli_log, srv, cli = sys.argv[1:]
made = {}
for path, size_col, role in ((srv_log, 4, "server"), (cli_log, 3, "client")):
    for line in open(path):
        f = line.split()
        made.setdefault(role, set()).add((f[0], f[1], int(f[2]), int(f[size_col])))
bad, seen, n = [], {"server": Counter(), "client": Counter()}, {"server": 0, "client": 0}
for line in open(jsonl):
    t = json.loads(line)
    role = {int(srv): "server", int(cli): "client"}.get(t.get("pid"))
    if role is None or not t.get("request"):
        continue
    # connections open before the tracer started have no known role
    if t.get("role") not in (role, "unknown"):
        bad.append(f"{role} side: {t['request'].get('target')} reported as {t.get('role')}")
    target = t["request"].get("target")
    seen[role][target] += 1
    if seen[role][target] == 2:
        bad.append(f"{role} side: {target} reported twice")
    if t.get("tls") is not True:
        bad.append(f"{role} side: {target} not marked tls")
    if not t.get("response"):
        continue        # cut by the tracer's stop: allowed
    n[role] += 1
    key = (t["request"].get("method"), target, t["response"].get("status"), t["response"].get("body_size"))
    if key not in made[role]:
        bad.append(f"{role} side: {key} was not made")
for role in n:
    if n[role] == 0:
        bad.append(f"{role} side: no complete transaction traced")
for b in bad[:20]:
    print(b)
print(f"{jsonl}: {n['server']} server-side and {n['client']} client-side transactions", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
		fail "tracer $r: its transactions differ from the Go programs' logs"
	hs_expect_stat "r$r" 'parse errors' 0
done
[ "$FAILED" = 0 ] && pass_msg "$ROUNDS tracers attached and detached under load; no request twice, none made up"
finish
