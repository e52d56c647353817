#!/bin/bash
# test-tls-retry.sh -- OpenSSL writes that find no room (SSL_ERROR_WANT_WRITE) and are called again with the same bytes, as SSL_write(3) requires: a python TLS server on a non-blocking socket writes 2 MB responses in 16 KB records to a curl that reads slowly; each response is reported once and whole on both sides, against curl's -w and the server's own count, with OpenSSL's writes in uprobe sessions (reported at their entry) and in entry/return pairs.
. "$(dirname "$0")/lib.sh"
need_tools curl openssl
need_bpf

SIZE=2000000
NREQ=3
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
	-days 1 -subj /CN=localhost 2>/dev/null || die "openssl req failed"

cat >"$T/server.py" <<'PYEOF'
# A TLS server on a non-blocking socket with a small send buffer: each
# response (SIZE bytes of body) goes out in writes of 16 KB; a write that
# wants room (SSLWantWriteError) is made again with the same bytes once
# the socket is writable.  Prints the number of such retries and the
# bytes of body sent, when NREQ requests are served.
import select, socket, ssl, sys

port, size, nreq = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[4], sys.argv[5])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(8)
body = (bytes(range(256)) * (size // 256 + 1))[:size]
retries = sent = 0
print("ready", flush=True)
for _ in range(nreq):
    c, _ = ls.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
    s = ctx.wrap_socket(c, server_side=True)
    s.setblocking(False)
    req = b""
    while b"\r\n\r\n" not in req:
        try:
            req += s.recv(4096)
        except ssl.SSLWantReadError:
            select.select([s], [], [])
    out = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n" \
          b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size + body
    off = 0
    while off < len(out):
        chunk = out[off:off + 16384]
        try:
            off += s.send(chunk)
        except ssl.SSLWantWriteError:
            retries += 1
            select.select([], [s], [])
        except ssl.SSLWantReadError:
            select.select([s], [], [])
    sent += size
    s.setblocking(True)
    try:
        s.unwrap()
    except (ssl.SSLError, OSError):
        pass
    s.close()
print(retries, sent, flush=True)
PYEOF

# run NAME ENV...: the server, NREQ slow curls, traced by httpsnoop -v.
run() {
	local name=$1 port out i
	shift
	port=$(free_port)
	out=$T/$name.server
	env "$@" "$HTTPSNOOP" -v -f json -o "$T/$name.jsonl" -P "$port" 2>"$T/$name.err" &
	HS_PID[$name]=$!
	track "$!"
	hs_wait "$name"
	$PY "$T/server.py" "$port" "$SIZE" "$NREQ" "$T/cert.pem" "$T/key.pem" >"$out" &
	track "$!"
	for i in $(seq 50); do grep -q ready "$out" && break; sleep 0.1; done
	: >"$T/$name.gt"
	for i in $(seq "$NREQ"); do
		curl -sk --limit-rate 4M -o "$T/$name.body" \
			-w '%{http_code} %{size_download}\n' "https://127.0.0.1:$port/big$i" \
			>>"$T/$name.gt" || fail "$name: curl $i failed"
	done
	for i in $(seq 50); do [ "$(wc -l <"$out")" -ge 2 ] && break; sleep 0.1; done
	hs_stop "$name"
	hs_show_stats "$name"

	read -r retries sent < <(tail -1 "$out")
	[ "$sent" = $((SIZE * NREQ)) ] || fail "$name: the server sent [$sent] bytes of body"
	[ "${retries:-0}" -gt 0 ] ||
		fail "$name: no write wanted room: the test did not test retries"
	[ "$(sort -u "$T/$name.gt")" = "200 $SIZE" ] ||
		fail "$name: curl got $(sort -u "$T/$name.gt" | tr '\n' ' ')"
	for role in server client; do
		for i in $(seq "$NREQ"); do
			got=$(jq -c --arg t "/big$i" --arg r "$role" \
				'select(.role == $r and .request.target == $t) |
				 [.response.status, .response.body_size, .response.complete]' \
				"$T/$name.jsonl")
			[ "$got" = "[200,$SIZE,true]" ] ||
				fail "$name: $role side of /big$i: [$got], want one [200,$SIZE,true]"
		done
	done
	n=$(jq -s 'length' "$T/$name.jsonl")
	[ "$n" = $((2 * NREQ)) ] || fail "$name: $n transactions, want $((2 * NREQ))"
	hs_expect_stat "$name" 'parse errors' 0
	hs_expect_stat "$name" 'resync bytes' 0
	log "$name: $retries writes made again; $(grep -o 'writes at [^;]*' "$T/$name.err" | head -1)"
}

run session
if grep -q 'OpenSSL writes in uprobe sessions' "$T/session.err"; then
	grep -q 'in a uprobe session' "$T/session.err" ||
		fail "sessions are in use, but the writes were not attached in one"
else
	log "this kernel has no uprobe sessions (Linux 6.13+): pairs twice"
fi
run pairs HTTPSNOOP_FORCE_NO_UPROBE_SESSION=1
grep -q 'in a uprobe session' "$T/pairs.err" &&
	fail "HTTPSNOOP_FORCE_NO_UPROBE_SESSION=1, but the writes are in a session"
finish
