#!/bin/bash
# test-preexisting-conn.sh -- keep-alive connections opened before tracing, plain and HTTPS: the requests after the start are traced right on both sides, with and without -P, run after run.
#
# Plain: the demo and nginx (epoll: they call recv(2) once a request is
# there) and python's http.server (a thread per connection, blocked in
# recv(2) since before tracing began: the probe sees that syscall only at
# its exit, and must still report the request it reads).
# HTTPS, the TLS handshake done before tracing: nginx, and python's
# http.server over TLS, whose thread is already inside SSL_read when
# tracing begins; a uretprobe catches only calls made after it is set, so
# the plaintext of that one call cannot be seen: its response must be
# counted as unpaired, and every later request reported.
# REPS runs (default 3; 20 or more when changing the probe), each with new
# connections and a new tracer, odd runs with -P of the servers' ports and
# even runs without.
. "$(dirname "$0")/lib.sh"
need_tools nginx openssl
need_bpf
REPS=${REPS:-3}

# new_port: a free port none of the servers has taken yet (each caller
# adds its port to TAKEN).
TAKEN=" "
new_port() {
	local p
	p=$(free_port)
	while [[ $TAKEN == *" $p "* ]]; do p=$(free_port); done
	echo "$p"
}

PORT=$(new_port)
TAKEN+="$PORT "
demo_start "$PORT"
NPORT=$(new_port)
TAKEN+="$NPORT "
nginx_start ngx "$NPORT"
NGX=$NGINX_WORKER
PPORT=$(new_port)
TAKEN+="$PPORT "
mkdir -p "$T/www"
echo '<html><body>python http.server</body></html>' >"$T/www/index.html"
py_server_start "$PPORT" "$T/www" 1.1
PYS=$PY_SERVER
SNPORT=$(new_port)
TAKEN+="$SNPORT "
nginx_tls_start "$T/ngx-tls" "$SNPORT"
SNGX=$NGINX_WORKER
SPPORT=$(new_port)
TAKEN+="$SPPORT "
cat >"$T/tls-server.py" <<'PYEOF'
import http.server, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PYEOF
(cd "$T/www" && exec $PY "$T/tls-server.py" "$SPPORT" "$T/ngx-tls/cert.pem" "$T/ngx-tls/key.pem") \
	>"$T/tls-server.out" 2>&1 &
SPYS=$!
track "$SPYS"
wait_listen "$SPPORT" || die "the python TLS server did not listen on $SPPORT"

# client.py PORT DIR NAME N [tls]: one keep-alive connection; a request,
# then "DIR/NAME.ready" (its local port); after "DIR/go", N more requests
# (their expectations in DIR/NAME.expect), then "DIR/NAME.done"; closes
# after "DIR/close".
cat >"$T/client.py" <<'PYEOF'
import http.client, os, ssl, sys, time
port, tdir, name, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
def path(p):
    return os.path.join(tdir, p)
def wait_for(p):
    for _ in range(1200):
        if os.path.exists(path(p)):
            return
        time.sleep(0.05)
    sys.exit(f"timed out waiting for {p}")
if sys.argv[5:] == ["tls"]:
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context())
else:
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

# The pairs: NAME SERVER_PORT SERVER_PID REQUESTS [tls]
PAIRS=(
	"demo $PORT $DEMO_PID 20"
	"nginx $NPORT $NGX 100"
	"python $PPORT $PYS 30"
	"nginx-tls $SNPORT $SNGX 60 tls"
	"python-tls $SPPORT $SPYS 20 tls"
)

# await DIR SUFFIX: until every pair's DIR/NAME.SUFFIX exists.
await() {
	local dir=$1 suffix=$2 pair name waited
	for pair in "${PAIRS[@]}"; do
		name=${pair%% *}
		waited=0
		until [ -s "$dir/$name.$suffix" ] || [ -e "$dir/$name.$suffix" -a "$suffix" = done ]; do
			waited=$((waited + 1))
			[ "$waited" -le 600 ] || die "the $name client did not write $name.$suffix"
			sleep 0.1
		done
	done
}

# check_pair RUN NAME CLIENT_PID SERVER_PID SERVER_PORT TLS SERVER_EXPECT
check_pair() {
	local run=$1 name=$2 cpid=$3 spid=$4 sport=$5 tls=$6 sexp=$7 cport bad
	local jsonl=$T/$run/hs.jsonl
	cport=$(cat "$T/$run/$name.ready")
	$CHECK expect --jsonl "$jsonl" --pid "$cpid" --port "$sport" --expect "$T/$run/$name.expect" \
		--ordered || fail "$run: $name: client side of the connection opened before tracing"
	$CHECK expect --jsonl "$jsonl" --pid "$spid" --port "$sport" --expect "$sexp" --ordered \
		--only-expected-targets || fail "$run: $name: server side of the connection opened before tracing"
	$CHECK sane --jsonl "$jsonl" --pid "$cpid,$spid" --port "$sport" ||
		fail "$run: $name: incomplete or erroneous transactions"
	# what httpsnoop could not see it may leave out (role unknown, no
	# address); what it says must be right
	bad=$(jq -c --argjson c "$cpid" --argjson d "$spid" --argjson tls "$tls" \
		--arg cl "127.0.0.1:$cport" --arg sv "127.0.0.1:$sport" '
		select(.pid == $c or (.pid == $d and (.local == $sv or .remote == $cl))) |
		select(.tls != $tls or
		       (.pid == $c and (.role == "server" or (.local // $cl) != $cl or (.remote // $sv) != $sv)) or
		       (.pid == $d and (.role == "client" or (.local // $sv) != $sv or (.remote // $cl) != $cl)))' \
		"$jsonl")
	[ -z "$bad" ] || fail "$run: $name: wrong role, address or TLS mark on the pre-existing connection: $bad"
	$CHECK causal --jsonl "$jsonl" --client-pid "$cpid" --server-pid "$spid" ||
		fail "$run: $name: responses paired with the wrong requests"
}

for run in $(seq "$REPS"); do
	d=$T/run$run
	mkdir -p "$d"
	args=()
	mode="without -P"
	if [ $((run % 2)) = 1 ]; then
		for pair in "${PAIRS[@]}"; do
			read -r _ port _ <<<"$pair"
			args+=(-P "$port")
		done
		mode="with -P"
	fi
	log "run $run of $REPS, $mode"
	declare -A CPID=()
	for pair in "${PAIRS[@]}"; do
		read -r name port _ n tls <<<"$pair"
		$PY "$T/client.py" "$port" "$d" "$name" "$n" ${tls:+tls} &
		CPID[$name]=$!
		track "$!"
	done
	await "$d" ready
	hs_start "run$run/hs" "${args[@]}"
	touch "$d/go"
	await "$d" done
	hs_stop "run$run/hs"
	touch "$d/close"
	for pair in "${PAIRS[@]}"; do
		read -r name port spid n tls <<<"$pair"
		wait "${CPID[$name]}" || fail "run $run: the $name client failed"
		sexp=$d/$name.expect
		if [ "$name" = python-tls ]; then
			# the first request was read by the SSL_read that was
			# waiting: reported, or its response counted as unpaired
			sexp=$d/$name.later
			tail -n +2 "$d/$name.expect" >"$sexp"
			first=$(jq -c --argjson p "$spid" 'select(.pid == $p and .request.target == "/index.html?after=0")' \
				"$d/hs.jsonl" | wc -l)
			unpaired=$(hs_stat "run$run/hs" 'unpaired responses')
			[ "$first" = 1 ] || [ "${unpaired:-0}" -ge 1 ] ||
				fail "run $run: $name: the first request is neither reported nor counted as an unpaired response"
		fi
		check_pair "run$run" "$name" "${CPID[$name]}" "$spid" "$port" "$([ -n "$tls" ] && echo true || echo false)" "$sexp"
	done
	hs_expect_stat "run$run/hs" 'parse errors' 0
done
finish
