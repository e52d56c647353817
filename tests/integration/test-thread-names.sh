#!/bin/bash
# test-thread-names.sh -- each probe record names the thread that made it as it is at that moment: a keep-alive connection whose client thread renames itself, hands the connection to another thread and back, and moves to another cgroup between requests, on both hook paths.  (The probe keeps a connection's last thread name and cgroup and reuses them; this checks the raw records, from --record, for a stale one.)
. "$(dirname "$0")/lib.sh"
need_bpf

mkdir -p "$T/www"
echo 'hello' >"$T/www/a.txt"
PORT=$(free_port)
py_server_start "$PORT" "$T/www" 1.1

# A cgroup of our own to move the client into, where cgroup v2 is mounted
# (/sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1) and lets us.
CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
CG=
if [ -n "$CG2" ] && mkdir "$CG2/hs-test-$$" 2>/dev/null; then
	CG=$CG2/hs-test-$$
	ON_EXIT+=("rmdir $CG")
else
	log "no cgroup v2 to make a cgroup in: the move to another cgroup is not checked"
fi

cat >"$T/client.py" <<'PYEOF'
import http.client, os, sys, threading
port, out, cg2, cg, tag = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
print(os.getpid(), file=open(out + ".pid", "w"))
conn = http.client.HTTPConnection("127.0.0.1", port)
rows = []

def name(n):
    with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
        f.write(n)

def get(i, comm):
    conn.request("GET", f"/a.txt?{tag}{i}")
    r = conn.getresponse()
    r.read()
    # the cgroup v2 id is the inode number of its directory
    with open("/proc/self/cgroup") as f:
        path = [l.split("::", 1)[1] for l in f.read().splitlines() if l.startswith("0::")][0]
    cgid = os.stat(cg2 + path).st_ino if cg2 else 0
    rows.append(f"/a.txt?{tag}{i} {comm} {threading.get_native_id()} {cgid}")

name("hs-first")
get(1, "hs-first")
get(2, "hs-first")
name("hs-renamed")
get(3, "hs-renamed")

def other():
    name("hs-thread")
    get(4, "hs-thread")

t = threading.Thread(target=other)
t.start()
t.join()
get(5, "hs-renamed")
if cg:
    with open(cg + "/cgroup.procs", "w") as f:
        f.write(str(os.getpid()))
    get(6, "hs-renamed")
with open(out, "w") as f:
    f.write("\n".join(rows) + "\n")
PYEOF


# check.py REC EXPECT PID: every data record of process PID on its one
# connection carries the name, tid and cgroup of the thread that made
# the request it belongs to (its request, or the response to it).
cat >"$T/check_names.py" <<'PYEOF'
import struct, sys
rec, expect, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = {}
for line in open(expect):
    target, comm, tid, cg = line.split()
    want[target] = (comm, int(tid), int(cg))
EV = struct.Struct('<QQQQIIiIIIBBBBI16s')   # struct hs_event, ABI 3
data = open(rec, 'rb').read()
magic, abi, evsize = struct.unpack_from('<8sII', data, 0)
if magic != b'HSNOOPRC' or abi != 3:
    sys.exit(f"{rec}: not a recording of ABI 3 (update this test's layout)")
off, seen, bad, cur = 24, set(), 0, None
while off < len(data):
    (n,) = struct.unpack_from('<I', data, off)
    r = data[off + 4:off + 4 + n]
    off += 4 + n
    (ts, conn, pos, cgid, tgid, tid, fd, span, cap, sl, typ, d, role, fl, pad,
     comm) = EV.unpack_from(r, 0)
    if typ != 1 or tgid != pid or cap == 0:
        continue
    payload = r[evsize:evsize + cap]
    if d == 0 and payload.startswith(b'GET '):
        cur = payload.split(b' ')[1].decode()
    if cur not in want:
        continue
    got = (comm.rstrip(b'\0').decode(), tid, cgid if want[cur][2] else 0)
    seen.add((cur, d))
    if got != want[cur]:
        bad += 1
        print(f"{cur} {'request' if d == 0 else 'response'}: record says {got}, the thread was {want[cur]}")
missing = [(t, d) for t in want for d in (0, 1) if (t, d) not in seen]
if missing:
    sys.exit(f"no records of {missing}")
if bad:
    sys.exit(1)
print(f"{len(seen)} requests and responses, each with its thread")
PYEOF

for hooks in sock syscall; do
	hs_start "$hooks" -P "$PORT" --hooks "$hooks" --record "$T/$hooks.rec"
	$PY "$T/client.py" "$PORT" "$T/$hooks.expect" "$CG2" "$CG" "$hooks" ||
		die "the client script failed"
	hs_stop "$hooks"
	hs_show_stats "$hooks"
	if $PY "$T/check_names.py" "$T/$hooks.rec" "$T/$hooks.expect" \
		"$(cat "$T/$hooks.expect.pid")" >"$T/$hooks.check" 2>&1; then
		pass_msg "--hooks $hooks: $(cat "$T/$hooks.check")"
	else
		sed 's/^/    /' "$T/$hooks.check" >&2
		fail "--hooks $hooks: a record's thread name, tid or cgroup is not the one that made it"
	fi
	# The transactions: six, complete, on one connection.
	n=$(jq -r 'select(.role == "client" and .response.status == 200) | .conn_id' \
		"$T/$hooks.jsonl" | sort | uniq -c | awk '{ print $1 }')
	[ "$n" = "$(wc -l <"$T/$hooks.expect")" ] ||
		fail "--hooks $hooks: client transactions per connection [$n], want $(wc -l <"$T/$hooks.expect") on one"
done
finish
