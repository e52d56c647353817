#!/bin/bash
# test-preexisting-conn.sh -- keep-alive connections opened before tracing: the requests after the start are traced right, nothing garbled.
. "$(dirname "$0")/lib.sh"
need_tools nginx
need_bpf

PORT=$(free_port)
demo_start "$PORT"
NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done
nginx_start ngx "$NPORT"

# client.py PORT DIR NAME N: one keep-alive connection; a request, then
# "DIR/NAME.ready"; after "DIR/go", N more requests (their expectations in
# DIR/NAME.expect), then "DIR/NAME.done"; closes after "DIR/close".
cat >"$T/client.py" <<'PYEOF'
import http.client, os, sys, time
port, tdir, name, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
def path(p):
    return os.path.join(tdir, p)
def wait_for(p):
    for _ in range(1200):
        if os.path.exists(path(p)):
            return
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {p}")
c = http.client.HTTPConnection("127.0.0.1", port)
def do(method, target, body=None, headers={}):
    c.request(method, target, body=body, headers=headers)
    r = c.getresponse()
    return r.status, len(r.read())
first = "/users" if name == "demo" else "/index.html?before=1"
do("GET", first)
me = c.sock.getsockname()[1]
open(path(name + ".ready"), "w").write(f"{me}\n")
wait_for("go")
with open(path(name + ".expect"), "w") as f:
    for i in range(n):
        if name == "demo":
            method, target, body = [("GET", f"/user/{i % 3 + 1}?i={i}", None),
                                    ("POST", f"/echo?i={i}", b"after the start " * 8)][i % 2]
        else:
            method, target, body = "GET", f"/index.html?after={i}", None
        st, size = do(method, target, body, {"Content-Type": "text/plain"} if body else {})
        f.write(f"{method} {target} {st} {size}\n")
        time.sleep(0.005)
    if c.sock.getsockname()[1] != me:
        sys.exit("http.client reconnected: the test needs one connection")
open(path(name + ".done"), "w").close()
wait_for("close")
c.close()
PYEOF

$PY "$T/client.py" "$PORT" "$T" demo 20 &
CDEMO=$!
track "$CDEMO"
$PY "$T/client.py" "$NPORT" "$T" nginx 100 &
CNGX=$!
track "$CNGX"
for f in demo.ready nginx.ready; do
	for i in $(seq 200); do [ -s "$T/$f" ] && break; sleep 0.1; done
	[ -s "$T/$f" ] || die "a client did not make its first request ($f)"
done

hs_start hs -P "$PORT" -P "$NPORT"
touch "$T/go"
for f in demo.done nginx.done; do
	for i in $(seq 600); do [ -e "$T/$f" ] && break; sleep 0.1; done
	[ -e "$T/$f" ] || die "a client did not finish its requests ($f)"
done
hs_stop hs
touch "$T/close"
wait "$CDEMO" || fail "the demo client failed"
wait "$CNGX" || fail "the nginx client failed"
hs_show_stats hs

check_pair() {   # check_pair NAME CLIENT_PID SERVER_PID CLIENT_PORT SERVER_PORT
	local name=$1 cpid=$2 spid=$3 cport=$4 sport=$5 bad
	jq -c --argjson c "$cpid" --argjson s "$spid" 'select(.pid == $c or .pid == $s) |
		[.pid, .role, .local, .remote, .request.method, .request.target, .response.status, .error]' \
		"$T/hs.jsonl" | head -n 6 >&2
	$CHECK expect --jsonl "$T/hs.jsonl" --pid "$cpid" --expect "$T/$name.expect" --ordered ||
		fail "$name: client side of the connection opened before tracing"
	$CHECK expect --jsonl "$T/hs.jsonl" --pid "$spid" --port "$sport" --expect "$T/$name.expect" --ordered ||
		fail "$name: server side of the connection opened before tracing"
	$CHECK sane --jsonl "$T/hs.jsonl" --pid "$cpid,$spid" --port "$sport" ||
		fail "$name: incomplete or erroneous transactions"
	# what httpsnoop could not see it may leave out (role unknown, no
	# address); what it says must be right
	bad=$(jq -c --argjson c "$cpid" --argjson d "$spid" \
		--arg cl "127.0.0.1:$cport" --arg sv "127.0.0.1:$sport" '
		select(.pid == $c or .pid == $d) |
		select((.pid == $c and .role == "server") or (.pid == $d and .role == "client") or
		       (.pid == $c and ((.local // $cl) != $cl or (.remote // $sv) != $sv)) or
		       (.pid == $d and ((.local // $sv) != $sv or (.remote // $cl) != $cl)))' "$T/hs.jsonl")
	[ -z "$bad" ] || fail "$name: wrong role or address on the pre-existing connection: $bad"
	$CHECK causal --jsonl "$T/hs.jsonl" --client-pid "$cpid" --server-pid "$spid" ||
		fail "$name: responses paired with the wrong requests"
}
check_pair demo "$CDEMO" "$DEMO_PID" "$(cat "$T/demo.ready")" "$PORT"
check_pair nginx "$CNGX" "$NGINX_WORKER" "$(cat "$T/nginx.ready")" "$NPORT"
hs_expect_stat hs 'parse errors' 0
finish
