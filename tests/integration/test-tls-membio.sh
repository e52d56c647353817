#!/bin/bash
# test-tls-membio.sh -- HTTPS through OpenSSL's memory BIOs (python asyncio: a websockets server and client, a stdlib HTTP server and client; Node.js when its OpenSSL keeps its symbols): the upgrade and every transaction reported on both sides, tied to their sockets, also on a connection opened before tracing.
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
$PY "$PEERS" http-client "$HPORT" pre 10 "$T/pre.expect" "$T/go" &
PRE=$!
track "$PRE"
for i in $(seq 200); do [ -s "$T/pre.expect.ready" ] && break; sleep 0.1; done
[ -s "$T/pre.expect.ready" ] || die "the first client did not make its first request"

hs_start hs "${HSARGS[@]}"
touch "$T/go"
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

# asyncio HTTP: each client's side, against the addresses its own socket
# reports; the server's, each record against what the server's socket
# reported for that request (its log).  One connection was opened before
# tracing: its socket is found by the ciphertext around its SSL calls.
check_side "asyncio client" "$NEW" client,unknown "$T/new.expect" $(cat "$T/new.expect.addr")
check_side "asyncio client, opened before tracing" "$PRE" client,unknown "$T/pre.expect" \
	$(cat "$T/pre.expect.addr")
for name in new pre; do
	jq -c --arg n "/$name/" 'select((.request.target // "") | startswith($n))' \
		"$T/hs.jsonl" >"$T/$name-server.jsonl"
	$CHECK expect --jsonl "$T/$name-server.jsonl" --pid "$HTTP_SERVER" --expect "$T/$name.expect" \
		--ordered || fail "asyncio server, $name connection: transactions differ from the client's"
done
$CHECK sane --jsonl "$T/hs.jsonl" --pid "$HTTP_SERVER" || fail "asyncio server: incomplete or erroneous"
bad=$(jq -c --argjson p "$HTTP_SERVER" --slurpfile gt "$T/http-server.log" '
	select(.pid == $p) | (.request.target // "") as $t |
	([$gt[] | select(.target == $t)] | first) as $g |
	select(.tls != true or (.role != "server" and .role != "unknown") or
	       $g == null or .local != $g.local or .remote != $g.remote) |
	[.role, .local, .remote, .tls, $t, $g.local, $g.remote]' "$T/hs.jsonl")
[ -z "$bad" ] || fail "asyncio server: wrong role, address or TLS mark (record, then the server's own view): $bad"
n=$(jq -c --argjson p "$HTTP_SERVER" 'select(.pid == $p)' "$T/hs.jsonl" | wc -l)
[ "$n" = 30 ] || fail "asyncio server: $n transactions, expected 30"

# Node.js: both sides
if [ -n "$NODE" ]; then
	ncl=$(jq -r --argjson p "$NODE_CLIENT" 'select(.pid == $p) | .local' "$T/hs.jsonl" | head -n 1)
	check_side "Node.js client" "$NODE_CLIENT" client,unknown "$T/node.expect" "$ncl" "127.0.0.1:$NPORT"
	check_side "Node.js server" "$NODE_SERVER" server "$T/node.expect" "127.0.0.1:$NPORT" "$ncl"
fi
hs_expect_stat hs 'parse errors' 0
finish
