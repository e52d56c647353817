#!/usr/bin/python3
"""manifests.py -- checks container/compose.yaml and container/kubernetes/daemonset.yaml, and turns the DaemonSet's pod into podman run flags.

  manifests.py check SRCDIR       structural checks of both files; exit 1 with
                                  the list of problems
  manifests.py podman-flags FILE  the DaemonSet's container as podman run
                                  flags, one per line, then "--", then its args

The second form lets test-least-privilege.sh run exactly what the manifest
asks for (capabilities, read-only root, mounts, args) with podman.
"""
import os
import sys

import yaml

TRACE_MOUNTS = {"/lib/modules", "/usr/src", "/sys/kernel/debug", "/sys/kernel/tracing"}
READ_ONLY = {"/lib/modules", "/usr/src"}
CAPS = {"SYS_ADMIN", "BPF", "PERFMON", "SYS_RESOURCE"}

problems = []


def need(cond, what):
    if not cond:
        problems.append(what)
    return cond


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def daemonset(docs):
    ds = [d for d in docs if isinstance(d, dict) and d.get("kind") == "DaemonSet"]
    return ds[0] if len(ds) == 1 else None


def check_daemonset(path):
    docs = load_all(path)
    for d in docs:
        need(isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
             and isinstance(d.get("metadata"), dict) and d["metadata"].get("name"),
             f"{path}: every document needs apiVersion, kind and metadata.name")
    kinds = [d.get("kind") for d in docs if isinstance(d, dict)]
    need(set(kinds) <= {"Namespace", "DaemonSet", "ServiceAccount"},
         f"{path}: unexpected kinds {kinds}")
    ds = daemonset(docs)
    if not need(ds is not None, f"{path}: exactly one DaemonSet expected"):
        return
    need(ds["apiVersion"] == "apps/v1", "DaemonSet apiVersion must be apps/v1")
    ns = [d["metadata"]["name"] for d in docs if d.get("kind") == "Namespace"]
    if ns:
        need(ds["metadata"].get("namespace") in ns, "the DaemonSet is not in the Namespace defined")
    spec = ds.get("spec", {})
    sel = spec.get("selector", {}).get("matchLabels", {})
    tmpl = spec.get("template", {})
    labels = tmpl.get("metadata", {}).get("labels", {})
    need(sel and all(labels.get(k) == v for k, v in sel.items()),
         "spec.selector.matchLabels must match the template's labels")
    pod = tmpl.get("spec", {})
    need(pod.get("hostPID") is True, "hostPID: true is required (host pids, /proc)")
    ctrs = pod.get("containers", [])
    if not need(len(ctrs) == 1, "one container expected"):
        return
    c = ctrs[0]
    need(c.get("name") and c.get("image"), "the container needs a name and an image")
    need("command" not in c, "command would bypass the image's entrypoint")
    args = c.get("args", [])
    need(all(isinstance(a, str) for a in args), "args must be strings")
    need(args[:2] == ["-f", "json"] or "json" in args, "args must ask for JSON (-f json)")
    need("-o" in args and args[args.index("-o") + 1:args.index("-o") + 2] == ["-"],
         "args must send the output to stdout (-o -), for the log collector")
    sc = c.get("securityContext", {})
    if sc.get("privileged"):
        print("note: the DaemonSet runs privileged", file=sys.stderr)
    else:
        add = {c[4:] if c.startswith("CAP_") else c
               for c in sc.get("capabilities", {}).get("add", [])}
        need(CAPS <= add, f"capabilities.add must hold {sorted(CAPS)}, has {sorted(add)}")
        # The API server refuses this pair when spelled CAP_SYS_ADMIN, and
        # it means nothing for a holder of CAP_SYS_ADMIN either way.
        need(not ("SYS_ADMIN" in add and sc.get("allowPrivilegeEscalation") is False),
             "allowPrivilegeEscalation: false with SYS_ADMIN is refused by the API server")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {}
    for m in c.get("volumeMounts", []):
        v = vols.get(m.get("name"))
        if need(v is not None and "hostPath" in v, f"volumeMount {m.get('name')} has no hostPath volume"):
            mounts[m["mountPath"]] = (v["hostPath"]["path"], m.get("readOnly", False))
    for p in sorted(TRACE_MOUNTS):
        if need(p in mounts, f"no hostPath mount on {p}"):
            need(mounts[p][0] == p, f"{p} must come from the host's {p}")
    for p in sorted(READ_ONLY):
        if p in mounts:
            need(mounts[p][1] is True, f"{p} should be mounted readOnly")


def check_compose(path):
    docs = load_all(path)
    if not need(len(docs) == 1 and isinstance(docs[0], dict), f"{path}: one mapping expected"):
        return
    services = docs[0].get("services", {})
    need({"demo", "httpsnoop"} <= set(services), "services demo and httpsnoop expected")
    hs = services.get("httpsnoop", {})
    demo = services.get("demo", {})
    for name, s in (("demo", demo), ("httpsnoop", hs)):
        b = s.get("build", {})
        need(isinstance(b, dict) and b.get("dockerfile"), f"{name}: build.dockerfile expected")
        if isinstance(b, dict) and b.get("dockerfile"):
            ctx = os.path.normpath(os.path.join(os.path.dirname(path), b.get("context", ".")))
            need(os.path.isfile(os.path.join(ctx, b["dockerfile"])),
                 f"{name}: {b['dockerfile']} not found in the build context {ctx}")
    need(hs.get("pid") == "host", "httpsnoop: pid: host is required")
    if not hs.get("privileged"):
        need(CAPS <= set(hs.get("cap_add", [])), f"httpsnoop: cap_add must hold {sorted(CAPS)}")
    vols = {}
    for v in hs.get("volumes", []):
        parts = v.split(":")
        vols[parts[1]] = (parts[0], parts[2:] == ["ro"])
    for p in sorted(TRACE_MOUNTS):
        if need(p in vols, f"httpsnoop: no volume on {p}"):
            need(vols[p][0] == p, f"httpsnoop: {p} must be the host's {p}")
    for p in sorted(READ_ONLY):
        if p in vols:
            need(vols[p][1], f"httpsnoop: {p} should be read-only")
    need("/traces" in vols, "httpsnoop: a volume on /traces expected")
    if "/traces" in vols:
        need(vols["/traces"][0] in docs[0].get("volumes", {}),
             "httpsnoop: /traces should be a named volume declared under volumes:")
    need("entrypoint" not in hs, "httpsnoop: entrypoint would bypass the image's")


def podman_flags(path):
    ds = daemonset(load_all(path))
    pod = ds["spec"]["template"]["spec"]
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    flags = []
    if pod.get("hostPID"):
        flags.append("--pid=host")
    flags.append("--network=host" if pod.get("hostNetwork") else "--network=none")
    if sc.get("privileged"):
        flags.append("--privileged")
    caps = sc.get("capabilities", {})
    for cap in caps.get("drop", []):
        flags.append("--cap-drop=" + cap)
    if caps.get("add"):
        flags.append("--cap-add=" + ",".join(caps["add"]))
    if sc.get("readOnlyRootFilesystem"):
        # Kubernetes adds no tmpfs on /tmp
        flags += ["--read-only", "--read-only-tmpfs=false"]
    if sc.get("allowPrivilegeEscalation") is False:
        flags.append("--security-opt=no-new-privileges")
    if "runAsUser" in sc:
        flags.append(f"--user={sc['runAsUser']}")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for m in c.get("volumeMounts", []):
        src = vols[m["name"]]["hostPath"]["path"]
        flags.append(f"--volume={src}:{m['mountPath']}" + (":ro" if m.get("readOnly") else ""))
    for line in flags + ["--"] + c.get("args", []):
        print(line)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        src = sys.argv[2]
        check_daemonset(os.path.join(src, "container/kubernetes/daemonset.yaml"))
        check_compose(os.path.join(src, "container/compose.yaml"))
        for p in problems:
            print("problem: " + p, file=sys.stderr)
        return 1 if problems else 0
    if len(sys.argv) == 3 and sys.argv[1] == "podman-flags":
        podman_flags(sys.argv[2])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
