#!/bin/bash
# test-go-tls-h2.sh -- HTTPS from Go programs over HTTP/2, Go's default (ALPN h2): a Go server and client, plain and stripped builds, traced at crypto/tls on both sides against their own logs, every transaction an h2 stream.
#
# As test-go-tls.sh, but without -http1 or GODEBUG: Go's client and server
# agree on h2 through ALPN, so the plaintext at crypto/tls is HTTP/2 from
# its preface, decoded by the same HTTP/2 layer as over OpenSSL or plain
# TCP.  Per mode: GETs with response bodies up to 64 KiB over 4 workers,
# and POSTs of 3,000-byte bodies; both sides must match the programs'
# logs (method, target, status, response body size), each record
# "protocol": "h2" with a stream id and "tls": true, and nothing is lost
# (no gap bytes, no header block left undecoded).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/go-lib.sh"
need_bpf
need_go
MODES=(default stripped)
unset GODEBUG

for m in "${MODES[@]}"; do
	grep -qx "$m" "$GO_DIR/MODES" || { fail "tests/go/build.sh did not build mode $m"; continue; }
	PORT=$(free_port)
	hs_start "$m" -v -P "$PORT"
	go_exchange "$m" "$m" "$PORT"
	bad=$(jq -c 'select(.protocol != "h2" or .tls != true or (.stream_id | type) != "number") |
		[.pid, .role, .protocol, .tls, .stream_id, .request.target]' "$J" | head -n 3)
	[ -z "$bad" ] || fail "$m: records not marked h2 over TLS with a stream id: $bad"
	hs_expect_stat "$m" 'gap bytes' 0
	hs_expect_stat "$m" 'h2 bad frames' 0
	hs_expect_stat "$m" 'h2 undecoded blocks' 0
	[ "$FAILED" = 0 ] && pass_msg "$m: 60 requests over HTTP/2, both sides, as in the Go programs' logs"
done
finish
