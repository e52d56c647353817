#!/bin/bash
# test-bodies.sh -- captured bodies are the bytes that crossed the socket: binary and text, both directions, at -b 0, the default and 1 MiB.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
NPORT=$(free_port)
while [ "$NPORT" = "$PORT" ]; do NPORT=$(free_port); done
nginx_start ngx "$NPORT"
head -c 200000 /dev/urandom >"$T/bin.body"
base64 -w 76 <(head -c 3000 /dev/urandom) >"$T/text.body"
cp "$T/text.body" "$NGINX_DIR/html/text.txt"
cp "$NGINX_DIR/html/file-1m" "$T/file-1m"

hs_spawn big -P "$PORT" -P "$NPORT" -b 1048576
hs_spawn default -P "$PORT" -P "$NPORT"
hs_spawn zero -P "$PORT" -P "$NPORT" -b 0
for n in big default zero; do hs_wait "$n"; done
curl -sS -o "$T/bin.echoed" --data-binary @"$T/bin.body" -H 'Content-Type: application/octet-stream' \
	"http://127.0.0.1:$PORT/echo?bin" || fail "curl POST failed"
curl -sS -o "$T/text.echoed" --data-binary @"$T/text.body" -H 'Content-Type: text/plain' \
	"http://127.0.0.1:$PORT/echo?text" || fail "curl POST failed"
curl -sS -o "$T/file-1m.got" "http://127.0.0.1:$NPORT/file-1m" || fail "curl GET failed"
curl -sS -o "$T/text.got" "http://127.0.0.1:$NPORT/text.txt" || fail "curl GET failed"
hs_stop big default zero
hs_show_stats big
cmp -s "$T/bin.body" "$T/bin.echoed" && cmp -s "$T/text.body" "$T/text.echoed" ||
	die "the demo did not echo the bodies"
cmp -s "$T/file-1m" "$T/file-1m.got" || die "nginx served another file"

for run in "big 1048576" "default 1024" "zero 0"; do
	set -- $run
	f=$T/$1.jsonl
	for side in request response; do
		$CHECK body --jsonl "$f" --port "$PORT" --target '/echo?bin' --side "$side" \
			--file "$T/bin.body" --max-body "$2" || fail "-b $2: binary /echo $side bodies"
		$CHECK body --jsonl "$f" --port "$PORT" --target '/echo?text' --side "$side" \
			--file "$T/text.body" --max-body "$2" || fail "-b $2: text /echo $side bodies"
	done
	# nginx sends these with sendfile: only curl's side has the bytes
	$CHECK body --jsonl "$f" --port "$NPORT" --role client --target /file-1m \
		--file "$T/file-1m" --max-body "$2" || fail "-b $2: /file-1m as curl read it"
	$CHECK body --jsonl "$f" --port "$NPORT" --role client --target /text.txt \
		--file "$T/text.body" --max-body "$2" || fail "-b $2: /text.txt as curl read it"
	got=$(jq_port "$NPORT" 'select(.role == "server") | [.request.target, .response.body_size, (.response.body_missing > 0)]' "$f" | sort | tr '\n' ' ')
	[ "$got" = "[\"/file-1m\",1048576,true] [\"/text.txt\",$(stat -c %s "$T/text.body"),true] " ] ||
		fail "-b $2: nginx's sendfile responses: got [$got]"
	hs_expect_stat "$1" 'parse errors' 0
done
finish
