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
