#!/bin/bash
# test-tls.sh -- HTTPS from a process in a container that starts after httpsnoop (itself in a container): the client image's own libssl, reached through /proc/PID/root, is attached at the container's first exec, so that each of its requests is traced as TLS, with its container id, on both sides, against nginx's access log.
. "$(dirname "$0")/lib.sh"
need_podman
need_bpf
need_images
for tool in nginx openssl; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (run scripts/setup)"
done

PORT=$(free_port)
D=$T/ngx
nginx_tls_conf "$D" "$PORT" || die "openssl could not make a certificate"
nginx -p "$D" -c "$D/nginx.conf" >"$D/logs/stdout" 2>&1 &
BG_PIDS+=("$!")
MASTER=$!
for _ in $(seq 100); do
	ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q . && break
	sleep 0.1
done
WORKER=$(pgrep -P "$MASTER" | head -n 1)
[ -n "$WORKER" ] || die "nginx did not start"

HS=$(cname hs)
hs_run "$HS" "$T/traces" --privileged "${HEADER_MOUNTS[@]}" "${TRACEFS_MOUNTS[@]}" -- \
	-v -f json -o /traces/t.json -P "$PORT"
# The client container's first process execs now, after "Tracing"; its
# curls run a few seconds later.
CLIENT=$(cname client)
CONTAINERS+=("$CLIENT")
podman run -d --name "$CLIENT" --network=host --entrypoint sh "$DEMO_IMAGE" -c \
	"sleep 3; for i in 1 2 3 4 5; do curl -sSk -o /dev/null -w '%{http_code}\n' https://127.0.0.1:$PORT/ct/\$i || exit 1; done" \
	>"$T/client.cid" 2>"$T/client.err" || { cat "$T/client.err" >&2; die "podman run of the client failed"; }
rc=$(timeout 120 podman wait "$CLIENT" 2>/dev/null)
podman logs "$CLIENT" >"$T/client.out" 2>&1
[ "$rc" = 0 ] || { cat "$T/client.out" >&2; die "the client container exited with status [$rc]"; }
CID=$(ctr_id "$CLIENT")
hs_stop "$HS"
hs_show_stats "$HS"
grep 'TLS: attached' "$T/$HS.err" | sed 's/^/    /' >&2
F=$T/traces/t.json
[ -s "$F" ] || die "no transactions traced"

for i in 1 2 3 4 5; do
	n=$(jq -c --arg t "/ct/$i" --arg id "$CID" 'select(.role == "client" and .comm == "curl" and
		.request.target == $t and .tls == true and .container_id == $id and .response.status == 200)' "$F" | wc -l)
	[ "$n" = 1 ] || fail "client side of /ct/$i (curl in container ${CID:0:12}): traced $n times, expected once as TLS"
done
$PY "$SRCDIR/tests/integration/check.py" nginx --jsonl "$F" --pid "$WORKER" --role server \
	--log "$D/logs/access.log" || fail "nginx's side differs from its access log"
n=$(jq -c 'select(.role == "server" and .tls == true and .container_id == null)' "$F" | wc -l)
[ "$n" = 5 ] || fail "$n server-side TLS transactions on the host, expected 5"
[ "$FAILED" = 0 ] && pass_msg "5 HTTPS requests from container ${CID:0:12}, traced on both sides"
finish
