#!/bin/bash
# test-tls-membio.sh -- HTTPS through OpenSSL's memory BIOs (python asyncio: a websockets server and client, a stdlib HTTP server and client; Node.js when its OpenSSL keeps its symbols): the upgrade and every transaction reported on both sides, tied to their sockets and with their addresses, also on a connection opened before tracing whose records reach the tracer after its fds were reused.
#
# asyncio moves the ciphertext with its own recv/send and hands it to
# OpenSSL through memory BIOs, so no syscall happens inside SSL_read or
# SSL_write.  The probe ties each SSL object to the socket its thread
# received ciphertext on right before SSL_read, or sent the sealed
# plaintext on right after SSL_write.  Traced without -P: a client's first
# request leaves before its socket is known (see README, HTTPS).
. "$(dirname "$0")/lib.sh"
need_tools openssl
need_bpf
$PY -c 'import websockets' 2>/dev/null || skip "python3-websockets is not installed"
PEERS=$LIB_DIR/asyncio_tls.py

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 1 -subj /CN=localhost >/dev/null 2>&1 || die "openssl could not make a certificate"
WPORT=$(free_port)
HPORT=$(free_port)
while [ "$HPORT" = "$WPORT" ]; do HPORT=$(free_port); done
$PY "$PEERS" ws-server "$WPORT" "$T/cert.pem" "$T/key.pem" >"$T/ws-server.out" 2>&1 &
WS_SERVER=$!
track "$WS_SERVER"
$PY "$PEERS" http-server "$HPORT" "$T/cert.pem" "$T/key.pem" "$T/http-server.log" \
	>"$T/http-server.out" 2>&1 &
HTTP_SERVER=$!
track "$HTTP_SERVER"
wait_listen "$WPORT" || die "the websockets server did not listen"
wait_listen "$HPORT" || die "the asyncio HTTP server did not listen"

# Node.js, when it is installed with OpenSSL built in and its symbols kept:
# the tracer attaches to the node binary itself (--tls-lib).
NODE=$(command -v node || true)
HSARGS=()
if [ -n "$NODE" ] && nm -D "$NODE" 2>/dev/null | grep -q ' T SSL_read$'; then
	NPORT=$(free_port)
	while [ "$NPORT" = "$WPORT" ] || [ "$NPORT" = "$HPORT" ]; do NPORT=$(free_port); done
	"$NODE" "$LIB_DIR/node_tls.js" server "$NPORT" "$T/cert.pem" "$T/key.pem" >"$T/node-server.out" 2>&1 &
	NODE_SERVER=$!
	track "$NODE_SERVER"
	wait_listen "$NPORT" || die "the Node.js server did not listen"
	HSARGS=(--tls-lib "$NODE")
else
	log "no Node.js with OpenSSL's symbols in it: its part is not run"
	NODE=
fi

# A connection opened, and used, before tracing.
$PY "$PEERS" http-client "$HPORT" pre 10 "$T/pre.expect" "$T/go" "$T/again" &
PRE=$!
track "$PRE"
for i in $(seq 200); do [ -s "$T/pre.expect.ready" ] && break; sleep 0.1; done
[ -s "$T/pre.expect.ready" ] || die "the first client did not make its first request"

hs_start hs "${HSARGS[@]}"
# The tracer is stopped while that connection makes its requests and
# closes, and a new one takes its fds on both sides: its records wait in
# the kernel's buffer, and reach the tracer when /proc shows the new
# connection under the fds that were its.
kill -STOP "${HS_PID[hs]}"
touch "$T/go"
for i in $(seq 300); do [ -e "$T/again.ready" ] && break; sleep 0.1; done
kill -CONT "${HS_PID[hs]}"
[ -e "$T/again.ready" ] || die "the first client did not open its second connection"
for i in $(seq 300); do
	[ "$(jq -c 'select(.request.target == "/pre-again/0")' "$T/hs.jsonl" | wc -l)" -ge 2 ] && break
	sleep 0.1
done
touch "$T/again.done"
wait "$PRE" || fail "the client of the connection opened before tracing failed"
$PY "$PEERS" ws-client "$WPORT" 5 "$T/ws.log" &
WS_CLIENT=$!
wait "$WS_CLIENT" || fail "the websockets client failed"
$PY "$PEERS" http-client "$HPORT" new 20 "$T/new.expect" &
NEW=$!
wait "$NEW" || fail "the asyncio HTTP client failed"
if [ -n "$NODE" ]; then
	"$NODE" "$LIB_DIR/node_tls.js" client "$NPORT" 10 "$T/node.expect" &
	NODE_CLIENT=$!
	wait "$NODE_CLIENT" || fail "the Node.js client failed"
fi
hs_stop hs
hs_show_stats hs
[ "$(grep -c '^recv message' "$T/ws.log")" = 5 ] || fail "the websockets client got no echo of its 5 messages"

# Each side of a connection: its transactions, TLS, and the addresses of
# its socket (a server side knows its role; a client side learns its
# socket after its first request, and its role may stay unknown).
check_side() {   # check_side WHAT PID ROLES EXPECT LOCAL REMOTE
	local what=$1 pid=$2 roles=$3 expect=$4 l=$5 r=$6 bad
	$CHECK expect --jsonl "$T/hs.jsonl" --pid "$pid" --expect "$expect" --ordered ||
		fail "$what: transactions differ from the peer's"
	$CHECK sane --jsonl "$T/hs.jsonl" --pid "$pid" || fail "$what: incomplete or erroneous"
	bad=$(jq -c --argjson p "$pid" --arg roles "$roles" --arg l "$l" --arg r "$r" '
		select(.pid == $p) | .role as $role |
		select(.tls != true or .local != $l or .remote != $r or
		       (($roles | split(",")) | index($role)) == null) |
		[.role, .local, .remote, .tls, .request.target]' "$T/hs.jsonl")
	[ -z "$bad" ] || fail "$what: wrong role, address or TLS mark: $bad"
}

# websockets: the upgrade, on both sides
echo "GET /chat 101 *" >"$T/ws.expect"
wsc=$(jq -r --argjson p "$WS_CLIENT" 'select(.pid == $p) | .local' "$T/hs.jsonl" | head -n 1)
[ -n "$wsc" ] && [ "$wsc" != null ] || fail "websockets client: no upgrade with its address traced"
check_side "websockets server" "$WS_SERVER" server "$T/ws.expect" "127.0.0.1:$WPORT" "$wsc"
check_side "websockets client" "$WS_CLIENT" client,unknown "$T/ws.expect" "$wsc" "127.0.0.1:$WPORT"

# asyncio HTTP: each connection's records on both sides, against the
# addresses of the client's socket as it reports them; and every record
# of the server against what its socket reported for that request (its
# log).  The connection opened before tracing is found by the ciphertext
# around its SSL calls, and its addresses in /proc at the start.
check_conn() {   # check_conn WHAT PID ROLES PREFIX EXPECT LOCAL REMOTE
	local what=$1 pid=$2 roles=$3 prefix=$4 expect=$5 l=$6 r=$7 bad
	jq -c --argjson p "$pid" --arg n "$prefix" \
		'select(.pid == $p and ((.request.target // "") | startswith($n)))' \
		"$T/hs.jsonl" >"$T/conn.jsonl"
	$CHECK expect --jsonl "$T/conn.jsonl" --pid "$pid" --expect "$expect" --ordered ||
		fail "$what: transactions differ from the peer's"
	bad=$(jq -c --arg roles "$roles" --arg l "$l" --arg r "$r" '
		.role as $role | select(.tls != true or .local != $l or .remote != $r or
		       (($roles | split(",")) | index($role)) == null) |
		[.role, .local, .remote, .tls, .request.target]' "$T/conn.jsonl")
	[ -z "$bad" ] || fail "$what: wrong role, address or TLS mark: $bad"
}
for c in new:new pre:pre again:pre-again; do
	file=${c%%:*} name=${c#*:}
	read -r cl sv <"$T/$file.expect.addr"
	pid=$PRE
	[ "$file" = new ] && pid=$NEW
	check_conn "asyncio client, /$name/" "$pid" client,unknown "/$name/" "$T/$file.expect" "$cl" "$sv"
	check_conn "asyncio server, /$name/" "$HTTP_SERVER" server,unknown "/$name/" "$T/$file.expect" "$sv" "$cl"
done
fds=$(jq -r --argjson p "$PRE" 'select(.pid == $p) | .fd' "$T/hs.jsonl" | sort -u | tr '\n' ' ')
log "the first client's fds, before and after: $fds(one: the second connection took the fd)"
$CHECK sane --jsonl "$T/hs.jsonl" --pid "$HTTP_SERVER" || fail "asyncio server: incomplete or erroneous"
$CHECK sane --jsonl "$T/hs.jsonl" --pid "$PRE" || fail "asyncio client, opened before tracing: incomplete or erroneous"
bad=$(jq -c --argjson p "$HTTP_SERVER" --slurpfile gt "$T/http-server.log" '
	select(.pid == $p) | (.request.target // "") as $t |
	([$gt[] | select(.target == $t)] | first) as $g |
	select($g == null or .local != $g.local or .remote != $g.remote) |
	[.role, .local, .remote, $t, $g.local, $g.remote]' "$T/hs.jsonl")
[ -z "$bad" ] || fail "asyncio server: addresses differ from its socket's (record, then the server's own view): $bad"
n=$(jq -c --argjson p "$HTTP_SERVER" 'select(.pid == $p)' "$T/hs.jsonl" | wc -l)
[ "$n" = 31 ] || fail "asyncio server: $n transactions, expected 31"

# Node.js: both sides
if [ -n "$NODE" ]; then
	ncl=$(jq -r --argjson p "$NODE_CLIENT" 'select(.pid == $p) | .local' "$T/hs.jsonl" | head -n 1)
	check_side "Node.js client" "$NODE_CLIENT" client,unknown "$T/node.expect" "$ncl" "127.0.0.1:$NPORT"
	check_side "Node.js server" "$NODE_SERVER" server "$T/node.expect" "127.0.0.1:$NPORT" "$ncl"
fi
hs_expect_stat hs 'parse errors' 0
finish
