# go-lib.sh -- helpers of the Go TLS integration tests (test-go-tls*.sh): the tests/go programs and httpsnoop's attachment to them.
#
# Sourced after lib.sh.  GO_DIR is a tests/go/build.sh output (meson sets
# it; by hand it defaults to build/tests/go).

: "${GO_DIR:=$SRCDIR/build/tests/go}"

# need_go: the Go test programs must have been built (golang-go installed).
need_go() {
	[ -f "$GO_DIR/MODES" ] || skip "no Go test programs in $GO_DIR (golang-go not installed)"
}

# wait_attached NAME BINARY: until tracer NAME (run with -v) says it
# attached to BINARY.  A Go binary is read and attached to some
# milliseconds after its first exec: requests made before that are not
# seen, those of every later run of the same file are.
wait_attached() {
	local i
	for i in $(seq 200); do
		grep -q "Go TLS: attached to .*/$2 (pid" "$T/$1.err" && return 0
		sleep 0.1
	done
	return 1
}

# go_attach_client NAME CLIENT URL: a first run of a Go client that makes
# no request, so that tracer NAME attaches to its binary before the runs
# that count.
go_attach_client() {
	"$2" -url "$3" -n 0 >/dev/null 2>&1 || fail "the Go client $2 failed to start"
	wait_attached "$1" "$(basename "$2")" || fail "tracer $1 did not attach to $2"
}

# go_expect LOG FIELDS: "METHOD TARGET STATUS SIZE" lines from a Go
# program's log, FIELDS being the columns of those four (e.g. 1,2,3,5).
go_expect() {
	awk -v f="$2" 'BEGIN { split(f, k, ",") } { print $k[1], $k[2], $k[3], $k[4] }' "$1"
}

# go_exchange NAME MODE PORT [FLAG]: the Go server of build MODE on PORT
# under tracer NAME (started by the caller with -v -P PORT), both programs
# attached to, then 40 GETs (bodies up to 64 KiB, 4 workers) and 20 POSTs
# of 3,000 bytes, FLAG (e.g. -http1) given to server and clients; the
# tracer stopped and the server ended.  Then both sides are checked
# against the programs' logs: the server's, the clients' (exact counts),
# and the POST bodies' sizes.  Sets SRV, C1, C2 and J (the JSON Lines).
go_exchange() {
	local name=$1 m=$2 port=$3 flag=${4:-} n
	"$GO_DIR/server-$m" -addr "127.0.0.1:$port" -log "$T/$name.srv.log" $flag >"$T/$name.srv.out" 2>&1 &
	SRV=$!
	track "$SRV"
	wait_listen "$port" || die "the Go server ($m) did not listen on $port"
	wait_attached "$name" "server-$m" || fail "$name: no 'Go TLS: attached' line for the server"
	go_attach_client "$name" "$GO_DIR/client-$m" "https://127.0.0.1:$port/"
	"$GO_DIR/client-$m" -url "https://127.0.0.1:$port/get/$m" -n 40 -c 4 $flag \
		-size 65536 -log "$T/$name.cli1.log" >"$T/$name.cli1.out" 2>&1 &
	C1=$!
	wait "$C1" || fail "$name: the Go client (GET) failed: $(tail -n 3 "$T/$name.cli1.out")"
	"$GO_DIR/client-$m" -url "https://127.0.0.1:$port/post/$m?size=6" -n 20 -c 2 $flag \
		-body 3000 -log "$T/$name.cli2.log" >"$T/$name.cli2.out" 2>&1 &
	C2=$!
	wait "$C2" || fail "$name: the Go client (POST) failed: $(tail -n 3 "$T/$name.cli2.out")"
	hs_stop "$name"
	kill -TERM "$SRV"
	wait "$SRV" || fail "$name: the Go server exited with status $?"
	J=$T/$name.jsonl

	n=$(wc -l <"$T/$name.srv.log")
	[ "$n" = 60 ] || fail "$name: the server logged $n requests, expected 60"
	go_expect "$T/$name.srv.log" 1,2,3,5 >"$T/$name.srv.expect"
	$CHECK expect --jsonl "$J" --pid "$SRV" --role server --expect "$T/$name.srv.expect" \
		--exact-count || fail "$name: server side differs from the server's log"
	cat "$T/$name.cli1.log" "$T/$name.cli2.log" | go_expect /dev/stdin 1,2,3,4 >"$T/$name.cli.expect"
	$CHECK expect --jsonl "$J" --pid "$C1" --pid "$C2" --role client \
		--expect "$T/$name.cli.expect" --exact-count || fail "$name: client side differs from the client's log"
	n=$(jq -c 'select(.request.method == "POST" and .request.body_size != 3000) |
		[.role, .request.target, .request.body_size]' "$J" | head -n 3)
	[ -z "$n" ] || fail "$name: POST bodies of the wrong size: $n"
	hs_expect_stat "$name" 'parse errors' 0
	hs_expect_stat "$name" 'TLS without socket' 0
}
