#!/usr/bin/python3
"""benchlib.py -- bench/run's helpers: parse tool output, match transactions, time start-up, aggregate and print the table.

Run by /usr/bin/python3 (no third-party modules).  Subcommands:

  fact FACTS SCENARIO CONFIG ROUND [key=value | key=@file.json]...
      append one measurement (a JSON object) to the facts file
  wrk FILE                    wrk --latency output -> JSON (rps, latency percentiles)
  h2load FILE [TIMEFILE]      h2load's output (and /usr/bin/time -f '%U %S') -> JSON
  hsstats FILE                httpsnoop's statistics block (stderr) -> JSON
  complete --jsonl F --log F --pid N --port P
      httpsnoop's server-side transactions vs nginx's access log -> JSON
  count-jsonl F [--pid N] [--role R]   transactions in a JSON Lines file -> JSON
  startup --runs N -- CMD...  time from exec to the 'Tracing' line -> JSON
  enable-bpf-stats            hold a BPF_ENABLE_STATS fd until killed
  rss-trend FILE              samples "t_s rss_kb" -> JSON (first, last, max, slope)
  memsnap PID                 a process's RSS now, split by kind (/proc/PID/smaps) -> JSON
  progs PID                   the BPF programs PID holds: count, verified instructions -> JSON
  progstats PID [--since F]   run_cnt and run_time_ns of each BPF program PID holds (with
                              BPF_ENABLE_STATS on), by program id; --since: minus an earlier snapshot
  other-bpf [PID...]          processes other than PIDs holding BPF programs (other tracers) -> JSON
  spawn RATE SECONDS          start /bin/true RATE times a second (process exits elsewhere) -> JSON
  perf-top FILE [N]           perf report --stdio output -> JSON (top N symbols, BPF share)
  callgrind-top FILE [N]      callgrind_annotate output -> JSON (total Ir, top N functions)
  report FACTS --meta META --json OUT [--md OUT]
      medians and spreads, the table on stdout, everything as JSON
"""

import ctypes
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time


def num(s):
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


# ---------------------------------------------------------------- facts

def cmd_fact(args):
    path, scenario, config, rnd = args[:4]
    metrics = {}
    for kv in args[4:]:
        k, _, v = kv.partition("=")
        if v.startswith("@"):
            try:
                with open(v[1:]) as f:
                    txt = f.read().strip()
                metrics[k] = json.loads(txt.splitlines()[-1]) if txt else None
            except (OSError, ValueError, IndexError) as e:
                metrics[k] = {"error": "unreadable %s: %s" % (v[1:], e)}
        else:
            metrics[k] = num(v)
    rec = {"scenario": scenario, "config": config, "round": num(rnd), "t": time.time(),
           "m": metrics}
    with open(path, "a") as f:
        f.write(json.dumps(rec) + "\n")


# ---------------------------------------------------------------- parsers

UNITS = {"us": 1, "ms": 1000, "s": 1000000, "m": 60000000}


def dur_us(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    return float(m.group(1)) * UNITS[m.group(2)] if m else None


def parse_wrk(text):
    out = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", text)
    if m:
        out["requests"] = int(m.group(1))
    for p in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+(\S+)" % p, text, re.M)
        out["p%s_us" % p] = dur_us(m.group(1)) if m else None
    m = re.search(r"Socket errors: (.*)", text)
    out["socket_errors"] = m.group(1).strip() if m else None
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non2xx"] = int(m.group(1)) if m else 0
    return out


def cmd_wrk(args):
    with open(args[0]) as f:
        print(json.dumps(parse_wrk(f.read())))


def parse_h2load(text):
    out = {}
    m = re.search(r"finished in ([\d.]+)(us|ms|s|m), ([\d.]+) req/s", text)
    if m:
        out["seconds"] = dur_us(m.group(1) + m.group(2)) / 1e6
        out["rps"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text)
    if m:
        for k, v in zip(("total", "started", "done", "ok", "failed", "errored", "timeout"),
                        m.groups()):
            out[k] = int(v)
    m = re.search(r"status codes: (\d+) 2xx", text)
    out["2xx"] = int(m.group(1)) if m else None
    return out


def cmd_h2load(args):
    with open(args[0], errors="replace") as f:
        out = parse_h2load(f.read())
    if len(args) > 1:
        try:
            with open(args[1]) as f:
                u, s_ = f.read().split()[-2:]
            out["cpu_user_s"], out["cpu_sys_s"] = float(u), float(s_)
        except (OSError, ValueError):
            pass
    print(json.dumps(out))


def parse_hsstats(text):
    out = {}
    on = False
    for line in text.splitlines():
        if line.startswith("httpsnoop statistics:"):
            on = True
            out = {}
            continue
        if on:
            m = re.match(r"^  (\S.*?)\s+(\d+)$", line)
            if m:
                out[m.group(1).replace(" ", "_").replace("-", "_")] = int(m.group(2))
            elif line.strip():
                on = False
    return out


def cmd_hsstats(args):
    try:
        with open(args[0], errors="replace") as f:
            print(json.dumps(parse_hsstats(f.read())))
    except OSError:
        print("{}")


def opt(args, name, default=None):
    if name in args:
        return args[args.index(name) + 1]
    return default


def port_of(ep):
    if not ep:
        return None
    return int(ep.rsplit(":", 1)[1])


def cmd_count_jsonl(args):
    path = args[0]
    pid = opt(args, "--pid")
    role = opt(args, "--role")
    n = ok = bad = 0
    with open(path, "rb") as f:
        for line in f:
            try:
                t = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if pid and t.get("pid") != int(pid):
                continue
            if role and t.get("role") != role:
                continue
            n += 1
            if t.get("response") is not None:
                ok += 1
    print(json.dumps({"txns": n, "with_response": ok, "bad_lines": bad}))


def cmd_complete(args):
    """Matches by (remote port, method, target, status): a count per key on
    both sides, so a transaction attributed to the wrong connection or with
    a wrong status is both a missing and an extra one."""
    jsonl, log, pid, port = (opt(args, "--jsonl"), opt(args, "--log"), int(opt(args, "--pid")),
                             int(opt(args, "--port")))
    want = {}
    nlog = 0
    with open(log, errors="replace") as f:
        for line in f:
            p = line.split()
            if len(p) < 4:
                continue
            nlog += 1
            key = (int(p[0]), p[1], p[2], int(p[3]))
            want[key] = want.get(key, 0) + 1
    got = {}
    nhs = nresp = nerr = bad = other = 0
    errors = {}
    with open(jsonl, "rb") as f:
        for line in f:
            try:
                t = json.loads(line)
            except ValueError:
                bad += 1
                continue
            if t.get("pid") != pid or t.get("role") != "server" or port_of(t.get("local")) != port:
                other += 1
                continue
            nhs += 1
            r = t.get("response")
            if t.get("error"):
                nerr += 1
                errors[t["error"]] = errors.get(t["error"], 0) + 1
            if r is None:
                continue
            nresp += 1
            q = t["request"]
            key = (port_of(t.get("remote")) or 0, q.get("method"), q.get("target"), r.get("status"))
            got[key] = got.get(key, 0) + 1
    matched = sum(min(c, got.get(k, 0)) for k, c in want.items())
    print(json.dumps({
        "log_lines": nlog, "hs_server_txns": nhs, "hs_with_response": nresp,
        "hs_with_error": nerr, "errors": errors, "matched": matched,
        "missing": nlog - matched, "extra": nresp - matched,
        "captured": (matched / nlog) if nlog else None,
        "other_txns": other, "bad_lines": bad,
    }))


# ---------------------------------------------------------------- start-up

def cmd_startup(args):
    runs = int(opt(args, "--runs", "5"))
    cmd = args[args.index("--") + 1:]
    times = []
    fails = []
    cpu, mem = [], []
    for _ in range(runs):
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        t = None
        lines = []
        deadline = t0 + 60
        while time.monotonic() < deadline:
            line = p.stderr.readline()
            if not line:
                break
            lines.append(line.decode(errors="replace").rstrip())
            if line.startswith(b"Tracing"):
                t = time.monotonic() - t0
                try:
                    with open("/proc/%d/stat" % p.pid) as f:
                        st = f.read().rsplit(")", 1)[1].split()
                    tck = os.sysconf("SC_CLK_TCK")
                    # its own time and its reaped children's: the probe
                    # is compiled in a child
                    cpu.append(((int(st[11]) + int(st[13])) / tck,
                                (int(st[12]) + int(st[14])) / tck))
                    mem.append(memsnap(p.pid).get("VmHWM"))
                except (OSError, IndexError, ValueError):
                    pass
                break
        p.send_signal(signal.SIGTERM)
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
        if t is None:
            fails.append(" | ".join(lines[-3:]))
        else:
            times.append(t)
        time.sleep(0.2)
    print(json.dumps({"runs_s": times, "failures": fails,
                      "cpu_user_s": med([c[0] for c in cpu]), "cpu_sys_s": med([c[1] for c in cpu]),
                      "vmhwm_kb": med(mem),
                      "median_s": statistics.median(times) if times else None,
                      "min_s": min(times) if times else None,
                      "max_s": max(times) if times else None}))


# ---------------------------------------------------------------- BPF stats

def cmd_enable_bpf_stats(args):
    """BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): run_time_ns/run_cnt appear in
    each program's fdinfo while the returned fd is open, and stop when this
    process dies -- no global sysctl left behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(bytes(8), 8)  # { __u32 type = BPF_STATS_RUN_TIME }
    nr_bpf = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine, 321)
    fd = libc.syscall(nr_bpf, 32, attr, 8)  # BPF_ENABLE_STATS
    if fd < 0:
        print("failed: errno %d" % ctypes.get_errno(), flush=True)
        sys.exit(1)
    print("enabled", flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        time.sleep(3600)


# ---------------------------------------------------------------- RSS trend

def cmd_rss_trend(args):
    pts = []
    with open(args[0]) as f:
        for line in f:
            p = line.split()
            if len(p) >= 2:
                pts.append((float(p[0]), int(p[1])))
    warm = float(opt(args, "--warmup", "10"))
    steady = [p for p in pts if p[0] >= warm] or pts
    out = {"samples": len(pts)}
    if steady:
        xs = [p[0] for p in steady]
        ys = [p[1] for p in steady]
        out.update(first_kb=ys[0], last_kb=ys[-1], max_kb=max(ys), min_kb=min(ys),
                   growth_kb=ys[-1] - ys[0])
        if len(steady) >= 3 and xs[-1] > xs[0]:
            mx, my = statistics.fmean(xs), statistics.fmean(ys)
            sxx = sum((x - mx) ** 2 for x in xs)
            sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
            out["slope_kb_per_min"] = round(60 * sxy / sxx, 1) if sxx else 0.0
    print(json.dumps(out))


# ---------------------------------------------------------------- memory

def memsnap(pid):
    out = {}
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "VmSize"):
                    out[k] = int(v.split()[0])
        groups = {}
        name = ""
        with open("/proc/%s/smaps" % pid) as f:
            for line in f:
                if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                    p = line.split(None, 5)
                    name = p[5].strip() if len(p) > 5 else ""
                elif line.startswith("Rss:"):
                    kb = int(line.split()[1])
                    if "bpf-map" in name:
                        g = "bpf_maps"
                    elif re.search(r"libLLVM|libclang", name):
                        g = "llvm_clang_libs"
                    elif name == "[heap]" or name == "":
                        g = "heap_anon"
                    elif name.startswith("/"):
                        g = "other_files"
                    else:
                        g = "other"
                    groups[g] = groups.get(g, 0) + kb
        out["by_kind_kb"] = groups
    except OSError as e:
        out["error"] = str(e)
    return out


def cmd_memsnap(args):
    print(json.dumps(memsnap(args[0])))


def prog_name(libc, pidfd, fd):
    """The program's name (the kernel keeps 15 characters) through a copy of
    its fd (pidfd_getfd) and BPF_OBJ_GET_INFO_BY_FD; None if not allowed."""
    import struct
    if pidfd < 0:
        return None
    mine = libc.syscall(438, pidfd, int(fd), 0)  # pidfd_getfd
    if mine < 0:
        return None
    try:
        buf = ctypes.create_string_buffer(256)
        attr = ctypes.create_string_buffer(struct.pack("IIQ", mine, 256, ctypes.addressof(buf)), 16)
        nr_bpf = {"x86_64": 321, "aarch64": 280}.get(os.uname().machine, 321)
        if libc.syscall(nr_bpf, 15, attr, 16) < 0:  # BPF_OBJ_GET_INFO_BY_FD
            return None
        return buf.raw[64:80].split(b"\0")[0].decode(errors="replace")  # bpf_prog_info.name
    finally:
        os.close(mine)


def cmd_progs(args):
    pid = args[0]
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(434, int(pid), 0)  # pidfd_open
    progs = []
    for fd in os.listdir("/proc/%s/fd" % pid):
        try:
            if os.readlink("/proc/%s/fd/%s" % (pid, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%s/fdinfo/%s" % (pid, fd)) as f:
                info = dict(l.split(":", 1) for l in f if ":" in l)
        except OSError:
            continue
        progs.append((int(info.get("verified_insns", "0").strip() or 0), prog_name(libc, pidfd, fd)))
    if pidfd >= 0:
        os.close(pidfd)
    progs.sort(key=lambda p: -p[0])
    total = sum(p[0] for p in progs)
    heavy = [p for p in progs if p[0] >= 10000]
    print(json.dumps({"programs": len(progs), "verified_insns": total,
                      "heavy_programs": len(heavy), "heavy_insns": sum(p[0] for p in heavy),
                      "top": [[p[1], p[0]] for p in progs[:8]]}))


def progstats(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(434, int(pid), 0)  # pidfd_open
    out = {}
    try:
        fds = os.listdir("/proc/%s/fd" % pid)
    except OSError:
        fds = []
    for fd in fds:
        try:
            if os.readlink("/proc/%s/fd/%s" % (pid, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%s/fdinfo/%s" % (pid, fd)) as f:
                info = dict((k.strip(), v.strip()) for k, v in (l.split(":", 1) for l in f if ":" in l))
        except OSError:
            continue
        pid_ = info.get("prog_id")
        if pid_ is None or pid_ in out:
            continue
        out[pid_] = {"name": prog_name(libc, pidfd, fd), "cnt": int(info.get("run_cnt", 0) or 0),
                     "ns": int(info.get("run_time_ns", 0) or 0)}
    if pidfd >= 0:
        os.close(pidfd)
    return out


def cmd_progstats(args):
    now = progstats(args[0])
    since = opt(args, "--since")
    if since:
        try:
            with open(since) as f:
                old = json.load(f).get("progs", {})
        except (OSError, ValueError):
            old = {}
        for k, v in now.items():
            o = old.get(k)
            if o:
                v["cnt"] -= o["cnt"]
                v["ns"] -= o["ns"]
    print(json.dumps({"progs": now, "total_ns": sum(v["ns"] for v in now.values()),
                      "total_cnt": sum(v["cnt"] for v in now.values())}))


def cmd_spawn(args):
    rate, secs = float(args[0]), float(args[1])
    t0 = time.monotonic()
    n = 0
    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            break
        due = t0 + n / rate
        if due > now:
            time.sleep(due - now)
        p = os.posix_spawn("/bin/true", ["true"], os.environ)
        os.waitpid(p, 0)
        n += 1
    el = time.monotonic() - t0
    print(json.dumps({"spawned": n, "seconds": round(el, 3), "rate": round(n / el, 1)}))


def cmd_other_bpf(args):
    mine = set(args)
    procs = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid in mine or int(pid) == os.getpid():
            continue
        n = 0
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == "anon_inode:bpf-prog":
                        n += 1
                except OSError:
                    pass
            if n:
                with open("/proc/%s/comm" % pid) as f:
                    procs.append("%s(%s):%d" % (f.read().strip(), pid, n))
        except OSError:
            continue
    print(json.dumps({"count": len(procs), "procs": procs}))


# ---------------------------------------------------------------- profiles

def cmd_perf_top(args):
    n = int(args[1]) if len(args) > 1 else 12
    top, groups = [], {"bpf_programs": 0.0, "bpf_helpers_ringbuf": 0.0, "tracepoint_dispatch": 0.0,
                       "kernel": 0.0, "user": 0.0}
    with open(args[0], errors="replace") as f:
        for line in f:
            m = re.match(r"^\s+([\d.]+)%\s+\[([.k])\]\s+(\S+)", line)
            if not m:
                continue
            pct, where, sym = float(m.group(1)), m.group(2), m.group(3)
            if len(top) < n:
                top.append([sym, pct])
            if where == "k":
                groups["kernel"] += pct
                if sym.startswith("bpf_prog_"):
                    groups["bpf_programs"] += pct
                elif re.match(r"(bpf_ringbuf|__bpf_ringbuf|ringbuf_|bpf_probe_read|bpf_get_|"
                              r"copy_from_user_nofault|htab_|__htab|lookup_elem|bpf_map|"
                              r"__bpf_prog|bpf_trace)", sym):
                    groups["bpf_helpers_ringbuf"] += pct
                elif re.match(r"(trace_call_bpf|perf_syscall|perf_trace|__traceiter|"
                              r"syscall_trace|trace_sys|__trace_|perf_call_bpf|bpf_trace_run)", sym):
                    groups["tracepoint_dispatch"] += pct
            else:
                groups["user"] += pct
    print(json.dumps({"top": top, "groups": {k: round(v, 2) for k, v in groups.items()}}))


def cmd_callgrind_top(args):
    n = int(args[1]) if len(args) > 1 else 10
    total, top = None, []
    with open(args[0], errors="replace") as f:
        for line in f:
            m = re.match(r"^\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)$", line)
            if not m:
                continue
            ir = int(m.group(1).replace(",", ""))
            what = m.group(3).strip()
            if what.startswith("PROGRAM TOTALS"):
                total = ir
                continue
            fn = what.split(" [")[0]
            fn = fn.rsplit(":", 1)[-1] if ":" in fn else fn
            if len(top) < n:
                top.append([fn, float(m.group(2))])
    print(json.dumps({"ir": total, "top": top}))


# ---------------------------------------------------------------- report

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def spread(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "n": len(xs),
            "values": xs}


def fmt(x, nd=2, unit=""):
    if x is None:
        return "-"
    if isinstance(x, float):
        s = ("%%.%df" % nd) % x
    else:
        s = str(x)
    return s + unit


def fmt_spread(s, nd=2, unit=""):
    if not s:
        return "-"
    if s["n"] == 1:
        return fmt(s["median"], nd, unit)
    return "%s [%s–%s]" % (fmt(s["median"], nd, unit), fmt(s["min"], nd), fmt(s["max"], nd))


def get(d, *path):
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


class Table:
    def __init__(self, title, cols):
        self.title, self.cols, self.rows, self.notes = title, cols, [], []

    def add(self, *cells):
        self.rows.append([str(c) for c in cells])

    def note(self, s):
        self.notes.append(s)

    def text(self):
        w = [len(c) for c in self.cols]
        for r in self.rows:
            w = [max(a, len(b)) for a, b in zip(w, r)]
        out = ["", "== " + self.title]
        out.append("  ".join(c.ljust(x) for c, x in zip(self.cols, w)).rstrip())
        out.append("  ".join("-" * x for x in w))
        for r in self.rows:
            out.append("  ".join(c.ljust(x) for c, x in zip(r, w)).rstrip())
        for n in self.notes:
            out.append("  " + n)
        return "\n".join(out)

    def md(self):
        out = ["", "#### " + self.title, "",
               "| " + " | ".join(self.cols) + " |",
               "|" + "|".join("---" for _ in self.cols) + "|"]
        for r in self.rows:
            out.append("| " + " | ".join(r) + " |")
        if self.notes:
            out.append("")
            out.extend("- " + n for n in self.notes)
        return "\n".join(out)


OVERHEAD_NAMES = {"a": "(a) bare", "b": "(b) trace all, JSON to file",
                  "c": "(c) -p nginx worker", "d": "(d) probe returns at once",
                  "b0": "(b0) trace all, baseline binary", "c0": "(c0) -p worker, baseline binary",
                  "b_sys": "(b_sys) trace all, HTTPSNOOP_HOOKS=syscall",
                  "c_sys": "(c_sys) -p worker, HTTPSNOOP_HOOKS=syscall",
                  "e": "(e) tshark -i lo -Y http, live",
                  "f": "(f) copy floor (bench/copyfloor.c)",
                  "g": "(g) copy floor, nginx worker only (-p)",
                  "h": "(h) trace all, JSON to /dev/null"}
OVERHEAD_ORDER = ("a", "b", "b_sys", "c", "c_sys", "d", "h", "f", "g", "b0", "c0", "e")
META = {}  # the run's meta (cmd_report), for notes that depend on how it ran


def load_words():
    """How loadgen ran in the scenarios that take --cpu-rate."""
    return "at saturation (loadgen -r 0)" if META.get("cpu_rate") == 0 else "at a fixed rate"


def paired(by, rounds, x, y, *path):
    """x over y, a figure (default: wrk's req/s) paired per round -> spread."""
    path = path or ("wrk", "rps")
    out = []
    for r in rounds:
        a, b = get(by.get((x, r)), *path), get(by.get((y, r)), *path)
        if a is not None and b:
            out.append(a / b)
    return spread(out)


def hooks_note(t, rows):
    """The --hooks-compare note: what the _sys rows are, and whether they
    differ from the default ones at all."""
    hc = META.get("hooks_compare")
    if not hc:
        return
    t.note("%s: the same binary with HTTPSNOOP_HOOKS=syscall (the syscall-tracepoint path), in the same rounds; "
           "the rows without _sys: its default hooks" % rows)
    if not hc.get("binary_reads_HTTPSNOOP_HOOKS"):
        t.note("this binary does not read HTTPSNOOP_HOOKS: both rows ran the same path (their difference is noise)")


def tshark_kept_up(m, wrk):
    """Whether live tshark printed every response wrk got, and how long it
    took after the load ended."""
    ts = m.get("tshark") or {}
    reqs = get(wrk, "requests")
    if not ts or ts.get("responses") is None:
        return None, "-"
    ok = reqs is not None and ts["responses"] >= reqs and (ts.get("drain_s") or 0) <= 1.0 \
        and not ts.get("dropped")
    return ok, "%s (%s/%s responses, %ss behind, %s packets dropped)" % (
        "yes" if ok else "NO", ts["responses"], reqs, ts.get("drain_s"), ts.get("dropped"))


def report_overhead(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "overhead"]
    if not fs:
        return
    rounds = sorted({f["round"] for f in fs})
    by = {(f["config"], f["round"]): f["m"] for f in fs}
    t = Table("1. overhead at saturation: nginx 1 worker, wrk keep-alive (median [min–max] over rounds; ratios paired per round)",
              ["config", "req/s", "ratio", "p99 ms", "p99 ratio", "txns/s seen", "lost ev", "tracer CPU %", "others' CPU %", "other tracers", "rounds"])
    res = {}
    for c in OVERHEAD_ORDER:
        rps = [get(by.get((c, r)), "wrk", "rps") for r in rounds]
        p99 = [get(by.get((c, r)), "wrk", "p99_us") for r in rounds]
        ratio, p99r = [], []
        for r in rounds:
            a = by.get(("a", r))
            x = by.get((c, r))
            if a and x and get(a, "wrk", "rps") and get(x, "wrk", "rps") is not None:
                ratio.append(get(x, "wrk", "rps") / get(a, "wrk", "rps"))
            if a and x and get(a, "wrk", "p99_us") and get(x, "wrk", "p99_us") is not None:
                p99r.append(get(x, "wrk", "p99_us") / get(a, "wrk", "p99_us"))
        seen = []
        lost = []
        kept = []
        for r in rounds:
            m = by.get((c, r)) or {}
            if m.get("tshark") and m.get("duration_s"):
                seen.append(get(m, "tshark", "responses") / m["duration_s"])
                kept.append(tshark_kept_up(m, m.get("wrk")))
            if m.get("copyfloor") and m.get("duration_s") and get(m, "copyfloor", "records") is not None:
                seen.append(get(m, "copyfloor", "records") / m["duration_s"])
            if m.get("hs") and m.get("duration_s"):
                seen.append(get(m, "hs", "transactions") / m["duration_s"]
                            if get(m, "hs", "transactions") is not None else None)
                lost.append(get(m, "hs", "lost_events"))
        rps_s, p99_s = spread(rps), spread([x / 1000 for x in p99 if x is not None])
        oth = spread([get(by.get((c, r)), "others_pct") for r in rounds])
        trc = spread([100 * get(by.get((c, r)), "tracer_cpu_s") / get(by.get((c, r)), "duration_s")
                      for r in rounds if get(by.get((c, r)), "tracer_cpu_s") is not None])
        res[c] = {"rps": rps_s, "ratio": spread(ratio), "p99_ms": p99_s, "p99_ratio": spread(p99r),
                  "hs_txns_per_s": spread(seen), "lost_events": spread(lost)}
        if not rps_s:
            continue
        if kept:
            res[c]["kept_up"] = [k[1] for k in kept]
            lost_cell = "kept up %d/%d" % (len([k for k in kept if k[0]]), len(kept))
        else:
            lost_cell = fmt(med(lost), 0) if c != "a" else ""
        t.add(OVERHEAD_NAMES[c], fmt_spread(rps_s, 0), fmt_spread(spread(ratio), 3) if c != "a" else "1",
              fmt_spread(p99_s, 2), fmt_spread(spread(p99r), 2) if c != "a" else "1",
              fmt_spread(spread(seen), 0) if c != "a" else "", lost_cell,
              fmt_spread(trc, 0) if c != "a" else "", fmt_spread(oth, 0),
              fmt(max([get(by.get((c, r)), "other_bpf", "count") or 0 for r in rounds] or [0])),
              len([x for x in rps if x is not None]))
        res[c]["others_cpu_pct"] = oth
        res[c]["tracer_cpu_pct_of_one_cpu"] = trc
    if res.get("d", {}).get("ratio") and res["d"]["ratio"]["median"]:
        fl = res["d"]["ratio"]["median"]
        for c in ("b", "c"):
            if res.get(c, {}).get("ratio"):
                res[c]["of_floor"] = res[c]["ratio"]["median"] / fl
        t.note("of the floor (d): (b) %s, (c) %s  (ratio / floor ratio)" % (
            fmt(res.get("b", {}).get("of_floor"), 3), fmt(res.get("c", {}).get("of_floor"), 3)))
    if res.get("h", {}).get("rps") and res.get("b", {}).get("rps"):
        vs = paired(by, rounds, "b", "h")
        res["h"]["file_over_null"] = vs
        t.note("what writing the JSON to a file costs, paired per round: (b) / (h) %s  ((h) is (b) with its output going to /dev/null: "
               "the same tracing, parsing and formatting, without the kernel's page-cache writes)" % fmt_spread(vs, 3))
    if res.get("f", {}).get("rps"):
        vs = {c: paired(by, rounds, c, "f") for c in ("b", "c", "h")}
        res["f"]["httpsnoop_over_copy_floor"] = vs
        t.note("of the copy floor (f), paired per round: (b) / (f) %s, (c) / (f) %s, (h) / (f) %s  (f copies each TCP I/O's payload, up to 1 KB, "
               "to user space and does nothing else: what any payload tracer on these hooks pays; its txns/s column counts records, 4 a request)" % (
                   fmt_spread(vs["b"], 3), fmt_spread(vs["c"], 3), fmt_spread(vs["h"], 3)))
    if res.get("g", {}).get("rps"):
        vs = paired(by, rounds, "c", "g")
        res["g"]["httpsnoop_p_over_copy_floor_p"] = vs
        t.note("of the copy floor of one process (g), paired per round: (c) / (g) %s  ((g) is (f) copying nginx's worker's I/O alone, "
               "its tgid compiled in: the floor of -p, where every other process's socket I/O still runs the programs; 2 records a request)" % (
                   fmt_spread(vs, 3)))
    if res.get("e", {}).get("rps"):
        vs = {c: paired(by, rounds, c, "e") for c in ("b", "c")}
        res["e"]["httpsnoop_over_tshark"] = vs
        t.note("beside the user's alternative, paired per round: (b) / (e) %s, (c) / (e) %s  (above 1: httpsnoop costs nginx less than live tshark)" % (
            fmt_spread(vs["b"], 3), fmt_spread(vs["c"], 3)))
    if res.get("b_sys", {}).get("rps") or res.get("c_sys", {}).get("rps"):
        vs = {c: paired(by, rounds, c + "_sys", c) for c in ("b", "c")}
        summary.setdefault("hooks_compare", {})["overhead_syscall_over_default"] = vs
        t.note("syscall hooks over the default, req/s paired per round: trace all %s, -p %s" % (
            fmt_spread(vs["b"], 3), fmt_spread(vs["c"], 3)))
        hooks_note(t, "(b_sys), (c_sys)")
    t.note("txns/s seen: httpsnoop's transactions per second (trace all counts the client side too), tshark's responses per second; tracer CPU: % of one CPU (tshark: tshark + dumpcap)")
    if res.get("e", {}).get("kept_up"):
        t.note("(e) kept up: every response wrk got printed by tshark within 1 s of the load's end, no packet dropped (dumpcap's count); per round: " +
               "; ".join(res["e"]["kept_up"]))
    t.note("issue 14's targets: ratio (b) >= 0.80, (c) >= 0.88")
    t.note("others' CPU: CPU used by processes outside the benchmark during the run, % of the whole machine (noise indicator)")
    t.note("other tracers: most processes outside the benchmark holding BPF programs at the start of a run (their probes also run in (a))")
    summary["overhead"] = res
    tables.append(t)


def report_completeness(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "completeness"]
    if not fs:
        return
    t = Table("2. completeness under load: nginx (access log on) vs httpsnoop -p <worker> -f json",
              ["target/s", "achieved/s", "log lines", "matched", "captured", "missing", "extra",
               "lost ev", "lost B", "gap B", "kgap B", "unpaired rq/rs", "parse err", "tbl full", "explained"])
    res = []
    for f in sorted(fs, key=lambda f: (f["m"].get("target_rate", 0), f["round"])):
        m = f["m"]
        c = m.get("match") or {}
        h = m.get("hs") or {}
        lg = m.get("load") or {}
        missing = c.get("missing")
        counters = {k: h.get(k, 0) or 0 for k in (
            "lost_events", "lost_bytes", "gap_bytes", "kernel_gap_bytes", "unpaired_requests",
            "unpaired_responses", "parse_errors", "reorder_overflows", "conn_table_full",
            "unreadable_buffers", "resync_bytes", "evicted_connections", "bad_records")}
        # A missing transaction is explained when some loss counter moved.
        # Lost ring-buffer records are the usual cause: each transaction
        # here is at least two records (request, response), and one lost
        # record costs at most the transaction it belongs to (the next
        # keep-alive request resynchronises), so missing <= lost events +
        # table-full connections' requests + unpaired/parse errors.
        bound = (counters["lost_events"] + counters["unpaired_requests"] +
                 counters["unpaired_responses"] + counters["parse_errors"] +
                 counters["reorder_overflows"] + counters["unreadable_buffers"])
        if missing is None:
            expl = "-"
        elif missing == 0 and (c.get("extra") or 0) == 0:
            expl = "nothing missing"
        elif missing > 0 and counters["conn_table_full"] > 0:
            expl = "yes (conn table full)"
        elif missing > 0 and bound >= missing:
            expl = "yes (<= counters)"
        elif missing > 0 and bound > 0:
            expl = "partly (%d > counters %d)" % (missing, bound)
        elif missing > 0:
            expl = "NO: no counter moved"
        else:
            expl = "extra only"
        row = {"target_rate": m.get("target_rate"), "achieved_rate": lg.get("rate"),
               "client_ok": lg.get("ok"), "client_errors": lg.get("errors"),
               "match": c, "counters": counters, "explained": expl, "round": f["round"],
               "hs": h}
        res.append(row)
        cap = c.get("captured")
        t.add(fmt(m.get("target_rate"), 0), fmt(lg.get("rate"), 0), fmt(c.get("log_lines")),
              fmt(c.get("matched")), "-" if cap is None else "%.4f%%" % (100 * cap),
              fmt(missing), fmt(c.get("extra")),
              fmt(counters["lost_events"]), fmt(counters["lost_bytes"]), fmt(counters["gap_bytes"]),
              fmt(counters["kernel_gap_bytes"]),
              "%s/%s" % (counters["unpaired_requests"], counters["unpaired_responses"]),
              fmt(counters["parse_errors"]), fmt(counters["conn_table_full"]), expl)
    t.note("matched: same (remote port, method, target, status) in both; extra: httpsnoop transactions not in the log")
    summary["completeness"] = res
    tables.append(t)


def report_cpu(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "cpu"]
    if not fs:
        return
    rounds = sorted({f["round"] for f in fs})
    by = {(f["config"], f["round"]): f["m"] for f in fs}
    configs = []
    for f in fs:
        if f["config"] not in configs:
            configs.append(f["config"])
    t = Table("3. CPU cost %s (µs per request unless said; median [min–max] over rounds)" % load_words(),
              ["config", "achieved/s", "requests", "hs txns", "probe+user µs/txn", "probe (BPF) µs/txn",
               "user (tracer) µs/txn", "tracer µs/req", "nginx+client Δ µs/req", "tracer+Δ µs/req", "others' CPU %",
               "other tracers"])
    res = {}
    for c in configs:
        cols = {k: [] for k in ("rate", "reqs", "txns", "tr", "tr_k", "bpf", "delta", "total", "others",
                                "bpf_t", "both_t")}
        for r in rounds:
            m = by.get((c, r))
            a = by.get(("bare", r))
            if not m:
                continue
            reqs = get(m, "load", "ok")
            if not reqs:
                continue
            cols["rate"].append(get(m, "load", "rate"))
            cols["others"].append(m.get("others_pct"))
            cols["reqs"].append(reqs)
            peer = (m.get("nginx_cpu_s") or 0) + (get(m, "load", "cpu_user_s") or 0) + \
                (get(m, "load", "cpu_sys_s") or 0)
            if c != "bare":
                txns = get(m, "hs", "transactions")
                cols["txns"].append(txns)
                tr = m.get("tracer_cpu_s")
                if tr is not None:
                    cols["tr"].append(tr * 1e6 / reqs)
                    if txns:
                        cols["tr_k"].append(tr * 1e6 / txns)
                if m.get("bpf_run_ns") is None and get(m, "progs", "total_ns") is not None:
                    m["bpf_run_ns"] = get(m, "progs", "total_ns")
                if m.get("bpf_run_ns") is not None:
                    cols["bpf"].append(m["bpf_run_ns"] / 1e3 / reqs)
                    if txns:
                        cols["bpf_t"].append(m["bpf_run_ns"] / 1e3 / txns)
                        if tr is not None:
                            cols["both_t"].append(tr * 1e6 / txns + m["bpf_run_ns"] / 1e3 / txns)
                if a and get(a, "load", "ok"):
                    apeer = (a.get("nginx_cpu_s") or 0) + (get(a, "load", "cpu_user_s") or 0) + \
                        (get(a, "load", "cpu_sys_s") or 0)
                    d = peer * 1e6 / reqs - apeer * 1e6 / get(a, "load", "ok")
                    cols["delta"].append(d)
                    if tr is not None:
                        cols["total"].append(tr * 1e6 / reqs + d)
            else:
                cols["delta"].append(None)
                cols["tr"].append(None)
                cols["bpf"].append(None)
                cols["total"].append(peer * 1e6 / reqs)  # bare: peers' own µs/request
        s = {k: spread(v) for k, v in cols.items()}
        ot = fmt(max([get(by.get((c, r)), "other_bpf", "count") or 0 for r in rounds] or [0]))
        res[c] = s
        if c == "bare":
            t.add("bare (nginx+client µs/req: %s)" % fmt_spread(s["total"], 1),
                  fmt_spread(s["rate"], 0), fmt_spread(s["reqs"], 0), "", "", "", "", "", "", "",
                  fmt_spread(s["others"], 0), ot)
        else:
            t.add(c, fmt_spread(s["rate"], 0), fmt_spread(s["reqs"], 0), fmt_spread(s["txns"], 0),
                  fmt_spread(s["both_t"], 2), fmt_spread(s["bpf_t"], 2), fmt_spread(s["tr_k"], 2),
                  fmt_spread(s["tr"], 2), fmt_spread(s["delta"], 2), fmt_spread(s["total"], 2),
                  fmt_spread(s["others"], 0), ot)
    t.note("per txn: per transaction httpsnoop reported (with 'all' the client side counts too, and any other traffic on the machine); all0/pid0: the --baseline binary")
    if "all_sys" in configs or "pid_sys" in configs:
        hooks_note(t, "all_sys, pid_sys")
    t.note("probe+user: the tracer's CPU per transaction, the issue's headline figure; probe: run_time_ns of its BPF programs (BPF_ENABLE_STATS), spent in the traced processes' syscalls; user: httpsnoop's user+sys (/proc/PID/stat, 10 ms ticks)")
    t.note("nginx+client Δ: their CPU per request, traced minus bare in the same round: the kernel side measured from outside (BPF + tracepoint dispatch + ring buffer); noisy")
    summary["cpu"] = res
    tables.append(t)
    progs_table("3b. the probe's programs %s (median over rounds)" % load_words(), fs, configs, tables, summary, "cpu_progs")


def progs_table(title, fs, configs, tables, summary, key):
    """Per BPF program: runs and run time per transaction, and ns per run
    (BPF_ENABLE_STATS): which program the kernel-side cost is in."""
    t = Table(title, ["config", "program", "runs/txn", "ns/run", "ns/txn"])
    res = {}
    for c in configs:
        per = {}
        for f in fs:
            if f["config"] != c:
                continue
            m = f["m"]
            txns = get(m, "hs", "transactions")
            progs = get(m, "progs", "progs") or {}
            if not txns or not progs:
                continue
            byname = {}
            for v in progs.values():
                b = byname.setdefault(v.get("name") or "?", [0, 0])
                b[0] += v["cnt"]
                b[1] += v["ns"]
            for name, (cnt, ns) in byname.items():
                p = per.setdefault(name, {"runs": [], "ns_run": [], "ns_txn": []})
                p["runs"].append(cnt / txns)
                p["ns_run"].append(ns / cnt if cnt else None)
                p["ns_txn"].append(ns / txns)
        res[c] = {n: {k: med(v) for k, v in p.items()} for n, p in per.items()}
        for name, p in sorted(res[c].items(), key=lambda x: -(x[1]["ns_txn"] or 0)):
            if not p["ns_txn"]:
                continue
            t.add(c, name, fmt(p["runs"], 2), fmt(p["ns_run"], 0), fmt(p["ns_txn"], 0))
    if t.rows:
        t.note("program names are the kernel's first 15 characters; programs reached by tail call (hs_data, hs_emit_*) are not counted apart: their time is in the caller's row")
        summary[key] = res
        tables.append(t)


def report_https(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "https"]
    if not fs:
        return
    rounds = sorted({f["round"] for f in fs if f["round"] != "stats" and f["config"] != "uprobe"}, key=str)
    by = {(f["config"], f["round"]): f["m"] for f in fs}
    t = Table("3c. HTTPS: nginx over TLS (1 worker), wrk -t1 -c16 https keep-alive (median [min–max]; ratios paired per round)",
              ["config", "req/s", "ratio", "p99 ms", "txns/s seen", "lost ev", "tracer CPU %", "nginx CPU µs/req", "nginx busy %",
               "wrk CPU µs/req", "others' CPU %", "rounds"])
    res = {}
    names = {"bare": "bare", "pid": "-p nginx worker", "floor": "-p, probe returns at once",
             "pid0": "-p worker, baseline binary"}
    for c in ("bare", "pid", "floor", "pid0"):
        rps = [get(by.get((c, r)), "wrk", "rps") for r in rounds]
        if not [x for x in rps if x is not None]:
            continue
        ratio = []
        for r in rounds:
            a, x = by.get(("bare", r)), by.get((c, r))
            if a and x and get(a, "wrk", "rps") and get(x, "wrk", "rps") is not None:
                ratio.append(get(x, "wrk", "rps") / get(a, "wrk", "rps"))
        p99 = spread([get(by.get((c, r)), "wrk", "p99_us") / 1000 for r in rounds
                      if get(by.get((c, r)), "wrk", "p99_us") is not None])
        seen = spread([get(by.get((c, r)), "hs", "transactions") / by[(c, r)]["duration_s"] for r in rounds
                       if get(by.get((c, r)), "hs", "transactions") is not None])
        lost = med([get(by.get((c, r)), "hs", "lost_events") for r in rounds])
        trc = spread([100 * get(by.get((c, r)), "tracer_cpu_s") / by[(c, r)]["duration_s"] for r in rounds
                      if c != "bare" and get(by.get((c, r)), "tracer_cpu_s") is not None])
        oth = spread([get(by.get((c, r)), "others_pct") for r in rounds])
        # The client is not traced: what it pays is the uprobes' traps
        # in its own SSL calls (it maps nginx's libssl) and the socket
        # hooks' first check.
        cli = spread([1e6 * get(by.get((c, r)), "wrk_cpu_s") / get(by.get((c, r)), "wrk", "requests") for r in rounds
                      if get(by.get((c, r)), "wrk_cpu_s") is not None and get(by.get((c, r)), "wrk", "requests")])
        # nginx's one worker is what limits req/s: its CPU per request
        # is where the probe's cost lands, and how busy it was says
        # whether it had all of one CPU.
        ngx = spread([1e6 * get(by.get((c, r)), "nginx_cpu_s") / get(by.get((c, r)), "wrk", "requests") for r in rounds
                      if get(by.get((c, r)), "nginx_cpu_s") is not None and get(by.get((c, r)), "wrk", "requests")])
        busy = spread([100 * get(by.get((c, r)), "nginx_cpu_s") / by[(c, r)]["duration_s"] for r in rounds
                       if get(by.get((c, r)), "nginx_cpu_s") is not None])
        res[c] = {"rps": spread(rps), "ratio": spread(ratio), "p99_ms": p99, "hs_txns_per_s": seen,
                  "others_cpu_pct": oth, "wrk_cpu_us_per_req": cli, "nginx_cpu_us_per_req": ngx,
                  "nginx_busy_pct": busy}
        t.add(names[c], fmt_spread(spread(rps), 0), fmt_spread(spread(ratio), 3) if c != "bare" else "1",
              fmt_spread(p99, 2), fmt_spread(seen, 0) if c != "bare" else "", fmt(lost, 0) if c != "bare" else "",
              fmt_spread(trc, 0) if c != "bare" else "", fmt_spread(ngx, 2), fmt_spread(busy, 0),
              fmt_spread(cli, 2), fmt_spread(oth, 0), len(ratio) if c != "bare" else len(rps))
    m = by.get(("pid", "stats"))
    if m and get(m, "hs", "transactions"):
        txns = get(m, "hs", "transactions")
        bpf = get(m, "progs", "total_ns")
        tr = m.get("tracer_cpu_s")
        res["stats_run"] = {"txns": txns, "bpf_us_per_txn": bpf / 1e3 / txns if bpf is not None else None,
                            "user_us_per_txn": tr * 1e6 / txns if tr is not None else None}
        t.note("a further -p run with BPF statistics on: %s txns; probe %s µs/txn + user space %s µs/txn" % (
            txns, fmt(res["stats_run"]["bpf_us_per_txn"], 2), fmt(res["stats_run"]["user_us_per_txn"], 2)))
    fl = get(res.get("floor"), "ratio", "median")
    if fl:
        fr = get(res.get("pid"), "ratio", "median")
        t.note("probe returns at once: every program returns at its first instruction, so what is left is attaching, the OpenSSL uprobes' traps (an entry and a return each call; an entry alone for a write where OpenSSL's writes are in uprobe sessions) most of it; -p is %s of that floor" % (
            fmt(fr / fl, 3) if fr else "-"))
    nb, nf, npid = (get(res.get(c), "nginx_cpu_us_per_req", "median") for c in ("bare", "floor", "pid"))
    if nb and nf and npid:
        t.note("nginx CPU per request: %s µs bare; the probe's traps and hooks with empty programs (floor) add %s µs, its programs' work %s µs more" % (
            fmt(nb, 2), fmt(nf - nb, 2), fmt(npid - nf, 2)))
    u = by.get(("uprobe", 0))
    if get(u, "uprobe", "entry_return_ns") is not None:
        up = u["uprobe"]
        res["uprobe"] = {k: up.get(k) for k in ("bare_ns", "entry_ns", "entry_return_ns", "single_step_ns")}
        t.note("a uprobe on this machine (bench/uprobecost.c, an empty program, medians of %s rounds): %s ns a call at an entry the kernel emulates, %s ns with a return probe too, %s ns at one it must single-step (a loop's bare call: %s ns); nginx makes 3 OpenSSL calls a request" % (
            up.get("rounds"), fmt(up.get("entry_ns"), 0), fmt(up.get("entry_return_ns"), 0),
            fmt(up.get("single_step_ns"), 0), fmt(up.get("bare_ns"), 1)))
    t.note("wrk CPU: the untraced client's user+sys CPU per request (/usr/bin/time): it maps the same libssl as nginx")
    t.note("issue 14's target for -p over TLS: ratio >= 0.60")
    summary["https"] = res
    tables.append(t)
    progs_table("3d. HTTPS: the probe's programs per transaction (the -p run with BPF statistics)",
                [f for f in fs if f["round"] == "stats"], ["pid"], tables, summary, "https_progs")


def report_gotls(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "gotls"]
    if not fs:
        return
    rounds = sorted({f["round"] for f in fs})
    by = {(f["config"], f["round"]): f["m"] for f in fs}
    t = Table("8. Go HTTPS: tests/go client against tests/go server (crypto/tls, HTTP/1.1, 16 keep-alive connections), saturation; median [min–max] over rounds, ratios paired per round",
              ["config", "req/s", "ratio", "hs txns", "tracer µs/txn", "tracer CPU %", "Go server+client µs/req",
               "lost ev", "others' CPU %", "other tracers", "rounds"])
    res = {}
    for c in ("bare", "traced", "traced0"):
        cols = {k: [] for k in ("rps", "ratio", "txns", "tr_t", "tr_pct", "peer", "lost", "others")}
        for r in rounds:
            m = by.get((c, r))
            a = by.get(("bare", r))
            if not m or not m.get("requests") or not m.get("duration_s"):
                continue
            rps = m["requests"] / m["duration_s"]
            cols["rps"].append(rps)
            cols["others"].append(m.get("others_pct"))
            cols["peer"].append(((m.get("server_cpu_s") or 0) + (m.get("client_cpu_s") or 0)) * 1e6 / m["requests"])
            if a and a.get("requests") and a.get("duration_s"):
                cols["ratio"].append(rps / (a["requests"] / a["duration_s"]))
            if c != "bare":
                txns = get(m, "hs", "transactions")
                tr = m.get("tracer_cpu_s")
                cols["txns"].append(txns)
                cols["lost"].append(get(m, "hs", "lost_events"))
                if tr is not None:
                    cols["tr_pct"].append(100 * tr / m["duration_s"])
                    if txns:
                        cols["tr_t"].append(tr * 1e6 / txns)
        s = {k: spread(v) for k, v in cols.items()}
        res[c] = s
        if not s["rps"]:
            continue
        traced = c != "bare"
        t.add(c, fmt_spread(s["rps"], 0), fmt_spread(s["ratio"], 3) if traced else "1",
              fmt_spread(s["txns"], 0) if traced else "", fmt_spread(s["tr_t"], 2) if traced else "",
              fmt_spread(s["tr_pct"], 0) if traced else "", fmt_spread(s["peer"], 1),
              fmt(med(cols["lost"]), 0) if traced else "", fmt_spread(s["others"], 0),
              fmt(max([get(by.get((c, r)), "other_bpf", "count") or 0 for r in rounds] or [0])),
              len(cols["rps"]))
    t.note("hs txns: transactions httpsnoop reported: two per request (the client's and the server's side); tracer µs/txn: its user+sys CPU per transaction; traced0: the --baseline binary")
    t.note("tracer CPU: % of one CPU during the run; Go server+client: their CPU per request (the probe's run time in their syscalls and uprobes is in it)")
    summary["gotls"] = res
    tables.append(t)


def report_replay(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "replay"]
    if not fs:
        return
    rec = [f for f in fs if f["config"] == "record"]
    hs = [f["m"] for f in fs if f["config"] == "replay"]
    ts = [f["m"] for f in fs if f["config"] == "tshark"]
    t = Table("4. offline: httpsnoop --replay -f json -o /dev/null vs tshark -Y http on a pcap of the same traffic",
              ["tool", "seconds", "txns (msgs)", "txns/s", "payload MB/s", "ratio"])
    res = {}
    if rec:
        r = rec[-1]["m"]
        res["recording"] = r
        t.note("traffic: %s requests of %s; recording %s MB (%s txns, %s events), pcap %s MB (%s packets, %s dropped)" % (
            fmt(get(r, "load", "ok")), r.get("path"), fmt((r.get("rec_bytes") or 0) / 1e6, 1),
            fmt(get(r, "hs", "transactions")), fmt(get(r, "hs", "events")),
            fmt((r.get("pcap_bytes") or 0) / 1e6, 1), fmt(r.get("pcap_packets")), fmt(r.get("pcap_dropped"))))
    hs_s = spread([m.get("seconds") for m in hs])
    ts_s = spread([m.get("seconds") for m in ts])
    payload = get(rec[-1]["m"], "hs", "bytes") if rec else None
    ht = med([get(m, "hs", "transactions") for m in hs])
    tt = med([m.get("transactions") for m in ts])
    ratios = []
    rounds = sorted({f["round"] for f in fs if f["config"] in ("replay", "tshark")})
    for r in rounds:
        a = [f["m"] for f in fs if f["config"] == "replay" and f["round"] == r]
        b = [f["m"] for f in fs if f["config"] == "tshark" and f["round"] == r]
        if a and b and a[0].get("seconds") and b[0].get("seconds") and get(a[0], "hs", "transactions") and b[0].get("transactions"):
            ratios.append((get(a[0], "hs", "transactions") / a[0]["seconds"]) /
                          (b[0]["transactions"] / b[0]["seconds"]))
    if hs_s:
        rate = spread([get(m, "hs", "transactions") / m["seconds"] for m in hs if m.get("seconds")])
        mbs = spread([payload / 1e6 / m["seconds"] for m in hs if m.get("seconds") and payload])
        t.add("httpsnoop --replay", fmt_spread(hs_s, 3), fmt(int(ht)) if ht is not None else "-", fmt_spread(rate, 0), fmt_spread(mbs, 1),
              fmt_spread(spread(ratios), 1) + "×")
        res["httpsnoop"] = {"seconds": hs_s, "txns": ht, "txns_per_s": rate, "payload_mb_per_s": mbs}
    if ts_s:
        rate = spread([m["transactions"] / m["seconds"] for m in ts if m.get("seconds") and m.get("transactions")])
        mbs = spread([payload / 1e6 / m["seconds"] for m in ts if m.get("seconds") and payload])
        tm = med([m.get("messages") for m in ts])
        t.add("tshark -Y http -T fields", fmt_spread(ts_s, 3), "%s (%s)" % (fmt(int(tt)) if tt is not None else "-",
                                                                              fmt(int(tm)) if tm is not None else "-"),
              fmt_spread(rate, 0), fmt_spread(mbs, 1), "1")
        res["tshark"] = {"seconds": ts_s, "txns": tt, "txns_per_s": rate, "payload_mb_per_s": mbs}
    res["ratio"] = spread(ratios)
    t.note("payload MB/s: the payload bytes httpsnoop's records carry (both directions) per second of wall time, for both tools")
    summary["replay"] = res
    tables.append(t)


def intish(x):
    return int(x) if isinstance(x, float) and x.is_integer() else x


def report_h2(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "h2"]
    if not fs:
        return
    by = {}
    for f in fs:
        by.setdefault(f["config"], []).append(f["m"])
    res = {}
    t = Table("11. HTTP/2: h2load against nginx h2c (median [min–max] over rounds)",
              ["config", "req/s", "ratio to bare", "requests ok", "hs txns", "tracer µs/txn",
               "captured", "missing", "extra"])
    bare = {f["round"]: get(f["m"], "h2load", "rps") for f in fs if f["config"] == "tp-bare"}
    ratio = {c: [get(f["m"], "h2load", "rps") / bare[f["round"]] for f in fs
                 if f["config"] == c and bare.get(f["round"]) and get(f["m"], "h2load", "rps")]
             for c in ("tp-traced", "tp-traced0")}
    ratios = ratio["tp-traced"]
    for c in ("tp-bare", "tp-traced", "tp-traced0", "cpu-h1", "cpu-h2"):
        ms = by.get(c)
        if not ms:
            continue
        rps = spread([get(m, "h2load", "rps") for m in ms])
        ok = spread([get(m, "h2load", "ok") for m in ms])
        txns = spread([get(m, "hs", "transactions") for m in ms])
        per = spread([m["tracer_cpu_s"] * 1e6 / get(m, "hs", "transactions") for m in ms
                      if m.get("tracer_cpu_s") is not None and get(m, "hs", "transactions")])
        cap = spread([get(m, "match", "captured") for m in ms])
        miss = spread([get(m, "match", "missing") for m in ms])
        extra = spread([get(m, "match", "extra") for m in ms])
        t.add(c, fmt_spread(rps, 0), fmt_spread(spread(ratio[c]), 3) if c in ratio else "",
              fmt_spread(ok, 0), fmt_spread(txns, 0), fmt_spread(per, 2),
              fmt_spread(cap, 4), fmt_spread(miss, 0), fmt_spread(extra, 0))
        res[c] = {"rps": rps, "ok": ok, "txns": txns, "tracer_us_per_txn": per,
                  "captured": cap, "missing": miss, "extra": extra}
    res["throughput_ratio"] = spread(ratios)
    h1 = get(res, "cpu-h1", "tracer_us_per_txn", "median")
    h2 = get(res, "cpu-h2", "tracer_us_per_txn", "median")
    res["cpu_ratio_h2_to_h1"] = h2 / h1 if h1 and h2 else None
    t.note("tp-*: h2load -c16 -m10 for the round's duration, tracer on nginx's worker (-p); ratio: traced/bare req/s in the same round; tp-traced0: the --baseline binary")
    t.note("cpu-*: the same nginx at a fixed rate, HTTP/1.1 (h2load --h1) then h2; captured: server-side transactions matched to the access log")
    t.note("tracer µs per transaction, h2 over HTTP/1.1: %s (target ≤ 1.5)" % fmt(res["cpu_ratio_h2_to_h1"], 2))
    summary["h2"] = res
    tables.append(t)


def report_h2replay(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "h2replay"]
    if not fs:
        return
    rec = [f["m"] for f in fs if f["config"] == "record"]
    hs = {f["round"]: f["m"] for f in fs if f["config"] == "replay"}
    ts = {f["round"]: f["m"] for f in fs if f["config"] == "tshark"}
    t = Table("12. offline HTTP/2: httpsnoop --replay -f json vs tshark's http2 dissection of a pcap of the same traffic",
              ["tool", "seconds", "txns", "txns/s", "ratio"])
    res = {}
    if rec:
        r = rec[-1]
        res["recording"] = r
        t.note("traffic: %s h2 requests (h2load ok); recording %s MB (%s txns), pcap %s MB (%s dropped)" % (
            fmt(get(r, "h2load", "ok")), fmt((r.get("rec_bytes") or 0) / 1e6, 1),
            fmt(get(r, "hs", "transactions")), fmt((r.get("pcap_bytes") or 0) / 1e6, 1),
            fmt(r.get("pcap_dropped"))))
    hrate = [get(m, "hs", "transactions") / m["seconds"] for m in hs.values()
             if m.get("seconds") and get(m, "hs", "transactions")]
    trate = [m["transactions"] / m["seconds"] for m in ts.values()
             if m.get("seconds") and m.get("transactions")]
    ratios = [(get(hs[r], "hs", "transactions") / hs[r]["seconds"]) /
              (ts[r]["transactions"] / ts[r]["seconds"])
              for r in hs if r in ts and hs[r].get("seconds") and get(hs[r], "hs", "transactions")
              and ts[r].get("seconds") and ts[r].get("transactions")]
    t.add("httpsnoop --replay", fmt_spread(spread([m.get("seconds") for m in hs.values()]), 3),
          fmt(intish(med([get(m, "hs", "transactions") for m in hs.values()]))),
          fmt_spread(spread(hrate), 0), fmt_spread(spread(ratios), 1) + "×")
    t.add("tshark -d http2 -Y http2.header", fmt_spread(spread([m.get("seconds") for m in ts.values()]), 3),
          fmt(intish(med([m.get("transactions") for m in ts.values()]))), fmt_spread(spread(trate), 0), "1")
    t.note("tshark's transactions: the :status values it dissected (one per response)")
    res.update({"httpsnoop_txns_per_s": spread(hrate), "tshark_txns_per_s": spread(trate),
                "ratio": spread(ratios)})
    summary["h2replay"] = res
    tables.append(t)


STARTUP_TARGET_S = 1.0  # issue 14: exec to 'Tracing' within 1 s in every run


def report_startup(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "startup"]
    if not fs:
        return
    t = Table("5. start-up: exec to the 'Tracing' line, embedded probe",
              ["config", "median s", "max s", "min s", "runs ≤ %.1f s" % STARTUP_TARGET_S, "runs", "CPU user+sys s",
               "VmHWM MB", "BPF programs", "verified insns"])
    res = {}
    for f in fs:
        m = f["m"].get("startup") or {}
        pr = f["m"].get("progs") or {}
        runs = m.get("runs_s") or []
        within = len([x for x in runs if x <= STARTUP_TARGET_S])
        res[f["config"]] = dict(m, **{"progs": pr, "runs_within_target": within})
        t.add(f["config"], fmt(m.get("median_s"), 3), fmt(m.get("max_s"), 3), fmt(m.get("min_s"), 3),
              "%d of %d" % (within, len(runs)),
              len(m.get("runs_s") or []) if not m.get("failures") else "%d (+%d failed)" % (
                  len(m.get("runs_s") or []), len(m["failures"])),
              "%s + %s" % (fmt(m.get("cpu_user_s"), 2), fmt(m.get("cpu_sys_s"), 2)),
              fmt(m["vmhwm_kb"] / 1024 if m.get("vmhwm_kb") else None, 1),
              fmt(pr.get("programs")), fmt(pr.get("verified_insns")))
    t.note("issue 14's target: every run within %.1f s (the max counts, not the median)" % STARTUP_TARGET_S)
    t.note("CPU and VmHWM read at the 'Tracing' line (median); sys time is mostly the kernel's BPF verifier, user time LLVM/clang")
    t.note("embedded: the compiled probe read from the probe cache where the binary has one; "
           "compiled: --no-probe-cache, clang and LLVM at every start")
    heavy = []  # the same probe in both configs: one note
    for f in fs:
        pr = f["m"].get("progs") or {}
        if pr.get("heavy_programs"):
            note = "%s programs of >= 10k verified instructions make %.0f%% of them; largest: %s" % (
                pr["heavy_programs"], 100.0 * pr["heavy_insns"] / max(pr["verified_insns"], 1),
                ", ".join("%s %s" % (n, v) for n, v in pr.get("top", [])[:4]))
            if note not in heavy:
                heavy.append(note)
                t.note(note)
    summary["startup"] = res
    tables.append(t)


def report_memory(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "memory"]
    if not fs:
        return
    t = Table("6. memory: httpsnoop peak RSS (VmHWM), and RSS split at a sample taken under the load",
              ["case", "VmHWM MB", "RSS MB", "anon/heap", "BPF maps", "LLVM+clang", "other files", "detail"])
    res = {}
    for f in fs:
        m = f["m"]
        res[f["config"]] = m
        hwm = m.get("vmhwm_kb")
        sn = m.get("snap") or {}
        k = sn.get("by_kind_kb") or {}
        mb = lambda v: fmt(v / 1024, 1) if isinstance(v, (int, float)) else "-"
        if f["config"] == "idle":
            d = "-P <a port nobody uses>, no traffic; tracer CPU %s%% of a CPU at %s process starts/s on the machine" % (
                m.get("idle_cpu_pct"), m.get("idle_forks_per_s"))
        elif f["config"] == "conns":
            d = "%s connections held (client); httpsnoop saw %s connections, conn table full %s, lost events %s; stopped in %s s" % (
                get(m, "load_held"), get(m, "hs", "connections"), get(m, "hs", "conn_table_full"),
                get(m, "hs", "lost_events"), m.get("stop_s"))
            if m.get("idle_cpu_pct") is not None:
                d += "; tracer CPU while the connections sit idle: %s%% of a CPU at %s process starts/s on the machine, %s%% at %s/s" % (
                    m.get("idle_cpu_pct"), m.get("idle_forks_per_s"), m.get("spawn_cpu_pct"),
                    m.get("spawn_forks_per_s"))
        elif f["config"] == "bigbody":
            d = "%s bytes received by curl in %ss; httpsnoop txns %s, body_size %s, gap bytes %s, kernel gap bytes %s, lost events %s" % (
                m.get("curl_bytes"), m.get("curl_s"), get(m, "hs", "transactions"), m.get("body_size"),
                get(m, "hs", "gap_bytes"), get(m, "hs", "kernel_gap_bytes"), get(m, "hs", "lost_events"))
        elif f["config"] == "soak":
            tr = m.get("trend") or {}
            d = "%s min at %s req/s (reconnect every %s): RSS first %s MB, last %s MB, max %s MB, slope %s KB/min over %s samples; lost events %s" % (
                m.get("minutes"), fmt(get(m, "load", "rate"), 0), m.get("reconnect_every"),
                fmt((tr.get("first_kb") or 0) / 1024, 1), fmt((tr.get("last_kb") or 0) / 1024, 1),
                fmt((tr.get("max_kb") or 0) / 1024, 1), tr.get("slope_kb_per_min"), tr.get("samples"),
                get(m, "hs", "lost_events"))
        else:
            d = ""
        t.add(f["config"], mb(hwm), mb(sn.get("VmRSS")), mb(k.get("heap_anon")), mb(k.get("bpf_maps")),
              mb(k.get("llvm_clang_libs")), mb(k.get("other_files")), d)
    t.note("BPF maps: the ring buffers' pages, each ring mapped once (-v says how many and how big: a ring per CPU shares 32 MB, one ring is 16 MB); LLVM+clang: BCC's compiler, file-backed (shared, reclaimable) pages")
    summary["memory"] = res
    tables.append(t)


def report_profiler(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "profiler"]
    if not fs:
        return
    rounds = sorted({f["round"] for f in fs})
    by = {(f["config"], f["round"]): f["m"] for f in fs}
    t = Table("7. the profiler's aggregation: tracer CPU per transaction, -p <nginx worker> (median [min–max] over rounds)",
              ["config", "achieved/s", "hs txns", "tracer µs/txn", "Δ to stream µs/txn", "scrape s", "scrape KB",
               "others' CPU %"])
    res = {}
    for c, what in (("stream", "-f json -o /dev/null"),
                    ("views", "-f json -o /dev/null --summary --metrics"),
                    ("views-only", "--summary --metrics")):
        cols = {k: [] for k in ("rate", "txns", "tr", "delta", "scrape", "kb", "others")}
        for r in rounds:
            m, base = by.get((c, r)), by.get(("stream", r))
            if not m or not get(m, "hs", "transactions"):
                continue
            txns = get(m, "hs", "transactions")
            tr = m["tracer_cpu_s"] * 1e6 / txns
            cols["rate"].append(get(m, "load", "rate"))
            cols["txns"].append(txns)
            cols["tr"].append(tr)
            cols["others"].append(m.get("others_pct"))
            if base and get(base, "hs", "transactions"):
                cols["delta"].append(tr - base["tracer_cpu_s"] * 1e6 / get(base, "hs", "transactions"))
            if isinstance(m.get("scrape_s"), (int, float)):
                cols["scrape"].append(m["scrape_s"])
            if isinstance(m.get("scrape_bytes"), (int, float)):
                cols["kb"].append(m["scrape_bytes"] / 1024)
        s = {k: spread(v) for k, v in cols.items()}
        res[c] = s
        t.add("%s (%s)" % (c, what), fmt_spread(s["rate"], 0), fmt_spread(s["txns"], 0),
              fmt_spread(s["tr"], 2), "" if c == "stream" else fmt_spread(s["delta"], 2),
              fmt_spread(s["scrape"], 3), fmt_spread(s["kb"], 0), fmt_spread(s["others"], 0))
    for c in ("paths-stream", "paths-views"):
        m = by.get((c, 0))
        if not m:
            continue
        res[c] = m
        t.note("%s distinct paths, %s: peak RSS %s MB; %s transactions in %s s; lost events %s%s" % (
            m.get("paths"), "-o /dev/null" if c == "paths-stream" else "--summary --summary-json --metrics",
            fmt((m.get("vmhwm_kb") or 0) / 1024, 1), get(m, "hs", "transactions"), m.get("seconds"),
            get(m, "hs", "lost_events"),
            "" if c == "paths-stream" else "; routes %s, {other} %s" % (m.get("routes"), m.get("route_overflow"))))
    a, b = by.get(("replay-stream", 0)), by.get(("replay-summary", 0))
    if a and b and get(a, "hs", "transactions") and a.get("ir") and b.get("ir"):
        ia = a["ir"] / get(a, "hs", "transactions")
        ib = b["ir"] / get(b, "hs", "transactions")
        res["replay"] = {"stream_ir_per_txn": ia, "summary_ir_per_txn": ib}
        t.note("callgrind of --replay (%s transactions): %.0f instructions per transaction, %.0f with --summary (+%.0f)" % (
            get(a, "hs", "transactions"), ia, ib, ib - ia))
    t.note("Δ: the views' cost, the same round's stream tracer subtracted (target ≤ 0.5 µs per transaction); tracer CPU from /proc/PID/stat (10 ms ticks)")
    summary["profiler"] = res
    tables.append(t)
UNIX_NAMES = {"a": "(a) bare", "b": "(b) traced", "c": "(c) traced by --baseline",
              "d": "(d) probe returns at once"}


def report_unix(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "unix"]
    ft = [f for f in facts if f["scenario"] == "unix-tcp"]
    if not fs and not ft:
        return
    res = {}
    if fs:
        rounds = sorted({f["round"] for f in fs})
        by = {(f["config"], f["round"]): f["m"] for f in fs}
        t = Table("9. a busy Unix socket without HTTP (bench/unixload.c; median [min–max] over rounds; Δ paired per round)",
                  ["config", "mode", "I/O per s", "ratio", "CPU ns/I/O", "Δ ns/I/O vs (a)", "BPF ns/I/O",
                   "others' CPU %", "rounds"])
        for m in ("pingpong", "stream"):
            for c in ("a", "b", "c", "d"):
                rate, ratio, cpu, delta, bpf, oth = [], [], [], [], [], []
                for r in rounds:
                    x = by.get(("%s-%s" % (c, m), r))
                    a = by.get(("a-%s" % m, r))
                    if not x or not get(x, "load", "ios"):
                        continue
                    rate.append(get(x, "load", "ios_per_s"))
                    cpu.append(get(x, "load", "cpu_ns_per_io"))
                    oth.append(x.get("others_pct"))
                    if c != "a" and x.get("bpf_run_ns") is not None:
                        bpf.append(x["bpf_run_ns"] / get(x, "load", "ios"))
                    if c != "a" and a and get(a, "load", "ios_per_s"):
                        ratio.append(get(x, "load", "ios_per_s") / get(a, "load", "ios_per_s"))
                        delta.append(get(x, "load", "cpu_ns_per_io") - get(a, "load", "cpu_ns_per_io"))
                if not rate:
                    continue
                s = {"ios_per_s": spread(rate), "ratio": spread(ratio), "cpu_ns_per_io": spread(cpu),
                     "delta_ns_per_io": spread(delta), "bpf_ns_per_io": spread(bpf),
                     "others_pct": spread(oth)}
                res["%s-%s" % (c, m)] = s
                t.add(UNIX_NAMES[c], m, fmt_spread(s["ios_per_s"], 0),
                      fmt_spread(s["ratio"], 3) if c != "a" else "1", fmt_spread(s["cpu_ns_per_io"], 0),
                      fmt_spread(s["delta_ns_per_io"], 0) if c != "a" else "",
                      fmt_spread(s["bpf_ns_per_io"], 0) if c != "a" else "",
                      fmt_spread(s["others_pct"], 0), len(rate))
        for m in ("pingpong", "stream"):
            b, c = res.get("b-%s" % m, {}), res.get("c-%s" % m, {})
            if b.get("bpf_ns_per_io") and c.get("bpf_ns_per_io"):
                res["b_minus_c_bpf_ns_per_io_" + m] = b["bpf_ns_per_io"]["median"] - c["bpf_ns_per_io"]["median"]
                t.note("%s: BPF ns per I/O, (b) minus (c): %s" % (m, fmt(res["b_minus_c_bpf_ns_per_io_" + m], 1)))
        t.note("CPU ns/I/O: user+sys of unixload's two processes per I/O syscall (the probes run inside those syscalls)")
        t.note("BPF ns/I/O: run_time_ns of the tracer's programs (BPF_ENABLE_STATS) over the run, per I/O syscall of unixload (anything else traced meanwhile counts too)")
        tables.append(t)
    if ft:
        rounds = sorted({f["round"] for f in ft})
        by = {(f["config"], f["round"]): f["m"] for f in ft}
        t = Table("9b. TCP tracing with the Unix socket busy beside it (nginx %s; median [min–max] over rounds)" % load_words(),
                  ["config", "achieved/s", "requests", "hs txns", "tracer µs/txn", "BPF µs/txn",
                   "lost ev", "unix I/O per s", "rounds"])
        for c in ("b", "c"):
            for m in ("tcp", "tcp+unix"):
                cols = {k: [] for k in ("rate", "reqs", "txns", "tr", "bpf", "lost", "uio")}
                for r in rounds:
                    x = by.get(("%s-%s" % (c, m), r))
                    if not x or not get(x, "load", "ok"):
                        continue
                    txns = get(x, "hs", "transactions")
                    cols["rate"].append(get(x, "load", "rate"))
                    cols["reqs"].append(get(x, "load", "ok"))
                    cols["txns"].append(txns)
                    cols["lost"].append(get(x, "hs", "lost_events"))
                    cols["uio"].append(get(x, "unix", "ios_per_s"))
                    if txns:
                        if x.get("tracer_cpu_s") is not None:
                            cols["tr"].append(x["tracer_cpu_s"] * 1e6 / txns)
                        if x.get("bpf_run_ns") is not None and m == "tcp":
                            cols["bpf"].append(x["bpf_run_ns"] / 1e3 / txns)
                if not cols["reqs"]:
                    continue
                s = {k: spread(v) for k, v in cols.items()}
                res["tcp-%s-%s" % (c, m)] = s
                t.add(UNIX_NAMES[c] + ", " + m, fmt_spread(s["rate"], 0), fmt_spread(s["reqs"], 0),
                      fmt_spread(s["txns"], 0), fmt_spread(s["tr"], 2), fmt_spread(s["bpf"], 2),
                      fmt(med(cols["lost"]), 0), fmt_spread(s["uio"], 0) if m != "tcp" else "",
                      len(cols["reqs"]))
        t.note("hs txns: both sides of each request (client and server); with tcp+unix they must stay 2 x requests, and tracer µs/txn unchanged")
        t.note("BPF µs/txn is shown for tcp alone: beside the Unix socket the programs also run for its I/O (table 9)")
        tables.append(t)
    summary["unix"] = res


def report_profile(facts, summary, tables):
    fs = [f for f in facts if f["scenario"] == "profile"]
    if not fs:
        return
    t = Table("10. where the time goes (perf record -g under (b)'s load; callgrind of --replay)",
              ["profile", "figures", "top symbols (% of samples or instructions)"])
    res = {}
    for f in fs:
        m = f["m"]
        res[f["config"]] = m
        p = m.get("perf") or m.get("callgrind") or {}
        top = ", ".join("%s %.1f%%" % (a, b) for a, b in (p.get("top") or [])[:10])
        if f["config"] == "callgrind":
            fig = "%s Ir for %s txns, %s of them start-up and exit (an empty recording): %s Ir/txn (%s with start-up)" % (
                fmt(p.get("ir")), fmt(m.get("txns")), fmt(m.get("ir_startup")), fmt(m.get("ir_per_txn")),
                fmt(m.get("ir_per_txn_with_startup")))
        else:
            g = p.get("groups") or {}
            fig = "user %s%%, kernel %s%% (BPF programs %s%%, BPF helpers/maps/ringbuf %s%%, tracepoint dispatch %s%%)" % (
                fmt(g.get("user"), 1), fmt(g.get("kernel"), 1), fmt(g.get("bpf_programs"), 1),
                fmt(g.get("bpf_helpers_ringbuf"), 1), fmt(g.get("tracepoint_dispatch"), 1))
        t.add(f["config"], fig, top)
    t.note("full reports: bench/results/profile-*.txt")
    summary["profile"] = res
    tables.append(t)


def cmd_report(args):
    facts_path = args[0]
    meta = {}
    if opt(args, "--meta"):
        with open(opt(args, "--meta")) as f:
            meta = json.load(f)
    META.update(meta)
    facts = []
    if os.path.exists(facts_path):
        with open(facts_path) as f:
            facts = [json.loads(l) for l in f if l.strip()]
    summary, tables = {}, []
    report_overhead(facts, summary, tables)
    report_completeness(facts, summary, tables)
    report_cpu(facts, summary, tables)
    report_https(facts, summary, tables)
    report_replay(facts, summary, tables)
    report_startup(facts, summary, tables)
    report_memory(facts, summary, tables)
    report_profiler(facts, summary, tables)
    report_gotls(facts, summary, tables)
    report_unix(facts, summary, tables)
    report_profile(facts, summary, tables)
    report_h2(facts, summary, tables)
    report_h2replay(facts, summary, tables)
    head = ["httpsnoop benchmarks — %s" % meta.get("date", ""),
            "machine: %s; %s CPUs; kernel %s; %s; %s MB RAM" % (
                meta.get("cpu_model"), meta.get("nproc"), meta.get("kernel"), meta.get("os"),
                meta.get("mem_mb")),
            "tree: %s; httpsnoop: %s (%s); mode: %s; nice %s; load avg at start: %s" % (
                meta.get("git"), meta.get("httpsnoop"), meta.get("httpsnoop_path"), meta.get("mode"), meta.get("nice", 0),
                " ".join(meta.get("loadavg") or []) + ", at end: " + " ".join(open("/proc/loadavg").read().split()[:3]))]
    text = "\n".join(head) + "\n" + "\n".join(t.text() for t in tables) + "\n"
    sys.stdout.write(text)
    out = {"meta": meta, "summary": summary, "facts": facts}
    if opt(args, "--json"):
        with open(opt(args, "--json"), "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
    if opt(args, "--text"):
        with open(opt(args, "--text"), "w") as f:
            f.write(text)
    if opt(args, "--md"):
        with open(opt(args, "--md"), "w") as f:
            f.write("\n".join(head) + "\n" + "\n".join(t.md() for t in tables) + "\n")


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"fact": cmd_fact, "wrk": cmd_wrk, "h2load": cmd_h2load, "hsstats": cmd_hsstats, "complete": cmd_complete,
          "count-jsonl": cmd_count_jsonl, "startup": cmd_startup,
          "enable-bpf-stats": cmd_enable_bpf_stats, "rss-trend": cmd_rss_trend,
          "memsnap": cmd_memsnap, "progs": cmd_progs, "progstats": cmd_progstats,
          "perf-top": cmd_perf_top, "other-bpf": cmd_other_bpf, "spawn": cmd_spawn, "callgrind-top": cmd_callgrind_top,
          "report": cmd_report}.get(cmd)
    if not fn:
        sys.stderr.write(__doc__)
        sys.exit(2)
    fn(args)


if __name__ == "__main__":
    main()
