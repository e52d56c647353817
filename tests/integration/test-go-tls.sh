#!/bin/bash
# test-go-tls.sh -- HTTPS from Go programs (crypto/tls, no OpenSSL): a Go server and client in four build modes, started after httpsnoop, traced over HTTP/1.1 on both sides against their own logs; --no-tls shows nothing.
#
# Modes (tests/go/build.sh): default (symbols), stripped (-s -w: found
# through .gopclntab), pie, and staticpie-stripped (an external linker's
# static PIE without symbols or a .gopclntab section).  For each, one
# httpsnoop (-P of the server's port) is started first; the server's exec
# and a first run of the client (no request) have it attach to both
# binaries, and then it traces:
#   - GETs with response bodies from 6 bytes to 64 KiB, 4 connections;
#   - POSTs of 3,000-byte bodies;
# and both sides must match the server's request log and the client's
# (method, target, status, response body size), every transaction marked
# "tls": true, with the request bodies' sizes, and no parse error.
# GODEBUG=http2server=0 / http2client=0 and -http1 keep them on HTTP/1.1.
# Optional: GO_OLD_DIR, a build.sh output of a Go older than 1.17, whose
# server must be named in a warning and not traced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/go-lib.sh"
need_bpf
need_go
MODES=(default stripped pie staticpie-stripped)
export GODEBUG=http2server=0,http2client=0

for m in "${MODES[@]}"; do
	grep -qx "$m" "$GO_DIR/MODES" || { fail "tests/go/build.sh did not build mode $m"; continue; }
	PORT=$(free_port)
	hs_start "$m" -v -P "$PORT"
	go_exchange "$m" "$m" "$PORT" -http1
	notls=$(jq -c 'select(.tls != true) | [.pid, .role, .request.target]' "$J" | head -n 3)
	[ -z "$notls" ] || fail "$m: transactions not marked tls: $notls"
	[ "$FAILED" = 0 ] && pass_msg "$m: 60 requests, both sides, as in the Go programs' logs"
done

# --no-tls: nothing from Go's TLS either, and its ciphertext is not HTTP.
PORT=$(free_port)
hs_start notls --no-tls -P "$PORT"
"$GO_DIR/server-default" -addr "127.0.0.1:$PORT" -http1 >"$T/notls.srv.out" 2>&1 &
SRV=$!
track "$SRV"
wait_listen "$PORT" || die "the Go server did not listen on $PORT"
"$GO_DIR/client-default" -url "https://127.0.0.1:$PORT/notls" -n 5 -http1 >"$T/notls.cli.out" 2>&1 ||
	fail "the Go client failed under --no-tls"
hs_stop notls
$CHECK none --jsonl "$T/notls.jsonl" || fail "--no-tls reported transactions"
hs_expect_stat notls 'parse errors' 0
grep -q 'Go TLS' "$T/notls.err" && fail "--no-tls attached to Go programs"

# A Go older than 1.17 passes arguments on the stack: named, not traced.
if [ -n "${GO_OLD_DIR:-}" ] && [ -x "$GO_OLD_DIR/server-default" ]; then
	PORT=$(free_port)
	hs_start old -P "$PORT"
	"$GO_OLD_DIR/server-default" -addr "127.0.0.1:$PORT" -http1 >"$T/old.srv.out" 2>&1 &
	SRV=$!
	track "$SRV"
	wait_listen "$PORT" || die "the old Go server did not listen on $PORT"
	"$GO_DIR/client-default" -url "https://127.0.0.1:$PORT/old" -n 3 -http1 >/dev/null 2>&1 ||
		fail "the Go client failed against the old server"
	hs_stop old
	grep -q "server-default (pid $SRV, go1\.[0-9]*[^)]*) uses Go's crypto/tls, but its HTTPS is not traced: .*stack" \
		"$T/old.err" || fail "no warning naming the old Go server: $(grep -i 'go' "$T/old.err" | head -n 3)"
	$CHECK none --jsonl "$T/old.jsonl" --pid "$SRV" || fail "the old Go server was traced"
	pass_msg "an old Go's server ($(grep -o 'go1\.[0-9.]*' "$T/old.err" | head -n 1)) is named and not traced"
fi
finish
