#!/bin/bash
# test-probe-cache.sh -- the compiled probe kept on disk: compiled and kept at the first start, read back at the next (both trace the demo exactly), compiled over when damaged or not private, never with --no-probe-cache, one file per set of flags, at most 16 files; and httpsnoop never traces itself (its pid is a map value now, not a compile flag).
. "$(dirname "$0")/lib.sh"
need_tools curl
need_bpf

PORT=$(free_port)
demo_start "$PORT"
URL=http://127.0.0.1:$PORT
export HTTPSNOOP_CACHE_DIR=$T/cache

# run NAME ARGS...: trace the demo (-v), send the same requests, check the
# server side against them.
run() {
	local name=$1
	shift
	hs_start "$name" -v -p "$DEMO_PID" "$@"
	curl -sS -o /dev/null "$URL/users"
	curl -sS -o /dev/null --data-binary 'x=1' "$URL/echo"
	curl -sS -o /dev/null "$URL/health"
	hs_stop "$name"
	printf '%s\n' "GET /users 200 *" "POST /echo 200 3" "GET /health 200 *" >"$T/expect"
	$CHECK expect --jsonl "$T/$name.jsonl" --pid "$DEMO_PID" --role server \
		--expect "$T/expect" --ordered --exact-count || fail "$name: the trace differs"
	hs_expect_stat "$name" 'parse errors' 0
}
said() { grep -q "$2" "$T/$1.err"; }
files() { find "$HTTPSNOOP_CACHE_DIR" -name 'probe-*.bin' | sort; }

# The first start compiles and keeps it; the directory and file are private.
run cold
said cold 'no compiled probe in .*probe-[0-9a-f]*\.bin yet' || fail "cold: no word that there was none"
said cold 'probe compiled in' || fail "cold: not compiled"
said cold 'compiled probe kept in' || fail "cold: not kept"
FILE=$(files)
[ "$(wc -l <<<"$FILE")" = 1 ] && [ -f "$FILE" ] || die "cold: not one cache file: $(files)"
[ "$(stat -c %a "$HTTPSNOOP_CACHE_DIR")" = 700 ] || fail "the cache directory is $(stat -c %a "$HTTPSNOOP_CACHE_DIR"), not 700"
[ "$(stat -c %a "$FILE")" = 600 ] || fail "the cache file is $(stat -c %a "$FILE"), not 600"
grep -q 'Go TLS\|TLS: attached' "$T/cold.err" || log "note: no TLS library attached on this machine"

# The next start reads it: no compiler.
run warm
said warm "compiled probe from $FILE" || fail "warm: not read from $FILE"
said warm 'probe read from the cache in' || fail "warm: -v does not say it was read from the cache"
said warm 'probe compiled in' && fail "warm: compiled again"
said warm 'kept in' && fail "warm: written again"
log "$(grep -o 'probe [a-z ]* in [0-9]* ms' "$T/cold.err") vs $(grep -o 'probe [a-z ]* in [0-9]* ms' "$T/warm.err")"

# A damaged file is said, compiled over and replaced.
SIZE=$(stat -c %s "$FILE")
printf 'XXXXXXXX' | dd of="$FILE" bs=1 seek=$((SIZE / 2)) conv=notrunc status=none
run flipped
said flipped "not using the compiled probe in $FILE: it is damaged" || fail "flipped: damage not said"
said flipped 'compiled probe kept in' || fail "flipped: not kept again"
truncate -s $((SIZE / 3)) "$FILE"
run truncated
said truncated "not using the compiled probe in $FILE: it is damaged" || fail "truncated: damage not said"
run again
said again "compiled probe from $FILE" || fail "after the damage, the new file was not used"

# Others may write it: not used.
chmod 666 "$FILE"
run shared
said shared 'others may write it' || fail "shared: a file others may write was not refused"
said shared 'probe compiled in' || fail "shared: not compiled"
[ "$(stat -c %a "$FILE")" = 600 ] || fail "shared: the file kept is $(stat -c %a "$FILE")"

# --no-probe-cache: compiled, neither read nor kept.
BEFORE=$(stat -c %Y.%i "$FILE")
run nocache --no-probe-cache
said nocache 'probe compiled in' || fail "--no-probe-cache: not compiled"
said nocache 'compiled probe \(from\|kept\)' && fail "--no-probe-cache: the cache was used"
[ "$(stat -c %Y.%i "$FILE")" = "$BEFORE" ] || fail "--no-probe-cache: the file changed"

# Other flags, another file; at most 16 are kept, the least recently used go.
for i in $(seq 20); do
	cp "$FILE" "$HTTPSNOOP_CACHE_DIR/probe-old$i.bin"
	touch -d "2020-01-01 00:00:$i" "$HTTPSNOOP_CACHE_DIR/probe-old$i.bin"
done
run filtered -P "$PORT"
said filtered 'compiled probe kept in' || fail "-P: not kept under a name of its own"
[ "$(files | wc -l)" = 16 ] || fail "$(files | wc -l) files kept, not 16"
[ -f "$FILE" ] || fail "the recently used file was let go"
[ -e "$HTTPSNOOP_CACHE_DIR/probe-old1.bin" ] && fail "the least recently used file was kept"

# httpsnoop never traces itself: its own /metrics answers are not seen,
# though curl's side of them is.
MPORT=$(free_port)
while [ "$MPORT" = "$PORT" ]; do MPORT=$(free_port); done
hs_start self -P "$MPORT" --metrics "$MPORT"
for i in 1 2 3; do curl -sS -o /dev/null "http://127.0.0.1:$MPORT/metrics" || fail "curl /metrics failed"; done
hs_stop self
$PY - "$T/self.jsonl" "${HS_PID[self]}" <<'EOF' || fail "httpsnoop traced itself, or missed curl"
import json, sys
txns = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
own = [t for t in txns if t.get("pid") == int(sys.argv[2])]
clients = [t for t in txns if t.get("role") == "client" and (t.get("request") or {}).get("target") == "/metrics"]
print(f"{len(clients)} client transactions of /metrics, {len(own)} of httpsnoop itself")
sys.exit(1 if own or len(clients) != 3 else 0)
EOF
finish
