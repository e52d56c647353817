#!/bin/bash
# test-anomalies.sh -- framing anomalies (RFC 9112) sent by a raw-socket client to nginx and to python's http.server, which read them differently: every request the servers answered is reported with the answer the client got, flagged on both sides, and a request after ambiguous framing is flagged whether or not the server answered it.
. "$(dirname "$0")/lib.sh"
need_tools nginx jq
need_bpf

NPORT=$(free_port)
nginx_start ngx "$NPORT"
PPORT=$(free_port)
while [ "$PPORT" = "$NPORT" ]; do PPORT=$(free_port); done

# python's http.server with a POST that reads Content-Length (the first
# value of several, as email.message does), and a log of what it served
cat >"$T/pyserver.py" <<'PYEOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, fmt, *args):
        pass
    def reply(self, status):
        body = b"done\n"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        self.reply(200)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.reply(201)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PYEOF
"$PY" "$T/pyserver.py" "$PPORT" >"$T/pyserver.out" 2>&1 &
PY_SERVER=$!
track "$PY_SERVER"
wait_listen "$PPORT" || die "python http.server did not listen on $PPORT"

# The client: each case on its own connection; its ground truth is the
# statuses it received, in order ("CASE ANOMALY PORT S1,S2,...").
cat >"$T/client.py" <<'PYEOF'
import socket, sys
port, out = int(sys.argv[1]), sys.argv[2]
CASES = [
    ("cl-te", "cl-te", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
              b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("cl-differ", "cl-differ", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  b"Content-Length: 30\r\n\r\nabcGET /after HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("cl-list", "cl-differ", b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 4\r\n\r\nabcd"),
    ("te-not-chunked", "te-not-chunked", b"POST /echo HTTP/1.1\r\nHost: x\r\n"
                       b"Transfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ("obs-fold", "obs-fold", b"GET /fold HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  b\r\n\r\n"
                 b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("space-before-colon", "space-before-colon", b"GET /colon HTTP/1.1\r\nHost: x\r\nX-Sp : 1\r\n\r\n"
                           b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("bare-lf", "bare-lf", b"GET /lf HTTP/1.1\nHost: x\nX: 1\n\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n"),
]

def responses(s):
    """The statuses of the responses read until the server closes or
    stays quiet for 2 s (each framed by its Content-Length)."""
    buf, got = b"", []
    s.settimeout(2)
    while True:
        while b"\r\n\r\n" in buf:
            head, rest = buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            n = 0
            for l in lines[1:]:
                k, _, v = l.partition(b":")
                if k.strip().lower() == b"content-length":
                    n = int(v)
            if len(rest) < n:
                break
            got.append(lines[0].split()[1].decode())
            buf = rest[n:]
        try:
            d = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return got
        if not d:
            return got
        buf += d

with open(out, "w") as f:
    for name, kind, data in CASES:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(data)
        f.write(f"{name} {kind} {s.getsockname()[1]} {','.join(responses(s)) or '-'}\n")
        s.close()
PYEOF

hs_start hs -P "$NPORT" -P "$PPORT"
"$PY" "$T/client.py" "$NPORT" "$T/nginx.gt" || fail "the client failed against nginx"
"$PY" "$T/client.py" "$PPORT" "$T/python.gt" || fail "the client failed against python"
hs_stop hs
hs_show_stats hs
sed 's/^/    nginx:  /' "$T/nginx.gt" >&2
sed 's/^/    python: /' "$T/python.gt" >&2

# what httpsnoop says of one connection (the client's port), side by side:
# "TARGET:STATUS:ANOMALIES" per transaction, in order
seen() {   # seen ROLE PORT
	local end=local
	[ "$1" = server ] && end=remote
	jq -r --arg r "$1" --arg p "127.0.0.1:$2" --arg e "$end" \
		'select(.role == $r and .[$e] == $p) |
		 "\(.request.target // "-"):\(.response.status // "-"):\(.request.anomalies // [] | join("+"))"' \
		"$T/hs.jsonl" | tr '\n' ' ' | sed 's/ $//'
}

for server in nginx python; do
	while read -r name kind port statuses; do
		for role in server client; do
			got=$(seen "$role" "$port")
			what="$server $name ($role side: $got)"
			[ -n "$got" ] || { fail "$what: nothing reported"; continue; }
			# the statuses httpsnoop paired are those the client got
			answered=$(tr ' ' '\n' <<<"$got" | awk -F: '$2 != "-" { print $2 }' | paste -sd,)
			[ "${answered:--}" = "$statuses" ] ||
				fail "$what: answered ${answered:--}, the client got $statuses"
			# the first request carries the anomaly that was sent
			first=${got%% *}
			case "+${first##*:}+" in
			*"+$kind+"*) ;;
			*) fail "$what: the first request is not flagged $kind" ;;
			esac
			# after ambiguous framing the next request is flagged,
			# answered or not
			case $name in
			cl-te|cl-differ)
				second=$(cut -d' ' -f2 <<<"$got")
				[[ $got == *" "* && "+${second##*:}+" == *"+after-ambiguous+"* ]] ||
					fail "$what: the request after it is not flagged after-ambiguous"
				;;
			esac
		done
		log "ok: $server $name: $(seen server "$port")"
	done <"$T/$server.gt"
done
# the servers disagree, which is the point: nginx refuses what python reads
grep -q '^cl-te cl-te [0-9]* 400$' "$T/nginx.gt" || fail "nginx answered cl-te otherwise than 400"
grep -q '^cl-te cl-te [0-9]* 201$' "$T/python.gt" || fail "python answered cl-te otherwise than 201"
for k in 'CL with TE' 'CL values differ' 'TE not chunked' 'obs-fold' 'space before colon' \
	'bare LF' 'after ambiguous'; do
	[ "$(hs_stat hs "$k")" -gt 0 ] || fail "statistic '$k' is not counted"
done
finish
