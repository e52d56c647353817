/* probe.c -- the kernel side as one object: checks, compiles, loads and attaches the eBPF probe, then reads its records.
 *
 * Each part owns its state and has a file of its own: preflight.c (what
 * must hold first), features.c (what the kernel offers), compile.c (the
 * child that compiles, and its hand-over of file descriptors), attach.c
 * (programs, tail calls, tracepoints), maps.c (tables, filters,
 * counters), buffer.c (ring or perf buffer), uprobe.c (OpenSSL) and
 * gouprobe.c (Go's crypto/tls).
 * This file holds them together (struct probe, in probe_impl.h); the
 * functions of probe.h live with the part they concern.
 */
#include "capture/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/compile.h"
#include "capture/preflight.h"
#include "capture/probe_impl.h"
#include "core/util.h"

#define MAX_CFLAGS 24
#define CFLAG_LEN 96

char *probe_source_with_header(const char *text)
{
	static const char inc[] = "#include \"event.h\"";
	const char *at = text, *rest;
	size_t line = 1, hlen = strlen(probe_event_header), n;
	char *out;

	for (;;) {
		if (!strncmp(at, inc, sizeof(inc) - 1))
			break;
		if (!(at = strchr(at, '\n')))
			return NULL;
		at++;
		line++;
	}
	rest = strchr(at, '\n');
	rest = rest ? rest + 1 : at + strlen(at);
	/* The text before, the header under its own name, the rest under
	 * the name BCC gives the main file, numbered as in the file. */
	n = (size_t)(at - text) + hlen + strlen(rest) + 128;
	out = malloc(n);
	if (!out)
		return NULL;
	snprintf(out, n, "%.*s#line 1 \"event.h\"\n%s%s#line %zu \"/virtual/main.c\"\n%s",
		 (int)(at - text), text, probe_event_header,
		 hlen && probe_event_header[hlen - 1] == '\n' ? "" : "\n",
		 line + 1, rest);
	return out;
}

/* Bytes of records after which a CPU wakes the reader (HS_WAKEUP_BYTES):
 * an eighth of its share of its ring buffer, a power of two, 64 KiB at
 * least (2 MiB with two CPUs).  Against a wake-up every 256 records a
 * CPU, tracing everything (5 interleaved rounds): BPF time a transaction
 * 774 -> 682 ns under wrk, and 1,154 -> 932 ns with the reader's own CPU
 * 0.97 -> 0.71 us at 10k req/s, where the poll timeout now wakes it. */
static size_t wakeup_bytes(const struct probe *p)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	size_t share = p->feat.ring_bytes, b = 64 << 10;

	if (!p->feat.ring_cpus && ncpu > 1)
		share /= (size_t)ncpu; /* one ring for all */
	while (b * 2 <= share / 8)
		b *= 2;
	return b;
}

/* The -D flags that tell the probe what the kernel has and what the
 * options ask for (see the top of probes/httpsnoop.bpf.c). */
static int probe_cflags(const struct probe *p, const struct probe_opts *o,
			char defs[MAX_CFLAGS][CFLAG_LEN])
{
	int n = 0;

	/* httpsnoop's own pid is in hs_armed for the probe to skip; an
	 * edited probe of an older version has it as this flag (which would
	 * make every compile differ: no cache then). */
	if (!o->cache)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_SELF_TGID=%d", getpid());
	snprintf(defs[n++], CFLAG_LEN, "-DHS_RINGBUF_PAGES=%u",
		 o->ringbuf_kb / 4 < 16 ? 16 : o->ringbuf_kb / 4);
	/* An eighth of a CPU's share of its ring (64 KiB at least), so
	 * that a CPU wakes the reader well before the ring is full; an
	 * older edited probe counts records instead. */
	snprintf(defs[n++], CFLAG_LEN, "-DHS_WAKEUP_BYTES=%zu", wakeup_bytes(p));
	snprintf(defs[n++], CFLAG_LEN, "-DHS_WAKEUP_EVERY=%d", BUFFER_WAKEUP_EVERY);
	snprintf(defs[n++], CFLAG_LEN, "-DHS_READ_USER_HELPER=%d",
		 p->feat.read_user_helper);
	if (p->feat.sock_tp)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_HAVE_SOCK_TP");
	if (p->feat.task_regs)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_TASK_REGS");
	if (p->feat.sock_hooks)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_SOCK_HOOKS");
	if (p->feat.tcp_send_tp)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_HAVE_TCP_SEND_TP");
	if (!p->feat.ringbuf)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_PERF_BUFFER");
	else if (p->feat.ring_cpus)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_RING_CPUS=%u", p->feat.ring_cpus);
	if (o->npids)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_FILTER_PID");
	if (o->nports)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_FILTER_PORT");
	if (o->unix_filter)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_FILTER_UNIX");
	if (o->ncgroups)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_FILTER_CGROUP");
	if (o->tls)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_TLS");
	if (o->tls && p->feat.ssl_session)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_TLS_SESSION");
	/* Go's crypto/tls comes with TLS, where the kernel lets the probe
	 * read a task's registers (gouprobe.c). */
	if (o->tls && p->feat.task_regs)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_GOTLS");
	else if (o->tls)
		warn("this kernel has no bpf_task_pt_regs (Linux 5.15+, with BTF): "
		     "HTTPS from Go programs is not traced");
	if (o->comm)
		snprintf(defs[n++], CFLAG_LEN, "-DHS_FILTER_COMM=\"%.15s\"", o->comm);
	/* Start-up is mostly LLVM.  BCC optimizes the module itself after
	 * clang's front end; the front end's own -O2 pipeline on top of
	 * that changes the code by 1% and costs a tenth of the compile.
	 * Debug information (BCC's default, -g) costs a quarter of it and
	 * serves only the verifier log of a probe being edited. */
	snprintf(defs[n++], CFLAG_LEN, "-O1");
	if (!o->debug_info)
		snprintf(defs[n++], CFLAG_LEN, "-g0");
	return n;
}

/* An edited probe must agree with this binary on the shared structs. */
static int check_abi(void *mod, const char *name)
{
	const struct compile_bcc *b = &compile_bcc;

	if (b->table_leaf_size(mod, "hs_abi") != sizeof(struct hs_event) ||
	    b->table_max_entries(mod, "hs_abi") != HS_ABI_VERSION ||
	    b->table_leaf_size(mod, "hs_conns") != sizeof(struct hs_conn) ||
	    b->table_key_size(mod, "hs_conns") != sizeof(struct hs_conn_key)) {
		warn("%s does not match this httpsnoop's event layout (ABI %d): "
		     "start from 'httpsnoop --ebpf' of this version and keep "
		     "include/event.h's structs as they are", name, HS_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* In the compiling child: loads and attaches, then hands the programs,
 * uprobe programs, tables and attachments over. */
static int child_build(void *ctx, void *mod, int sock)
{
	struct probe *p = ctx;
	size_t n = compile_bcc.num_tables(mod);
	int err;

	if ((err = check_abi(mod, p->o->source_name)) ||
	    (err = attach_all(&p->att, mod)) ||
	    (err = attach_send_progs(&p->att, sock)) ||
	    (p->o->tls && (err = uprobe_load(&p->att, mod, sock))) ||
	    (p->o->tls && p->feat.task_regs && (err = gouprobe_load(&p->att, mod, sock, p->o->source_name))))
		return err;
	for (size_t i = 0; i < n; i++)
		if ((err = compile_send(sock, COMPILE_FD_TABLE, 0,
					compile_bcc.table_name(mod, i),
					compile_bcc.table_fd_id(mod, i))))
			return err;
	err = attach_send_tracepoints(&p->att, sock);
	return err ? err : p->att.ntp;
}

/* In the parent: each file descriptor goes to the part that owns it. */
static int child_fd(void *ctx, enum compile_fd kind, int slot,
		    const char *name, int fd)
{
	struct probe *p = ctx;

	switch (kind) {
	case COMPILE_FD_TABLE:
		return maps_add(&p->maps, name, fd);
	case COMPILE_FD_ATTACH:
		return attach_add_tracepoint(&p->att, name, fd);
	case COMPILE_FD_PROG:
		return attach_add_prog(&p->att, fd);
	case COMPILE_FD_UPROBE:
		return uprobe_set_prog(&p->up, slot, fd);
	case COMPILE_FD_GOUPROBE:
		return gouprobe_set_prog(&p->go, slot, fd);
	default:
		return -EPROTO;
	}
}

int probe_open(struct probe **out, const struct probe_opts *o,
	       probe_record_fn fn, void *ctx)
{
	char defs[MAX_CFLAGS][CFLAG_LEN];
	const char *cflags[MAX_CFLAGS];
	struct compile_job job = {
		.source = o->source,
		.source_name = o->source_name,
		.cflags = cflags,
		.user_only = o->user_only,
		.cache = o->cache,
		.verbose = o->verbose,
		.child = child_build,
		.recv = child_fd,
	};
	struct probe *p;
	int err;

	*out = NULL;
	if ((err = preflight_check()))
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->o = o;
	uprobe_init(&p->up);
	gouprobe_init(&p->go);
	if ((err = features_detect(&p->feat, o->hooks, o->ringbuf_kb)))
		goto fail;
	job.ncflags = probe_cflags(p, o, defs);
	for (int i = 0; i < job.ncflags; i++)
		cflags[i] = defs[i];
	job.ctx = p;
	if ((err = compile_run(&job)) || (err = maps_ready(&p->maps, o)))
		goto fail;
	/* An edited probe of an older version has no hs_rings: it writes
	 * to hs_events, one ring for all. */
	if (p->feat.ring_cpus && maps_fd(&p->maps, "hs_rings") < 0) {
		p->feat.ring_cpus = 0;
		p->feat.ring_bytes = buffer_ring_bytes(o->ringbuf_kb, 1);
		features_describe(&p->feat);
	}
	p->buf = buffer_open(maps_fd(&p->maps, "hs_events"),
			     p->feat.ringbuf ? -1 : maps_fd(&p->maps, "hs_urgent"),
			     p->feat.ring_cpus ? maps_fd(&p->maps, "hs_rings") : -1,
			     p->feat.ring_cpus, p->feat.ringbuf, o->ringbuf_kb, fn, ctx);
	if (!p->buf) {
		err = -EIO;
		goto fail;
	}
	p->o = NULL;
	*out = p;
	return 0;
fail:
	probe_close(p);
	return err;
}

/* Adds fd's program to *ns and *runs unless its id is among ids[0..*n)
 * (one program may be held through two fds); then notes its id. */
static void run_time_add(int fd, uint32_t *ids, size_t *n, uint64_t *ns,
			 uint64_t *runs)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info(fd, &info, &len))
		return;
	for (size_t i = 0; i < *n; i++)
		if (ids[i] == info.id)
			return;
	ids[(*n)++] = info.id;
	*ns += info.run_time_ns;
	*runs += info.run_cnt;
}

int probe_run_time(struct probe *p, uint64_t *ns, uint64_t *runs)
{
	uint32_t ids[ATTACH_MAX_PROGS + HS_UPROBE_SLOTS + HS_GO_PROGS];
	size_t n = 0;
	char on = '0';
	int fd;

	*ns = *runs = 0;
	for (int i = 0; i < p->att.nprogs; i++)
		run_time_add(p->att.prog_fd[i], ids, &n, ns, runs);
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		run_time_add(p->up.prog_fd[i], ids, &n, ns, runs);
	for (int i = 0; i < HS_GO_PROGS; i++)
		run_time_add(p->go.prog_fd[i], ids, &n, ns, runs);
	/* Another process's BPF_ENABLE_STATS turns them on without the
	 * sysctl: then the runs tell. */
	fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &on, 1) != 1)
			on = '0';
		close(fd);
	}
	return on == '1' || *runs ? 0 : -ENODATA;
}

const char *probe_features(const struct probe *p)
{
	return p->feat.desc;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	attach_close(&p->att);
	uprobe_close(&p->up);
	gouprobe_close(&p->go);
	buffer_close(p->buf);
	maps_close(&p->maps);
	free(p);
}
