/* probe.c -- the kernel side: compiles the eBPF probe with BCC, attaches it, and reads its records. */
#include "capture/probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/bcc_proc.h>
#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "core/util.h"

#define MAX_ATTACH 64
#define MAX_UPROBES (32 * HS_UPROBE_SLOTS) /* 32 libraries */
#define MAX_CPUS 1024

#define MAX_TABLES 64

struct probe {
	void *mod; /* only in the child that compiles (see probe_open) */
	struct {
		char name[130];
		int fd;
	} tables[MAX_TABLES];
	int ntables;
	probe_record_fn fn;
	void *ctx;
	/* Programs, held so that they show in /proc/PID/fdinfo with their
	 * statistics (tail-call targets live in their tables anyway). */
	int prog_fd[MAX_ATTACH + 8];
	int nprogs;
	int attach_fd[MAX_ATTACH];
	char attach_name[MAX_ATTACH][130]; /* "category:event" */
	int nattach;
	struct ring_buffer *rb;
	struct perf_reader *readers[MAX_CPUS];
	int nreaders;
	uint64_t perf_lost;
	/* Perf-buffer records read but not yet handed over (see
	 * perf_release): copies in arena, indexed by held. */
	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct held {
		uint64_t ts, seq;
		size_t off, len;
	} *held;
	size_t nheld, held_cap;
	uint64_t seq;
	int conns_fd;
	int uprobe_fd[HS_UPROBE_SLOTS];	/* uprobe programs (-1: the probe has none) */
	char uprobe_ev[MAX_UPROBES][32];
	int nuprobes;
	bool sock_tp, ringbuf;
	char features[128];
};

static bool is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static const char *const tls_syms[] = { "SSL_write", "SSL_read", "SSL_write_ex",
					 "SSL_read_ex" };

/* The probe's program for uprobe slot i: symbol tls_syms[i / 2], on
 * entry (even) or return (odd), as p->uprobe_fd[i]. */
static void uprobe_fn(char *buf, size_t n, int i)
{
	snprintf(buf, n, "%s__%s", i % 2 ? "uretprobe" : "uprobe", tls_syms[i / 2]);
}

/* BCC's compiler half: libbcc, which brings LLVM and clang (some 60 MB
 * of resident pages once loaded and relocated).  Only the child that
 * compiles the probe loads it; httpsnoop itself links libbcc_bpf, BCC's
 * other half (maps, buffers, attaching, symbols). */
static struct {
	__typeof__(bpf_module_create_c_from_string) *create_c_from_string;
	__typeof__(bpf_module_license) *license;
	__typeof__(bpf_module_kern_version) *kern_version;
	__typeof__(bpf_num_functions) *num_functions;
	__typeof__(bpf_function_name) *function_name;
	__typeof__(bpf_function_start) *function_start;
	__typeof__(bpf_function_size) *function_size;
	__typeof__(bpf_num_tables) *num_tables;
	__typeof__(bpf_table_fd_id) *table_fd_id;
	__typeof__(bpf_table_fd) *table_fd;
	__typeof__(bpf_table_name) *table_name;
	__typeof__(bpf_table_max_entries) *table_max_entries;
	__typeof__(bpf_table_key_size) *table_key_size;
	__typeof__(bpf_table_leaf_size) *table_leaf_size;
	__typeof__(bcc_func_load) *func_load;
} bcc;

static int load_bcc(void)
{
#define BCC_SYM(field, sym) { (void **)&bcc.field, #sym }
	const struct {
		void **slot;
		const char *name;
	} syms[] = {
		BCC_SYM(create_c_from_string, bpf_module_create_c_from_string),
		BCC_SYM(license, bpf_module_license),
		BCC_SYM(kern_version, bpf_module_kern_version),
		BCC_SYM(num_functions, bpf_num_functions),
		BCC_SYM(function_name, bpf_function_name),
		BCC_SYM(function_start, bpf_function_start),
		BCC_SYM(function_size, bpf_function_size),
		BCC_SYM(num_tables, bpf_num_tables),
		BCC_SYM(table_fd_id, bpf_table_fd_id),
		BCC_SYM(table_fd, bpf_table_fd),
		BCC_SYM(table_name, bpf_table_name),
		BCC_SYM(table_max_entries, bpf_table_max_entries),
		BCC_SYM(table_key_size, bpf_table_key_size),
		BCC_SYM(table_leaf_size, bpf_table_leaf_size),
		BCC_SYM(func_load, bcc_func_load),
	};
#undef BCC_SYM
	void *h = dlopen("libbcc.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		warn("failed to load BCC's compiler: %s (install libbpfcc)", dlerror());
		return -1;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			warn("libbcc.so.0 has no %s: httpsnoop needs BCC 0.26 or later",
			     syms[i].name);
			return -1;
		}
	}
	return 0;
}

/* The probe's table `name`, or -1. */
static int table_fd(const struct probe *p, const char *name)
{
	for (int i = 0; i < p->ntables; i++)
		if (!strcmp(p->tables[i].name, name))
			return p->tables[i].fd;
	return -1;
}

static const char *tracefs_dir(void)
{
	if (is_dir("/sys/kernel/tracing/events/syscalls"))
		return "/sys/kernel/tracing";
	if (is_dir("/sys/kernel/debug/tracing/events/syscalls"))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return 0; /* cannot tell: let the kernel decide */
#define HAS(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
	/* BCC creates maps and loads programs (CAP_BPF, or CAP_SYS_ADMIN
	 * before 5.8), opens tracepoint perf events (CAP_PERFMON), and
	 * reads kernel memory for its helpers (CAP_SYS_ADMIN on kernels
	 * without CAP_BPF); CAP_SYS_ADMIN alone covers all of it. */
	if (HAS(CAP_SYS_ADMIN) || (HAS(CAP_BPF) && HAS(CAP_PERFMON))) {
		/* The capabilities may be there and bpf() still refused: a
		 * container's seccomp profile allows it only with
		 * CAP_SYS_ADMIN. */
		int fd = bcc_create_map(BPF_MAP_TYPE_ARRAY, "hs_check", 4, 4, 1, 0);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EPERM && errno != EACCES)
			return 0;
		warn("the kernel refused bpf() (%s) although the capabilities are "
		     "there: in a container, its seccomp profile allows bpf() only "
		     "with CAP_SYS_ADMIN -- add --cap-add SYS_ADMIN (or run "
		     "--privileged)", strerror(errno));
		return -EPERM;
	}
	warn("not enough privileges to load eBPF programs: run as root (sudo "
	     "httpsnoop ...), or grant CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON "
	     "and CAP_SYS_RESOURCE (in a container: --cap-add SYS_ADMIN,BPF,"
	     "PERFMON,SYS_RESOURCE)");
#undef HAS
	return -EPERM;
}

static int check_tracefs(void)
{
	if (tracefs_dir())
		return 0;
	/* Mounting it ourselves is what the user would do next. */
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    tracefs_dir())
		return 0;
	warn("tracefs is not mounted and could not be mounted (%s): run "
	     "'mount -t tracefs tracefs /sys/kernel/tracing' (in a container: "
	     "mount the host's /sys/kernel/tracing or /sys/kernel/debug)",
	     strerror(errno));
	return -ENOENT;
}

static int check_headers(void)
{
	struct utsname u;
	char path[512];

	if (getenv("BCC_KERNEL_SOURCE") || access("/sys/kernel/kheaders.tar.xz", R_OK) == 0)
		return 0;
	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/build/include", u.release);
	if (is_dir(path))
		return 0;
	warn("kernel headers not found for %s (no /lib/modules/%s/build): "
	     "install linux-headers-%s, or run scripts/setup, which links the "
	     "distribution's headers (in a container: mount the host's "
	     "/lib/modules and /usr/src read-only)",
	     u.release, u.release, u.release);
	return -ENOENT;
}

static bool have_ringbuf(void)
{
	int fd;

	if (getenv("HTTPSNOOP_FORCE_PERF_BUFFER"))
		return false;
	fd = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "hs_rb_test", 0, 0, 4096, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Whether the kernel has BPF helper `id`: loads a program that calls it
 * (on a stack buffer of 8 bytes, from address 0) and asks the verifier. */
static bool have_helper(int id)
{
	const struct bpf_insn insns[] = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_1, .imm = -8 },
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_MOV64_IMM(BPF_REG_3, 0),
		{ .code = BPF_JMP | BPF_CALL, .imm = id },
		BPF_MOV64_IMM(BPF_REG_0, 0),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bcc_prog_load(BPF_PROG_TYPE_TRACEPOINT, "hs_feature", insns,
			       sizeof(insns), "GPL", 0, 0, NULL, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool have_sock_tp(void)
{
	char path[256];
	const char *dir = tracefs_dir();

	if (getenv("HTTPSNOOP_FORCE_NO_SOCK_TP") || !dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/sock/sock_recv_length", dir);
	return is_dir(path);
}

/* "tracepoint__syscalls__sys_enter_read" -> "syscalls", "sys_enter_read" */
static bool split_tp(const char *fn, char *cat, char *ev, size_t n)
{
	const char *a = fn + strlen("tracepoint__"), *b;

	if (strncmp(fn, "tracepoint__", 12))
		return false;
	b = strstr(a, "__");
	if (!b || (size_t)(b - a) >= n || strlen(b + 2) >= n)
		return false;
	memcpy(cat, a, b - a);
	cat[b - a] = '\0';
	strcpy(ev, b + 2);
	return true;
}

/* Loads the probe's function `name` as a program of `type`; when the
 * verifier refuses it, loads it again for its log and prints the end of
 * that.  Returns the program's fd or -errno. */
static int load_prog(struct probe *p, const char *name, enum bpf_prog_type type)
{
	size_t lsz = 1 << 22;
	char *log;
	int fd;

	if (!bcc.function_start(p->mod, name)) {
		warn("the probe has no function %s", name);
		return -ENOENT;
	}
	fd = bcc.func_load(p->mod, type, name, bcc.function_start(p->mod, name),
			   bcc.function_size(p->mod, name),
			   bcc.license(p->mod),
			   bcc.kern_version(p->mod), 0, NULL, 0, NULL, -1);
	log = fd < 0 ? malloc(lsz) : NULL;
	if (log) {
		log[0] = '\0';
		fd = bcc.func_load(p->mod, type, name, bcc.function_start(p->mod, name),
				   bcc.function_size(p->mod, name),
				   bcc.license(p->mod),
				   bcc.kern_version(p->mod), 1, log, lsz,
				   NULL, -1);
		if (fd < 0) {
			size_t len = strlen(log);

			fprintf(stderr, "%s\n", len > 4000 ? log + len - 4000 : log);
		}
		free(log);
	}
	if (fd < 0) {
		warn("failed to load probe program %s: the kernel's verifier "
		     "rejected it (its log is above)", name);
		return -EINVAL;
	}
	if (p->nprogs < (int)(sizeof(p->prog_fd) / sizeof(p->prog_fd[0])))
		p->prog_fd[p->nprogs++] = fd;
	return fd;
}

/* Most of the probe's work is in programs of their own, reached by tail
 * call from every data handler, so that the verifier checks it once (see
 * hs_calls in the probe).  A probe without those tables needs none. */
static int fill_tail_calls(struct probe *p)
{
	static const struct {
		const char *table, *fn;
		int slot;
		enum bpf_prog_type type;
	} calls[] = {
		{ "hs_calls", "hs_emit_buf", HS_CALL_EMIT_BUF, BPF_PROG_TYPE_TRACEPOINT },
		{ "hs_calls", "hs_emit_iov", HS_CALL_EMIT_IOV, BPF_PROG_TYPE_TRACEPOINT },
		{ "hs_calls", "hs_data", HS_CALL_DATA, BPF_PROG_TYPE_TRACEPOINT },
		/* SSL calls have one buffer: no hs_emit_iov. */
		{ "hs_calls_kp", "hs_emit_buf", HS_CALL_EMIT_BUF, BPF_PROG_TYPE_KPROBE },
		{ "hs_calls_kp", "hs_data_tls", HS_CALL_DATA, BPF_PROG_TYPE_KPROBE },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int map = bcc.table_fd(p->mod, calls[i].table), fd, err = 0;

		if (map < 0)
			continue;
		fd = load_prog(p, calls[i].fn, calls[i].type);
		if (fd < 0)
			return fd;
		if (bpf_update_elem(map, (void *)&calls[i].slot, &fd, 0)) {
			err = -errno;
			warn("failed to fill the probe's %s table: %s",
			     calls[i].table, strerror(errno));
		}
		if (err)
			return err;
	}
	return 0;
}

static int load_and_attach(struct probe *p)
{
	size_t n = bcc.num_functions(p->mod);
	int err = fill_tail_calls(p);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const char *name = bcc.function_name(p->mod, i);
		char cat[64], ev[64];
		int fd, afd;

		if (!split_tp(name, cat, ev, sizeof(cat)))
			continue;
		fd = load_prog(p, name, BPF_PROG_TYPE_TRACEPOINT);
		if (fd < 0)
			return fd;
		if (p->nattach == MAX_ATTACH) {
			close(fd);
			return -E2BIG;
		}
		afd = bpf_attach_tracepoint(fd, cat, ev);
		if (afd < 0) {
			warn("failed to attach tracepoint %s:%s: %s", cat, ev,
			     strerror(errno));
			close(fd);
			return -ENOENT;
		}
		snprintf(p->attach_name[p->nattach], sizeof(p->attach_name[0]),
			 "%s:%s", cat, ev);
		p->attach_fd[p->nattach++] = afd;
	}
	if (!p->nattach) {
		warn("the probe defines no TRACEPOINT_PROBE: nothing to attach");
		return -EINVAL;
	}
	return 0;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct probe *p = ctx;

	p->fn(p->ctx, data, size);
	return 0;
}

/* Perf buffers are per CPU, so records from different CPUs come in no
 * particular order: a server's response written on one CPU could be read
 * after its close(2) on another.  perf_cb therefore only keeps a copy, and
 * perf_release hands the records over in time order. */
static void perf_cb(void *ctx, void *raw, int size)
{
	struct probe *p = ctx;
	const struct hs_event *ev = raw;
	size_t len = size;
	struct held *h;

	/* Perf samples are padded to 8 bytes: trim to the record. */
	if (len >= sizeof(*ev) && sizeof(*ev) + ev->captured <= len)
		len = sizeof(*ev) + ev->captured;
	if (p->nheld == p->held_cap || p->arena_len + len > p->arena_cap) {
		size_t hc = p->held_cap ? p->held_cap * 2 : 256;
		size_t ac = p->arena_cap ? p->arena_cap : 65536;
		void *np;

		while (ac < p->arena_len + len)
			ac *= 2;
		if (p->nheld == p->held_cap) {
			np = realloc(p->held, hc * sizeof(*p->held));
			if (!np)
				goto direct;
			p->held = np;
			p->held_cap = hc;
		}
		if (ac != p->arena_cap) {
			np = realloc(p->arena, ac);
			if (!np)
				goto direct;
			p->arena = np;
			p->arena_cap = ac;
		}
	}
	h = &p->held[p->nheld++];
	h->ts = len >= sizeof(*ev) ? ev->ts_ns : 0;
	h->seq = p->seq++;
	h->off = p->arena_len;
	h->len = len;
	memcpy(p->arena + p->arena_len, raw, len);
	p->arena_len += len;
	return;
direct:
	/* Out of memory: hand it over unordered rather than lose it. */
	p->fn(p->ctx, raw, len);
}

static int held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int held_by_off(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Hands over, in time order, the held records stamped before `before`,
 * the time at which the buffers' last reading began.  That is safe: a
 * record that must come first (the request before its response, data
 * before the close) was written before the later one's syscall began,
 * so before `before`, and the reading found it.  Records stamped later
 * wait for the next reading. */
static int perf_release(struct probe *p, uint64_t before)
{
	size_t n = 0, keep;

	if (!p->nheld)
		return 0;
	qsort(p->held, p->nheld, sizeof(*p->held), held_cmp);
	while (n < p->nheld && p->held[n].ts < before) {
		p->fn(p->ctx, p->arena + p->held[n].off, p->held[n].len);
		n++;
	}
	/* The few kept move to the front of the arena in the order they
	 * lie there, so that each moves down (the next release sorts them
	 * again). */
	keep = p->nheld - n;
	memmove(p->held, p->held + n, keep * sizeof(*p->held));
	qsort(p->held, keep, sizeof(*p->held), held_by_off);
	p->arena_len = 0;
	for (size_t i = 0; i < keep; i++) {
		memmove(p->arena + p->arena_len, p->arena + p->held[i].off, p->held[i].len);
		p->held[i].off = p->arena_len;
		p->arena_len += p->held[i].len;
	}
	p->nheld = keep;
	return (int)n;
}

static void perf_lost_cb(void *ctx, uint64_t lost)
{
	struct probe *p = ctx;

	p->perf_lost += lost;
}

static int open_buffers(struct probe *p, unsigned kb)
{
	int fd = table_fd(p, "hs_events");
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	if (fd < 0) {
		warn("the probe has no hs_events table");
		return -EINVAL;
	}
	if (p->ringbuf) {
		p->rb = bpf_new_ringbuf(fd, ring_cb, p);
		if (!p->rb) {
			warn("failed to open the ring buffer: %s", strerror(errno));
			return -errno;
		}
		return 0;
	}
	for (long cpu = 0; cpu < ncpu && cpu < MAX_CPUS; cpu++) {
		struct perf_reader *r;
		int key = cpu, rfd;
		unsigned pages = 1;

		while (pages * 4 < kb / (ncpu ? ncpu : 1))
			pages <<= 1;
		r = bpf_open_perf_buffer(perf_cb, perf_lost_cb, p, -1, cpu, pages);
		if (!r)
			continue; /* offline CPU */
		rfd = perf_reader_fd(r);
		if (bpf_update_elem(fd, &key, &rfd, 0)) {
			perf_reader_free(r);
			continue;
		}
		p->readers[p->nreaders++] = r;
	}
	if (!p->nreaders) {
		warn("failed to open any perf buffer");
		return -EIO;
	}
	return 0;
}

static int fill_filters(struct probe *p, const struct probe_opts *o)
{
	uint8_t one = 1;
	int fd;

	if (o->npids) {
		fd = table_fd(p, "hs_pids");
		for (size_t i = 0; i < o->npids; i++)
			if (fd < 0 || bpf_update_elem(fd, (void *)&o->pids[i], &one, 0))
				return -EIO;
	}
	if (o->ncgroups) {
		fd = table_fd(p, "hs_cgroups");
		for (size_t i = 0; i < o->ncgroups; i++)
			if (fd < 0 || bpf_update_elem(fd, (void *)&o->cgroups[i], &one, 0))
				return -EIO;
	}
	if (o->nports) {
		fd = table_fd(p, "hs_ports");
		for (size_t i = 0; i < o->nports; i++)
			if (fd < 0 || bpf_update_elem(fd, (void *)&o->ports[i], &one, 0))
				return -EIO;
	}
	return 0;
}

/* An edited probe must agree with this binary on the shared structs. */
static int check_abi(struct probe *p, const char *name)
{
	if (bcc.table_leaf_size(p->mod, "hs_abi") != sizeof(struct hs_event) ||
	    bcc.table_max_entries(p->mod, "hs_abi") != HS_ABI_VERSION ||
	    bcc.table_leaf_size(p->mod, "hs_conns") != sizeof(struct hs_conn) ||
	    bcc.table_key_size(p->mod, "hs_conns") != sizeof(struct hs_conn_key)) {
		warn("%s does not match this httpsnoop's event layout (ABI %d): "
		     "start from 'httpsnoop --ebpf' of this version and keep "
		     "include/event.h's structs as they are", name, HS_ABI_VERSION);
		return -EPROTO;
	}
	return 0;
}

/* What the compiling child hands over: one message per file descriptor
 * (SCM_RIGHTS), then FD_DONE. */
enum { FD_TABLE, FD_ATTACH, FD_UPROBE, FD_PROG, FD_DONE };
struct fd_msg {
	int kind, slot;
	char name[130];
};

static int send_fd(int sock, int kind, int slot, const char *name, int fd)
{
	struct fd_msg m = { .kind = kind, .slot = slot };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	snprintf(m.name, sizeof(m.name), "%s", name ? name : "");
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, 0) == sizeof(m) ? 0 : -errno;
}

/* BCC reads all of /proc/kallsyms (some 120,000 symbols, 0.2 s) on every
 * compile, only to learn whether bpf_probe_read_kernel exists, which the
 * built-in probe never calls (it reads user memory, through hs_read_user).
 * For that probe the child hides the file in a mount namespace of its
 * own, made private first so that nothing reaches the host's; without the
 * privilege for that (a container), it pays the 0.2 s.  An edited probe
 * may read kernel memory, and BCC then needs the answer. */
static void hide_kallsyms(void)
{
	if (unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		mount("/dev/null", "/proc/kallsyms", NULL, MS_BIND, NULL);
}

/* The child: compiles, checks, loads and attaches, then hands the
 * tables, attachments and uprobe programs to the parent.  Returns the
 * child's exit status; what went wrong is on stderr already. */
static int child_build(struct probe *p, const struct probe_opts *o,
		       const char **cflags, int ncf, int sock)
{
	uint64_t t0 = util_now_ns(), t1;
	size_t n;

	if (o->user_only)
		hide_kallsyms();
	if (load_bcc())
		return 1;
	p->mod = bcc.create_c_from_string(o->source, 0, cflags, ncf, true, NULL);
	t1 = util_now_ns();
	if (!p->mod) {
		warn("failed to compile the probe %s: clang's diagnostics are above; "
		     "their line numbers (/virtual/main.c:LINE) count lines of %s",
		     o->source_name, o->source_name);
		return 1;
	}
	if (check_abi(p, o->source_name) || load_and_attach(p))
		return 1;
	if (o->verbose)
		fprintf(stderr, "httpsnoop: probe compiled in %.0f ms, loaded and "
			"attached %d programs in %.0f ms\n", (t1 - t0) / 1e6,
			p->nattach, (util_now_ns() - t1) / 1e6);
	for (int i = 0; i < p->nprogs; i++)
		if (send_fd(sock, FD_PROG, i, NULL, p->prog_fd[i]))
			return 1;
	/* Libraries are found later, by the parent: load the programs now. */
	for (int i = 0; o->tls && i < HS_UPROBE_SLOTS; i++) {
		char fn[64];
		int fd;

		uprobe_fn(fn, sizeof(fn), i);
		if (!bcc.function_start(p->mod, fn))
			continue; /* an edited probe without it: no TLS there */
		fd = load_prog(p, fn, BPF_PROG_TYPE_KPROBE);
		if (fd < 0 || send_fd(sock, FD_UPROBE, i, fn, fd))
			return 1;
	}
	n = bcc.num_tables(p->mod);
	for (size_t i = 0; i < n; i++)
		if (send_fd(sock, FD_TABLE, 0, bcc.table_name(p->mod, i),
			    bcc.table_fd_id(p->mod, i)))
			return 1;
	for (int i = 0; i < p->nattach; i++)
		if (send_fd(sock, FD_ATTACH, i, p->attach_name[i], p->attach_fd[i]))
			return 1;
	return send_fd(sock, FD_DONE, 0, NULL, -1) ? 1 : 0;
}

/* Compiling takes LLVM and clang some 100 MB that the allocator never
 * gives back all of, so a child does it, and everything else that needs
 * the compiled module, and passes the file descriptors over: httpsnoop
 * itself never grows by the compiler. */
static int build_in_child(struct probe *p, const struct probe_opts *o,
			  const char **cflags, int ncf)
{
	int sv[2], status = 0, err = 0;
	bool done = false;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(child_build(p, o, cflags, ncf, sv[1]));
	}
	close(sv[1]);
	while (!done) {
		struct fd_msg m;
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf) };
		struct cmsghdr *c;
		ssize_t got = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
		int fd = -1;

		if (got < 0 && errno == EINTR)
			continue;
		if (got != sizeof(m))
			break; /* the child failed, and said why */
		m.name[sizeof(m.name) - 1] = '\0';
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
		if (m.kind == FD_DONE) {
			done = true;
		} else if (fd < 0) {
			err = -EPROTO;
		} else if (m.kind == FD_TABLE && p->ntables < MAX_TABLES) {
			memcpy(p->tables[p->ntables].name, m.name, sizeof(m.name));
			p->tables[p->ntables++].fd = fd;
		} else if (m.kind == FD_ATTACH && p->nattach < MAX_ATTACH) {
			memcpy(p->attach_name[p->nattach], m.name, sizeof(m.name));
			p->attach_fd[p->nattach++] = fd;
		} else if (m.kind == FD_PROG &&
			   p->nprogs < (int)(sizeof(p->prog_fd) / sizeof(p->prog_fd[0]))) {
			p->prog_fd[p->nprogs++] = fd;
		} else if (m.kind == FD_UPROBE && m.slot >= 0 && m.slot < HS_UPROBE_SLOTS) {
			p->uprobe_fd[m.slot] = fd;
		} else {
			close(fd);
			err = -E2BIG;
		}
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		warn("the process compiling the probe was killed by signal %d (%s)",
		     WTERMSIG(status), strsignal(WTERMSIG(status)));
	else if (done && err)
		warn("the process compiling the probe handed over more than "
		     "httpsnoop can hold: %s", strerror(-err));
	if (!done || !WIFEXITED(status) || WEXITSTATUS(status))
		return err ? err : -EINVAL;
	return err;
}

int probe_open(struct probe **out, const struct probe_opts *o,
	       probe_record_fn fn, void *ctx)
{
	char defs[16][96];
	const char *cflags[16];
	int ncf = 0, err;
	struct probe *p;

	*out = NULL;
	if ((err = check_privileges()) || (err = check_tracefs()) ||
	    (err = check_headers()))
		return err;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->fn = fn;
	p->ctx = ctx;
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		p->uprobe_fd[i] = -1;
	p->sock_tp = have_sock_tp();
	p->ringbuf = have_ringbuf();
	snprintf(defs[ncf], sizeof(defs[0]), "-DHS_SELF_TGID=%d", getpid());
	ncf++;
	snprintf(defs[ncf], sizeof(defs[0]), "-DHS_RINGBUF_PAGES=%u",
		 o->ringbuf_kb / 4 < 16 ? 16 : o->ringbuf_kb / 4);
	ncf++;
	/* 256 records (4 MB at most per CPU; the ring is 16 MB): measured
	 * against 64 under wrk, 15% less tracer CPU per transaction. */
	snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_WAKEUP_EVERY=256");
	/* Kernels before 5.5 read user memory with plain probe_read. */
	snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_READ_USER_HELPER=%d",
		 have_helper(BPF_FUNC_probe_read_user) ? BPF_FUNC_probe_read_user
						       : BPF_FUNC_probe_read);
	if (p->sock_tp)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_HAVE_SOCK_TP");
	if (!p->ringbuf)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_PERF_BUFFER");
	if (o->npids)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_FILTER_PID");
	if (o->nports)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_FILTER_PORT");
	if (o->ncgroups)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_FILTER_CGROUP");
	if (o->tls)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_TLS");
	if (o->comm)
		snprintf(defs[ncf++], sizeof(defs[0]), "-DHS_FILTER_COMM=\"%.15s\"", o->comm);
	for (int i = 0; i < ncf; i++)
		cflags[i] = defs[i];
	snprintf(p->features, sizeof(p->features), "%s, %s",
		 p->ringbuf ? "ring buffer" : "perf buffer",
		 p->sock_tp ? "sock tracepoints" : "accept/connect tracking + /proc");

	if ((err = build_in_child(p, o, cflags, ncf)))
		goto fail;
	if ((err = fill_filters(p, o)) || (err = open_buffers(p, o->ringbuf_kb)))
		goto fail;
	p->conns_fd = table_fd(p, "hs_conns");
	*out = p;
	return 0;
fail:
	probe_close(p);
	return err;
}

/* Waits for any perf buffer, notes the time, then reads every buffer
 * (not only those that woke the poll) and releases what is safe. */
static int perf_poll(struct probe *p, int timeout_ms, bool all)
{
	struct pollfd fds[MAX_CPUS];
	uint64_t before;
	int n;

	for (int i = 0; i < p->nreaders; i++) {
		fds[i].fd = perf_reader_fd(p->readers[i]);
		fds[i].events = POLLIN;
	}
	/* With records held, come back soon to hand them over. */
	if (p->nheld && (timeout_ms < 0 || timeout_ms > 10))
		timeout_ms = 10;
	n = poll(fds, p->nreaders, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	before = util_now_ns();
	perf_reader_consume(p->nreaders, p->readers);
	return perf_release(p, all ? UINT64_MAX : before);
}

int probe_poll(struct probe *p, int timeout_ms)
{
	int n;

	if (p->rb) {
		/* Records are mostly sent without a wake-up, so the poll
		 * is a timed sleep and the consume does the work. */
		n = bpf_poll_ringbuf(p->rb, timeout_ms);
		if (n < 0 && n != -EINTR)
			return n;
		n = bpf_consume_ringbuf(p->rb);
		return n < 0 ? 0 : n;
	}
	return perf_poll(p, timeout_ms, false);
}

int probe_flush(struct probe *p)
{
	if (p->rb)
		return probe_poll(p, 0);
	return perf_poll(p, 0, true);
}

int probe_stats(struct probe *p, uint64_t out[HS_STAT_MAX])
{
	int fd = table_fd(p, "hs_stats");
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t *vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(uint64_t) * 1);

	memset(out, 0, sizeof(uint64_t) * HS_STAT_MAX);
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < HS_STAT_MAX; k++) {
		if (bpf_lookup_elem(fd, &k, vals))
			continue;
		for (long c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	out[HS_STAT_LOST] += p->perf_lost;
	free(vals);
	return 0;
}

void probe_add_cgroups(struct probe *p, const uint64_t *ids, size_t n)
{
	int fd = table_fd(p, "hs_cgroups");
	uint8_t one = 1;

	for (size_t i = 0; fd >= 0 && i < n; i++)
		bpf_update_elem(fd, (void *)&ids[i], &one, 0);
}

int probe_arm(struct probe *p)
{
	uint32_t zero = 0, one = 1;

	if (bpf_update_elem(table_fd(p, "hs_armed"), &zero, &one, 0)) {
		warn("failed to arm the probe: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

void probe_ignore_existing(struct probe *p, uint32_t tgid, int32_t fd)
{
	struct hs_conn_key key = { .tgid = tgid, .fd = fd };
	struct hs_conn c = { .proto = HS_P_IGNORE };

	/* Before arming: the probe has made no entry yet. */
	bpf_update_elem(p->conns_fd, &key, &c, BPF_NOEXIST);
}

void probe_ignore(struct probe *p, uint32_t tgid, int32_t fd, uint64_t conn_id)
{
	struct hs_conn_key key = { .tgid = tgid, .fd = fd };
	struct hs_conn c;

	if (bpf_lookup_elem(p->conns_fd, &key, &c) || c.id != conn_id)
		return;
	c.proto = HS_P_IGNORE;
	bpf_update_elem(p->conns_fd, &key, &c, BPF_EXIST);
}

static bool listed(const uint32_t *tgids, size_t n, uint32_t tgid)
{
	for (size_t i = 0; i < n; i++)
		if (tgids[i] == tgid)
			return true;
	return false;
}

size_t probe_sweep(struct probe *p, const uint32_t *tgids, size_t n)
{
	struct hs_conn_key key, next, *prev = NULL;
	uint32_t alive = 0, dead = 0;
	size_t dropped = 0;
	bool more;

	/* Deleting the current key would restart the walk, so each entry
	 * is dropped one step later. */
	do {
		more = bpf_get_next_key(p->conns_fd, prev, &next) == 0;
		if (prev) {
			uint32_t t = prev->tgid;
			bool gone = listed(tgids, n, t) || t == dead;

			if (!gone && t != alive) {
				gone = kill(t, 0) && errno == ESRCH;
				if (gone)
					dead = t;
				else
					alive = t;
			}
			if (gone && bpf_delete_elem(p->conns_fd, prev) == 0)
				dropped++;
		}
		key = next;
		prev = &key;
	} while (more);
	return dropped;
}

size_t probe_conn_count(struct probe *p)
{
	struct hs_conn_key key, next, *prev = NULL;
	size_t n = 0;

	while (bpf_get_next_key(p->conns_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

int probe_attach_tls(struct probe *p, const char *path)
{
	int attached = 0;

	for (int i = 0; i < HS_TLS_FUNCS; i++) {
		struct bcc_symbol sym = { 0 };
		struct bcc_symbol_option opt = { .use_debug_file = 0,
						 .check_debug_file_crc = 0,
						 .lazy_symbolize = 1,
						 .use_symbol_type = (1 << 2) | (1 << 10) /* FUNC, GNU_IFUNC */ };

		if (bcc_resolve_symname(path, tls_syms[i], 0, 0, &opt, &sym))
			continue;
		for (int ret = 0; ret < 2; ret++) {
			int slot = i * 2 + ret, fd;

			if (p->nuprobes == MAX_UPROBES)
				return attached ? attached : -E2BIG;
			if (p->uprobe_fd[slot] < 0)
				return -EINVAL; /* the probe has no such program */
			snprintf(p->uprobe_ev[p->nuprobes], sizeof(p->uprobe_ev[0]),
				 "hs_%d_%d", getpid(), p->nuprobes);
			fd = bpf_attach_uprobe(p->uprobe_fd[slot],
					       ret ? BPF_PROBE_RETURN : BPF_PROBE_ENTRY,
					       p->uprobe_ev[p->nuprobes], path, sym.offset, -1, 0);
			if (fd < 0)
				return -errno;
			p->nuprobes++;
		}
		bcc_procutils_free(sym.module);
		attached++;
	}
	return attached;
}

bool probe_has_tls(const struct probe *p)
{
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		if (p->uprobe_fd[i] >= 0)
			return true;
	return false;
}

const char *probe_features(const struct probe *p)
{
	return p->features;
}

void probe_close(struct probe *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->nattach; i++) {
		char *colon = strchr(p->attach_name[i], ':');

		bpf_close_perf_event_fd(p->attach_fd[i]);
		if (colon) {
			*colon = '\0';
			bpf_detach_tracepoint(p->attach_name[i], colon + 1);
		}
	}
	for (int i = 0; i < p->nuprobes; i++)
		bpf_detach_uprobe(p->uprobe_ev[i]);
	if (p->rb)
		bpf_free_ringbuf(p->rb);
	for (int i = 0; i < p->nreaders; i++)
		perf_reader_free(p->readers[i]);
	free(p->held);
	free(p->arena);
	for (int i = 0; i < p->ntables; i++)
		close(p->tables[i].fd);
	for (int i = 0; i < p->nprogs; i++)
		close(p->prog_fd[i]);
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		if (p->uprobe_fd[i] >= 0)
			close(p->uprobe_fd[i]);
	free(p);
}
