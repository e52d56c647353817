#!/bin/bash
# test-unreadable.sh -- unreadable buffers: sendfile's payload is a gap and never a failed read; a user buffer the probe cannot read is a counted gap in its transaction (body_missing), never silence.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl
need_bpf

NPORT=$(free_port)
nginx_start ngx "$NPORT"
DPORT=$(free_port)
while [ "$DPORT" = "$NPORT" ]; do DPORT=$(free_port); done
demo_start "$DPORT"

# 1. sendfile: nginx sends /file-1m (1 MiB) with sendfile(2), which has no
# user buffer.  The probe used to take the offsets of its 16 KiB records
# for addresses and count 31 "unreadable buffers" per MiB.
hs_start plain -P "$NPORT"
for i in 1 2 3 4 5; do
	curl -sS -o /dev/null "http://127.0.0.1:$NPORT/file-1m?i=$i" || fail "curl /file-1m failed"
done
hs_stop plain
hs_show_stats plain
hs_expect_stat plain 'unreadable buffers' 0
hs_expect_stat plain 'kernel gap bytes' 0
n=$(jq_port "$NPORT" 'select(.role == "server" and (.request.target | startswith("/file-1m")) and
	.response.body_size == 1048576 and .response.body_missing == 1048576)' "$T/plain.jsonl" | wc -l)
[ "$n" = 5 ] || fail "server side: $n of 5 sendfile responses with 1 MiB, all of it a gap"
n=$(jq_port "$NPORT" 'select(.role == "client" and (.request.target | startswith("/file-1m")) and
	.response.body_size == 1048576 and .response.body_missing == 0)' "$T/plain.jsonl" | wc -l)
[ "$n" = 5 ] || fail "client side: $n of 5 responses of 1 MiB read whole"

# 2. A buffer the probe cannot read.  No such buffer can be made on demand
# (the kernel has just copied from or to it at the syscall's exit), so a
# copy of the probe fails every read of a record whose first bytes are
# "UNREADABLE": the client sends each request body with a send() of its
# own, starting with those bytes.  Each must be a gap of the body's size
# in its own transaction, the transaction complete, and the count exact.
"$HTTPSNOOP" --ebpf >"$T/probe.c" || die "httpsnoop --ebpf failed"
# ("UNREADAB" is the little-endian 0x4241444145524e55)
sed 's|if (n && hs_read_user(r->data, n, (void \*)ubuf)) {|if (n \&\& (hs_read_user(r->data, n, (void *)ubuf) \|\| *(__u64 *)r->data == 0x4241444145524e55ULL)) { /* edited by test-unreadable */|' \
	"$T/probe.c" >"$T/unreadable.c"
cmp -s "$T/probe.c" "$T/unreadable.c" &&
	die "the probe no longer reads a record with hs_read_user(r->data, n, ...) as this test edits; update the sed"
cat >"$T/client.py" <<'PYEOF'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
for i in range(n):
    body = b"UNREADABLE" + b"x" * (1000 + 100 * i)
    c.putrequest("POST", "/echo?i=%d" % i)
    c.putheader("Content-Type", "text/plain")
    c.putheader("Content-Length", str(len(body)))
    c.endheaders()
    c.send(body)  # a send() of its own
    r = c.getresponse()
    r.read()
    print("POST /echo?i=%d %d %d" % (i, r.status, len(body)))
PYEOF
hs_start edited -P "$DPORT" --probe "$T/unreadable.c"
$PY "$T/client.py" "$DPORT" 6 >"$T/client.out" &
CLIENT=$!
wait "$CLIENT" || fail "the python client failed"
hs_stop edited
hs_show_stats edited
# Every one of the client's 6 body sends, and every server read and echo
# that began with the marker, failed: at least 6, and all were counted.
nfail=$(hs_stat edited 'unreadable buffers')
[ "${nfail:-0}" -ge 6 ] || fail "unreadable buffers: ${nfail:-none}, expected at least 6"
while read -r method target status size; do
	got=$(jq -c --argjson p "$CLIENT" --arg t "$target" 'select(.pid == $p and .request.target == $t) |
		[.request.body_size, .request.body_missing, .request.complete, .response.status]' "$T/edited.jsonl")
	[ "$got" = "[$size,$size,true,$status]" ] ||
		fail "$target: [body size, missing, complete, status] is [$got], expected [$size,$size,true,$status]"
done <"$T/client.out"
[ "$(wc -l <"$T/client.out")" = 6 ] || fail "the client made $(wc -l <"$T/client.out") requests, expected 6"
finish
