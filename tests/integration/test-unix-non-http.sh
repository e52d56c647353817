#!/bin/bash
# test-unix-non-http.sh -- Unix sockets that carry no HTTP stream: a line protocol is counted as non-HTTP, datagram and seqpacket sockets with HTTP-looking messages are left out and counted, none reports anything; HTTP over a Unix socket in the same window still is.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/unixlib.sh"
need_bpf

LSOCK=$T/line.sock
HSOCK=@hs-nonhttp-$$
line_server_start "$LSOCK"
http_unix_server "$HSOCK" http
# a seqpacket socketpair made before tracing: only its type, which user
# space asks once it looks like HTTP, tells it apart
$PEERS seqpacket-early "$T/go" >"$T/early.out" 2>&1 &
EARLY=$!
track "$EARLY"
for _ in $(seq 100); do grep -q ready "$T/early.out" && break; sleep 0.1; done
hs_start hs
touch "$T/go"

line_client "$LSOCK" 300
$PEERS dgram-http "$T" >"$T/dgram.out" 2>&1 &
DGRAM=$!
wait "$DGRAM" || { cat "$T/dgram.out" >&2; fail "the datagram peers failed"; }
http_unix_get "$HSOCK" / /status/404 /status/204
wait "$EARLY" || { cat "$T/early.out" >&2; fail "the early seqpacket peer failed"; }
hs_stop hs
hs_show_stats hs

$CHECK none --jsonl "$T/hs.jsonl" --pid "$LINE_CLIENT,$LINE_SERVER" ||
	fail "transactions reported for the line protocol"
$CHECK none --jsonl "$T/hs.jsonl" --pid "$DGRAM,$EARLY" ||
	fail "transactions reported for datagram or seqpacket sockets"
$CHECK none --jsonl "$T/hs.jsonl" --unix "$LSOCK" ||
	fail "transactions reported on the line protocol's socket"
# the positive control: HTTP over a Unix socket in the same window
awk '{ print $1, $2, $3, $4 }' "$T/http.log" >"$T/http.expect"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$HTTP_UNIX" --role server --unix "$HSOCK" \
	--expect "$T/http.expect" --exact-count || fail "HTTP over $HSOCK, server side"
$CHECK expect --jsonl "$T/hs.jsonl" --pid "$HTTP_GET" --role client --unix "$HSOCK" \
	--expect "$T/http.expect" --ordered || fail "HTTP over $HSOCK, client side"
# counted: both ends of the line connection, and the datagram and
# seqpacket sockets made while tracing: two socketpairs, the listener,
# its client and the socket accept(2) made from the listener
n=$(hs_stat hs 'Unix non-HTTP conns')
[ "${n:-0}" -ge 2 ] || fail "Unix non-HTTP connections counted: ${n:-none}, expected at least 2"
n=$(hs_stat hs 'Unix non-stream')
[ "${n:-0}" -ge 7 ] || fail "Unix datagram/seqpacket sockets counted: ${n:-none}, expected at least 7"
n=$(hs_stat hs 'non-stream conns')
[ "${n:-0}" -ge 1 ] || fail "the seqpacket socketpair made before tracing was not told apart by its type"
hs_expect_stat hs 'parse errors' 0
finish
