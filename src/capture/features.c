/* features.c -- what the running kernel offers the probe, tested at start rather than assumed. */
#include "capture/features.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "capture/attach.h"
#include "capture/buffer.h"
#include "capture/preflight.h"
#include "core/util.h"

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

/* How many CPUs get a ring buffer of their own (0: one ring for all):
 * each must have 2 MiB of twice ring_kb (they share that), the kernel
 * must take ring buffers in an array of maps (map-in-map), and the
 * environment must not ask for one ring (HTTPSNOOP_FORCE_SHARED_RING). */
static unsigned ring_cpus(unsigned ring_kb)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	struct bcc_create_map_attr a = {
		.name = "hs_rings_test", .map_type = BPF_MAP_TYPE_ARRAY_OF_MAPS,
		.key_size = 4, .value_size = 4, .max_entries = 1,
	};
	int inner, outer, key = 0;
	bool ok;

	if (getenv("HTTPSNOOP_FORCE_SHARED_RING") || ncpu < 2 ||
	    buffer_ring_bytes(ring_kb, (unsigned)ncpu) < (2u << 20))
		return 0;
	inner = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "hs_rb_test", 0, 0, 4096, 0);
	if (inner < 0)
		return 0;
	a.inner_map_fd = inner;
	outer = bcc_create_map_xattr(&a, true);
	ok = outer >= 0 && !bpf_update_elem(outer, &key, &inner, 0);
	if (outer >= 0)
		close(outer);
	close(inner);
	return ok ? (unsigned)ncpu : 0;
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

/* Whether a tracepoint program can read the current task's saved user
 * registers (bpf_get_current_task_btf and bpf_task_pt_regs: kernel 5.15
 * with BTF): the arguments of a syscall whose entry the probe missed.
 * Only where the probe knows their layout (x86-64). */
static bool have_task_regs(void)
{
#if defined(__x86_64__)
	const struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_task_btf },
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_0),
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_task_pt_regs },
		BPF_MOV64_IMM(BPF_REG_0, 0),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (getenv("HTTPSNOOP_FORCE_NO_TASK_REGS"))
		return false;
	fd = bcc_prog_load(BPF_PROG_TYPE_TRACEPOINT, "hs_feature", insns,
			   sizeof(insns), "GPL", 0, 0, NULL, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
#else
	return false;
#endif
}

/* Whether the kernel has uprobe session programs (Linux 6.13), unless
 * HTTPSNOOP_FORCE_NO_UPROBE_SESSION is set.  It checks what a session
 * program returns (0 or 1: whether its return probe runs), where an
 * older kernel takes any value for that attach type, which it does not
 * know: so one returning 2 must be refused, and one returning 1 after
 * bpf_get_func_ip (which the writes' program calls) taken.  Linking one
 * would tell too, but letting go of a uprobe link waits for RCU: tens of
 * milliseconds of start-up.  Where a link is refused all the same, the
 * library's writes get pairs (uprobe.c). */
static bool have_uprobe_session(void)
{
	const struct bpf_insn two[] = {
		BPF_MOV64_IMM(BPF_REG_0, 2),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const struct bpf_insn one[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_func_ip },
		BPF_MOV64_IMM(BPF_REG_0, 1),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd;

	if (getenv("HTTPSNOOP_FORCE_NO_UPROBE_SESSION"))
		return false;
	fd = attach_prog_load_for(BPF_PROG_TYPE_KPROBE, ATTACH_UPROBE_SESSION, "hs_feature",
				  two, sizeof(two), "GPL", 0, NULL, 0);
	if (fd >= 0) {
		close(fd);
		return false;
	}
	fd = attach_prog_load_for(BPF_PROG_TYPE_KPROBE, ATTACH_UPROBE_SESSION, "hs_feature",
				  one, sizeof(one), "GPL", 0, NULL, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Whether tracefs lists the tracepoint event ("sock/sock_recv_length"),
 * unless the environment variable `force_no` is set. */
static bool have_event(const char *event, const char *force_no)
{
	char path[256];
	const char *dir = preflight_tracefs_dir();

	if (getenv(force_no) || !dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s", dir, event);
	return access(path, F_OK) == 0;
}

/* The hook path asked for: --hooks, else HTTPSNOOP_HOOKS (a way to
 * choose for tests and benchmarks that run httpsnoop deep inside). */
static enum probe_hooks hooks_wanted(enum probe_hooks hooks)
{
	const char *env = getenv("HTTPSNOOP_HOOKS");

	if (hooks != PROBE_HOOKS_AUTO || !env)
		return hooks;
	if (!strcmp(env, "sock"))
		return PROBE_HOOKS_SOCK;
	if (!strcmp(env, "syscall"))
		return PROBE_HOOKS_SYSCALL;
	return PROBE_HOOKS_AUTO;
}

void features_describe(struct features *f)
{
	char buf[64];
	const char *rec = buf;

	if (f->ring_cpus)
		snprintf(buf, sizeof(buf), "a ring buffer per CPU (%u x %zu MiB)",
			 f->ring_cpus, f->ring_bytes >> 20);
	else if (f->ringbuf)
		snprintf(buf, sizeof(buf), "one ring buffer (%zu MiB)", f->ring_bytes >> 20);
	else
		rec = "perf buffers";
	if (f->sock_hooks)
		snprintf(f->desc, sizeof(f->desc), "%s, socket-level hooks "
			 "(sock:sock_{send,recv}_length, %s, syscall arguments from registers)%s",
			 rec, f->tcp_send_tp ? "TCP sends dated at tcp:tcp_sendmsg_locked"
					     : "TCP sends dated at their end",
			 f->ssl_session ? ", OpenSSL writes in uprobe sessions" : "");
	else
		snprintf(f->desc, sizeof(f->desc), "%s, syscall tracepoints + %s%s", rec,
			 f->sock_tp ? "sock tracepoints" : "accept/connect tracking + /proc",
			 f->task_regs ? ", syscall arguments from registers" : "");
}

int features_detect(struct features *f, enum probe_hooks hooks, unsigned ring_kb)
{
	const char *why = NULL;

	f->sock_tp = have_event("sock/sock_recv_length", "HTTPSNOOP_FORCE_NO_SOCK_TP");
	f->ringbuf = have_ringbuf();
	f->ring_cpus = f->ringbuf ? ring_cpus(ring_kb) : 0;
	f->ring_bytes = buffer_ring_bytes(ring_kb, f->ring_cpus);
	/* Kernels before 5.5 read user memory with plain probe_read. */
	f->read_user_helper = have_helper(BPF_FUNC_probe_read_user)
				      ? BPF_FUNC_probe_read_user
				      : BPF_FUNC_probe_read;
	f->task_regs = have_task_regs();
	hooks = hooks_wanted(hooks);
	/* The socket-level hooks read the syscall's fd and buffer from the
	 * task's saved registers, inside sock:sock_{send,recv}_length. */
	if (!f->sock_tp)
		why = "the kernel has no sock:sock_send_length tracepoint (Linux 6.3+)";
	else if (!f->task_regs)
		why = "the probe cannot read a syscall's registers "
		      "(bpf_task_pt_regs: Linux 5.15+ with BTF, x86-64)";
	f->sock_hooks = hooks != PROBE_HOOKS_SYSCALL && !why;
	/* Only the socket-level hooks date a send after it is done; this
	 * tracepoint (Linux 6.12) fires when a TCP send begins. */
	f->tcp_send_tp = f->sock_hooks &&
			 have_event("tcp/tcp_sendmsg_locked", "HTTPSNOOP_FORCE_NO_TCP_SEND_TP");
	/* A write reported at its entry relies on the socket-level hooks to
	 * see its socket I/O fail. */
	f->ssl_session = f->sock_hooks && have_uprobe_session();
	if (hooks == PROBE_HOOKS_SOCK && why) {
		warn("the socket-level hooks cannot be used: %s; "
		     "use --hooks syscall (or auto)", why);
		return -ENOTSUP;
	}
	features_describe(f);
	return 0;
}
