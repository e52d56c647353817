#!/bin/bash
# test-unix-grpc.sh -- gRPC over Unix sockets (a path and an abstract name) with python3-grpcio: every call in the server's own log, once per side, as an h2 transaction with the socket's name, service, method and status; nothing else.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/unixlib.sh"
need_tools jq
need_bpf
$PY -c 'import grpc' 2>/dev/null || skip "python3-grpcio is not installed"

CH2="$PY $LIB_DIR/check_h2.py"
N=6          # unary calls (one of them "missing": NOT_FOUND), then one stream
declare -A SOCK=([path]=$T/grpc.sock [abs]=@hs-grpc-$$)

# One server and one tracer per socket, each tracer keeping only its own
# socket: the other socket's calls are extra calls for it.
declare -A SERVER=()
for k in path abs; do
	grpc_unix_server "${SOCK[$k]}"
	SERVER[$k]=$GRPC_SERVER
	# the server opened its log before listening: it follows the rename
	mv "$T/grpc-calls.log" "$T/$k-calls.log"
done
for k in path abs; do hs_spawn "$k" --unix "${SOCK[$k]}"; done
for k in path abs; do hs_wait "$k"; done

declare -A CLIENT=()
for k in path abs; do
	grpc_unix_client "${SOCK[$k]}" "$N"
	CLIENT[$k]=$GRPC_CLIENT
	cp "$T/grpc-client.out" "$T/$k-client.out"
done
hs_stop path abs
hs_show_stats path

for k in path abs; do
	# the client's own tally agrees with the server's log
	read -r _ ok errors <"$T/$k-client.out"
	want_ok=$(grep -c ' OK ' "$T/$k-calls.log")
	want_err=$(grep -vc ' OK ' "$T/$k-calls.log")
	[ "$ok $errors" = "$want_ok $want_err" ] && [ "$errors" = 1 ] && [ "$ok" = "$N" ] ||
		fail "$k: the client counted $ok OK and $errors errors, the server logged $want_ok and $want_err"
	for side in server client; do
		if [ "$side" = server ]; then pid=${SERVER[$k]} peer=${CLIENT[$k]}; else pid=${CLIENT[$k]} peer=${SERVER[$k]}; fi
		$CH2 unix-grpc --jsonl "$T/$k.jsonl" --pid "$pid" --role "$side" --peer-pid "$peer" \
			--unix "${SOCK[$k]}" --log "$T/$k-calls.log" ||
			fail "$k: the $side side differs from the server's log of its calls"
	done
	# the tracer of the other socket saw none of these processes
	o=$([ "$k" = path ] && echo abs || echo path)
	n=$(jq -c --argjson s "${SERVER[$k]}" --argjson c "${CLIENT[$k]}" \
		'select(.pid == $s or .pid == $c)' "$T/$o.jsonl" | wc -l)
	[ "$n" = 0 ] || fail "--unix ${SOCK[$o]} let $n transactions of ${SOCK[$k]} through"
	hs_expect_stat "$k" 'parse errors' 0
	hs_expect_stat "$k" 'h2 bad frames' 0
	# gRPC C-core may send with more iovec segments than the probe reads
	# per syscall (HS_MAX_SEGS), as over TCP (test-h2-grpc): counted.
	if [ "$(hs_stat "$k" 'gap bytes')" -eq 0 ]; then
		hs_expect_stat "$k" 'h2 undecoded blocks' 0
	else
		log "note: $k: $(hs_stat "$k" 'gap bytes') bytes not captured (iovec segments past HS_MAX_SEGS)"
	fi
done
finish
