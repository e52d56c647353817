#!/bin/bash
# test-busy-start.sh -- tracing starts while keep-alive clients are mid-traffic: every request made after "Tracing" is traced right on both sides.
. "$(dirname "$0")/lib.sh"
need_tools nginx
need_bpf

PORT=$(free_port)
demo_start "$PORT"
NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done
nginx_start ngx "$NPORT"

# client.py PORT DIR NAME: one keep-alive connection, requests back to back
# until DIR/stop.  A request made once DIR/started exists (httpsnoop said
# "Tracing") is listed in DIR/NAME.after; earlier ones may be missed.
cat >"$T/client.py" <<'PYEOF'
import http.client, os, sys, time
port, tdir, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
me = None
i = 0
after = []
deadline = time.time() + 100
while not os.path.exists(os.path.join(tdir, "stop")) and time.time() < deadline:
    traced = os.path.exists(os.path.join(tdir, "started"))
    target = f"/index.html?n={i}" if name == "nginx" else f"/user/{i % 3 + 1}?n={i}"
    c.request("GET", target)
    r = c.getresponse()
    body = r.read()
    if me is None:
        me = c.sock.getsockname()[1]
        open(os.path.join(tdir, name + ".ready"), "w").close()
    elif c.sock.getsockname()[1] != me:
        sys.exit("http.client reconnected")
    if traced:
        after.append(f"GET {target} {r.status} {len(body)}")
    i += 1
    time.sleep(0.002)
with open(os.path.join(tdir, name + ".after"), "w") as f:
    f.write("\n".join(after) + "\n")
print(f"{name}: {i} requests, {len(after)} after the start")
PYEOF

$PY "$T/client.py" "$PORT" "$T" demo &
CDEMO=$!
track "$CDEMO"
$PY "$T/client.py" "$NPORT" "$T" nginx &
CNGX=$!
track "$CNGX"
for f in demo.ready nginx.ready; do
	for i in $(seq 200); do [ -e "$T/$f" ] && break; sleep 0.1; done
	[ -e "$T/$f" ] || die "a client did not start ($f)"
done

hs_start hs -P "$PORT" -P "$NPORT"
touch "$T/started"
sleep 3
touch "$T/stop"
wait "$CDEMO" || fail "the demo client failed"
wait "$CNGX" || fail "the nginx client failed"
hs_stop hs
hs_show_stats hs

# The transactions of requests made after the start, by target: each must
# be there, once, with its response (a target carries a unique n=).
check_after() {   # check_after NAME PID
	local name=$1 pid=$2
	$CHECK expect --jsonl "$T/hs.jsonl" --pid "$pid" --expect "$T/$name.after" --ordered \
		--only-expected-targets || fail "$name, pid $pid: requests made after tracing started"
}
check_after demo "$CDEMO"
check_after demo "$DEMO_PID"
check_after nginx "$CNGX"
check_after nginx "$NGINX_WORKER"
# each response paired with its own request: the server's request-to-
# response time lies inside the client's round trip
$CHECK causal --jsonl "$T/hs.jsonl" --client-pid "$CDEMO" --server-pid "$DEMO_PID" ||
	fail "demo: responses paired with the wrong requests"
$CHECK causal --jsonl "$T/hs.jsonl" --client-pid "$CNGX" --server-pid "$NGINX_WORKER" ||
	fail "nginx: responses paired with the wrong requests"
hs_expect_stat hs 'parse errors' 0
finish
