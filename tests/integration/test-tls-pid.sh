#!/bin/bash
# test-tls-pid.sh -- with -p, httpsnoop looks for TLS libraries in -p's processes alone: a libssl that only another process maps is not attached to (without -p it is, and with -p of its process too), nor the host's for a process whose root has none; and -p nginx's worker over TLS matches its access log.
. "$(dirname "$0")/lib.sh"
need_tools nginx curl openssl
need_bpf

# A libssl at a path of its own, mapped by an untraced python alone.
LIBSSL=$($PY -c 'import _ssl; print(_ssl.__file__)' | xargs ldd | awk '$1 ~ /^libssl\.so/ { print $3 }')
[ -r "$LIBSSL" ] || skip "python's _ssl links no libssl here"
mkdir -p "$T/lib"
cp "$LIBSSL" "$T/lib/"
OWN=$T/lib/$(basename "$LIBSSL")
LD_LIBRARY_PATH=$T/lib $PY -c 'import ssl, time; time.sleep(600)' &
HOLDER=$!
track "$HOLDER"
sleep 600 &
IDLE=$!
track "$IDLE"
for _ in $(seq 50); do
	grep -q "$OWN" "/proc/$HOLDER/maps" 2>/dev/null && break
	sleep 0.1
done
grep -q "$OWN" "/proc/$HOLDER/maps" || die "python did not map $OWN"

attached() { grep -q "^httpsnoop: TLS: attached to /proc/$HOLDER/root$OWN " "$T/$1.err"; }

# 1. -p names another process: the copy is not looked for, nor attached.
hs_start other -v -p "$IDLE"
hs_stop other
attached other && fail "-p $IDLE attached to $OWN, which only process $HOLDER maps"
grep -q '^httpsnoop: TLS: attached to ' "$T/other.err" ||
	fail "-p attached to no TLS library at all: $(grep TLS "$T/other.err")"

# 2. -p names a process whose root (here a chroot) has no libssl: not
#    even the host's standard one is attached, which every process that
#    maps it would trap on.
mkdir -p "$T/empty"
$PY -c 'import os, sys, time; os.chroot(sys.argv[1]); os.chdir("/"); time.sleep(600)' "$T/empty" &
JAILED=$!
track "$JAILED"
for _ in $(seq 50); do
	[ "$(readlink "/proc/$JAILED/root")" = "$T/empty" ] && break
	sleep 0.1
done
[ "$(readlink "/proc/$JAILED/root")" = "$T/empty" ] || die "python did not chroot to $T/empty"
hs_start jailed -v -p "$JAILED"
hs_stop jailed
grep -q '^httpsnoop: TLS: attached to ' "$T/jailed.err" &&
	fail "-p of a process without libssl attached to: $(grep 'TLS: attached' "$T/jailed.err")"

# 3. Without -p, and with -p of the process that maps it, it is.
hs_start all -v -P "$(free_port)"
hs_stop all
attached all || fail "without -p, $OWN (mapped by $HOLDER) was not attached to"
hs_start holder -v -p "$HOLDER"
hs_stop holder
attached holder || fail "-p $HOLDER did not attach to the $OWN it maps"

# 4. -p nginx's worker over TLS: its side of each request, as its access
#    log says, and nothing of curl's.
PORT=$(free_port)
D=$T/ngx
nginx_tls_start "$D" "$PORT"
: >"$D/logs/access.log"
hs_start ngx -p "$NGINX_WORKER"
for i in $(seq 20); do
	curl -sk -o /dev/null "https://127.0.0.1:$PORT/ngx/$i" || fail "curl failed on request $i"
done
hs_stop ngx
hs_show_stats ngx
$CHECK nginx --jsonl "$T/ngx.jsonl" --pid "$NGINX_WORKER" --role server \
	--log "$D/logs/access.log" || fail "-p nginx's worker differs from its access log"
n=$(jq -c 'select(.role != "server" or .pid != '"$NGINX_WORKER"' or .tls != true)' "$T/ngx.jsonl" | wc -l)
[ "$n" = 0 ] || fail "$n transactions not nginx's over TLS"
hs_expect_stat ngx 'parse errors' 0
finish
