/* attach.c -- loads the probe's programs, fills its tail-call tables and attaches its tracepoints. */
#include "capture/attach.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

#include "capture/compile.h"
#include "core/util.h"

#define VERIFIER_LOG (1 << 22) /* bytes of verifier log asked for */
#define VERIFIER_TAIL 4000     /* bytes of it shown: the end says why */

/* The kernel keeps 15 characters of a program's name (BPF_OBJ_NAME_LEN). */
#define KNAME_LEN 16

/* The name the kernel shows for function fn (bpftool, BPF statistics),
 * into out: of "tracepoint__syscalls__sys_exit_read" a dozen programs
 * would all show as "tracepoint__sys", so the event's name stands for the
 * function, without the category it repeats ("exit_read", "send_length",
 * "process_exit"); an OpenSSL or Go uprobe shows as its symbol, a
 * uretprobe with "ret_" before it ("SSL_read", "ret_SSL_read"), Go's
 * crypto/tls ones as "go_" and the method ("go_handshake_re"). */
static void kernel_name(const char *fn, char out[KNAME_LEN])
{
	const char *p = fn, *cat, *pre = "";
	size_t n;

	if (!strncmp(p, "tracepoint__", 12) && (p = strstr(fn + 12, "__"))) {
		cat = fn + 12;
		n = (size_t)(p - cat);
		p += 2;
		if (!strncmp(p, "sys_", 4))
			p += 4;
		else if (!strncmp(p, cat, n) && p[n] == '_')
			p += n + 1;
	} else if (!strncmp(fn, "raw_tracepoint__", 16)) {
		/* No category: the event's first word names its subsystem
		 * ("tcp_sendmsg_locked" -> "sendmsg_locked"). */
		p = fn + 16;
		if ((cat = strchr(p, '_')) && cat[1])
			p = cat + 1;
	} else if (!strncmp(fn, "uprobe__", 8)) {
		p = fn + 8;
	} else if (!strncmp(fn, "uretprobe__", 11)) {
		p = fn + 11;
		pre = "ret_";
	} else {
		p = fn;
	}
	if (!strncmp(p, "go_tls_", 7)) { /* older probes: go_tls_read, ... */
		p += 7;
		pre = "go_";
	}
	snprintf(out, KNAME_LEN, "%s%s", pre, p);
}

int attach_prog_load_for(enum bpf_prog_type type, int eat, const char *name,
			 const struct bpf_insn *insns, size_t size, const char *license,
			 unsigned kern_version, char *log, unsigned log_size)
{
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = type;
	attr.expected_attach_type = (enum bpf_attach_type)eat;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)(size / sizeof(struct bpf_insn));
	attr.license = (uint64_t)(uintptr_t)license;
	attr.kern_version = kern_version;
	snprintf(attr.prog_name, sizeof(attr.prog_name), "%s", name);
	if (log) {
		attr.log_buf = (uint64_t)(uintptr_t)log;
		attr.log_size = log_size;
		attr.log_level = 1;
	}
	return (int)syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr));
}

int attach_session_link(int prog_fd, const char *path, const uint64_t *offs,
			const uint64_t *cookies, uint32_t cnt, uint32_t pid)
{
	/* link_create's uprobe_multi, as the kernel reads it */
	struct {
		uint32_t prog_fd, target_fd, attach_type, flags;
		uint64_t path, offsets, ref_ctr_offsets, cookies;
		uint32_t cnt, multi_flags, pid, pad;
	} attr = {
		.prog_fd = (uint32_t)prog_fd,
		.attach_type = ATTACH_UPROBE_SESSION,
		.path = (uint64_t)(uintptr_t)path,
		.offsets = (uint64_t)(uintptr_t)offs,
		.cookies = (uint64_t)(uintptr_t)cookies,
		.cnt = cnt,
		.pid = pid,
	};

	return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
}

/* Loads function name for attach type eat (attach_prog_load_for).  A
 * uprobe session program may tail-call only session programs: its
 * references to the table hs_calls_kp become references to hs_calls_ks,
 * which holds the same programs loaded for sessions (see the probe). */
static int load_for(void *mod, const char *name, const char *kname,
		    enum bpf_prog_type type, int eat, char *log, unsigned log_size)
{
	const struct compile_bcc *b = &compile_bcc;
	const struct bpf_insn *insns = b->function_start(mod, name);
	size_t size = b->function_size(mod, name), n = size / sizeof(*insns);
	int from = b->table_fd(mod, "hs_calls_kp"), to = b->table_fd(mod, "hs_calls_ks");
	struct bpf_insn *copy = NULL;
	int fd, err;

	if (eat == ATTACH_UPROBE_SESSION && from >= 0 && to >= 0) {
		copy = malloc(size);
		if (!copy) {
			errno = ENOMEM;
			return -1;
		}
		memcpy(copy, insns, size);
		for (size_t i = 0; i + 1 < n; i++)
			if (copy[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
				if (copy[i].src_reg == BPF_PSEUDO_MAP_FD && copy[i].imm == from)
					copy[i].imm = to;
				i++; /* the second half of the 16-byte load */
			}
		insns = copy;
	}
	fd = attach_prog_load_for(type, eat, kname, insns, size, b->license(mod),
				  b->kern_version(mod), log, log_size);
	err = errno;
	free(copy);
	errno = err;
	return fd;
}

int attach_load_prog(struct attach *a, void *mod, const char *name,
		     enum bpf_prog_type type)
{
	return attach_load_prog_as(a, mod, name, type, -1);
}

int attach_load_prog_as(struct attach *a, void *mod, const char *name,
			enum bpf_prog_type type, int eat)
{
	const struct compile_bcc *b = &compile_bcc;
	char kname[KNAME_LEN];
	char *log;
	int fd;

	if (!b->function_start(mod, name)) {
		warn("the probe has no function %s", name);
		return -ENOENT;
	}
	kernel_name(name, kname);
	if (eat >= 0)
		fd = load_for(mod, name, kname, type, eat, NULL, 0);
	else
		fd = b->func_load(mod, type, kname, b->function_start(mod, name),
				  b->function_size(mod, name), b->license(mod),
				  b->kern_version(mod), 0, NULL, 0, NULL, -1);
	log = fd < 0 ? malloc(VERIFIER_LOG) : NULL;
	if (log) {
		/* Again for the log, under the function's own name: BCC finds
		 * a function's line information (a --probe file is compiled
		 * with it) by that name, and the log then quotes the source
		 * line of each instruction. */
		log[0] = '\0';
		if (eat >= 0)
			fd = load_for(mod, name, kname, type, eat, log, VERIFIER_LOG);
		else
			fd = b->func_load(mod, type, name, b->function_start(mod, name),
					  b->function_size(mod, name), b->license(mod),
					  b->kern_version(mod), 1, log, VERIFIER_LOG,
					  NULL, -1);
		if (fd < 0) {
			size_t len = strlen(log);

			fprintf(stderr, "%s\n",
				len > VERIFIER_TAIL ? log + len - VERIFIER_TAIL : log);
		}
		free(log);
	}
	if (fd < 0) {
		warn("failed to load probe program %s: the kernel's verifier "
		     "rejected it (its log is above)", name);
		return -EINVAL;
	}
	if (a->nprogs < ATTACH_MAX_PROGS)
		a->prog_fd[a->nprogs++] = fd;
	return fd;
}

/* Most of the probe's work is in programs of their own, reached by tail
 * call from every data handler, so that the verifier checks it once (see
 * hs_calls in the probe).  A probe without those tables needs none. */
static int fill_tail_calls(struct attach *a, void *mod)
{
	static const struct {
		const char *table, *fn;
		int slot;
		enum bpf_prog_type type;
		int eat; /* the attach type to load for, or -1 */
	} calls[] = {
		{ "hs_calls", "hs_emit_buf", HS_CALL_EMIT_BUF, BPF_PROG_TYPE_TRACEPOINT, -1 },
		{ "hs_calls", "hs_emit_iov", HS_CALL_EMIT_IOV, BPF_PROG_TYPE_TRACEPOINT, -1 },
		{ "hs_calls", "hs_data", HS_CALL_DATA, BPF_PROG_TYPE_TRACEPOINT, -1 },
		/* SSL calls have one buffer: no hs_emit_iov. */
		{ "hs_calls_kp", "hs_emit_buf", HS_CALL_EMIT_BUF, BPF_PROG_TYPE_KPROBE, -1 },
		{ "hs_calls_kp", "hs_data_tls", HS_CALL_DATA, BPF_PROG_TYPE_KPROBE, -1 },
		/* The writes' uprobe session program calls only programs
		 * loaded for sessions too (load_for). */
		{ "hs_calls_ks", "hs_emit_buf", HS_CALL_EMIT_BUF, BPF_PROG_TYPE_KPROBE,
		  ATTACH_UPROBE_SESSION },
		{ "hs_calls_ks", "hs_data_tls", HS_CALL_DATA, BPF_PROG_TYPE_KPROBE,
		  ATTACH_UPROBE_SESSION },
		{ "hs_calls_ks", "uretprobe__SSL", HS_CALL_TLS_RET, BPF_PROG_TYPE_KPROBE,
		  ATTACH_UPROBE_SESSION },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int map = compile_bcc.table_fd(mod, calls[i].table), fd;

		if (map < 0)
			continue;
		/* A probe edited to trace no HTTPS (without uretprobe__SSL)
		 * has its writes' session program left out too (uprobe.c). */
		if (calls[i].eat >= 0 && !compile_bcc.function_start(mod, calls[i].fn))
			continue;
		fd = attach_load_prog_as(a, mod, calls[i].fn, calls[i].type, calls[i].eat);
		if (fd < 0)
			return fd;
		if (bpf_update_elem(map, (void *)&calls[i].slot, &fd, 0)) {
			int err = -errno;

			warn("failed to fill the probe's %s table: %s",
			     calls[i].table, strerror(-err));
			return err;
		}
	}
	return 0;
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

/* Tracepoints whose arguments lie where another's do (accept's are
 * accept4's first three): the probe defines one program, attached to
 * both, so that LLVM compiles it once -- start-up is mostly LLVM.  A
 * probe with a program of its own for the second keeps that. */
static const struct {
	const char *fn, *cat, *ev;
} shared_tp[] = {
	{ "tracepoint__syscalls__sys_enter_accept4", "syscalls", "sys_enter_accept" },
	{ "tracepoint__syscalls__sys_exit_accept4", "syscalls", "sys_exit_accept" },
};

/* Attaches program fd to tracepoint cat:ev, or to the raw tracepoint ev
 * when cat is NULL. */
static int attach_tp(struct attach *a, int fd, const char *cat, const char *ev)
{
	int afd;

	if (a->ntp == ATTACH_MAX_TP)
		return -E2BIG;
	afd = cat ? bpf_attach_tracepoint(fd, cat, ev)
		  : bpf_attach_raw_tracepoint(fd, ev);
	if (afd < 0) {
		warn("failed to attach %stracepoint %s%s%s: %s", cat ? "" : "raw ",
		     cat ? cat : "", cat ? ":" : "", ev, strerror(errno));
		return -ENOENT;
	}
	snprintf(a->tp_name[a->ntp], ATTACH_NAME_LEN, "%s:%s", cat ? cat : "raw", ev);
	a->tp_fd[a->ntp++] = afd;
	return 0;
}

/* Attaches program fd (function name) to the events it shares with name. */
static int attach_shared(struct attach *a, void *mod, const char *name, int fd)
{
	for (size_t i = 0; i < sizeof(shared_tp) / sizeof(shared_tp[0]); i++) {
		char own[128];
		int err;

		if (strcmp(name, shared_tp[i].fn))
			continue;
		snprintf(own, sizeof(own), "tracepoint__%s__%s", shared_tp[i].cat,
			 shared_tp[i].ev);
		if (compile_bcc.function_start(mod, own))
			continue;
		if ((err = attach_tp(a, fd, shared_tp[i].cat, shared_tp[i].ev)))
			return err;
	}
	return 0;
}

int attach_all(struct attach *a, void *mod)
{
	size_t n = compile_bcc.num_functions(mod);
	int err = fill_tail_calls(a, mod);

	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const char *name = compile_bcc.function_name(mod, i);
		char cat[64], ev[64];
		int fd;

		if (!strncmp(name, "raw_tracepoint__", 16)) {
			/* RAW_TRACEPOINT_PROBE: the event's own arguments,
			 * without the record a tracepoint builds first. */
			fd = attach_load_prog(a, mod, name,
					      BPF_PROG_TYPE_RAW_TRACEPOINT);
			if (fd < 0)
				return fd;
			if ((err = attach_tp(a, fd, NULL, name + 16)))
				return err;
			continue;
		}
		if (!split_tp(name, cat, ev, sizeof(cat)))
			continue;
		/* The fd is a->prog_fd's to close. */
		fd = attach_load_prog(a, mod, name, BPF_PROG_TYPE_TRACEPOINT);
		if (fd < 0)
			return fd;
		if ((err = attach_tp(a, fd, cat, ev)) ||
		    (err = attach_shared(a, mod, name, fd)))
			return err;
	}
	if (!a->ntp) {
		warn("the probe defines no TRACEPOINT_PROBE or "
		     "RAW_TRACEPOINT_PROBE: nothing to attach");
		return -EINVAL;
	}
	return 0;
}

int attach_send_progs(const struct attach *a, int sock)
{
	int err = 0;

	for (int i = 0; i < a->nprogs && !err; i++)
		err = compile_send(sock, COMPILE_FD_PROG, i, NULL, a->prog_fd[i]);
	return err;
}

int attach_send_tracepoints(const struct attach *a, int sock)
{
	int err = 0;

	for (int i = 0; i < a->ntp && !err; i++)
		err = compile_send(sock, COMPILE_FD_ATTACH, i, a->tp_name[i], a->tp_fd[i]);
	return err;
}

int attach_add_prog(struct attach *a, int fd)
{
	if (a->nprogs == ATTACH_MAX_PROGS)
		return -E2BIG;
	a->prog_fd[a->nprogs++] = fd;
	return 0;
}

int attach_add_tracepoint(struct attach *a, const char *name, int fd)
{
	if (a->ntp == ATTACH_MAX_TP)
		return -E2BIG;
	snprintf(a->tp_name[a->ntp], ATTACH_NAME_LEN, "%s", name);
	a->tp_fd[a->ntp++] = fd;
	return 0;
}

void attach_close(struct attach *a)
{
	for (int i = 0; i < a->ntp; i++) {
		char *colon = strchr(a->tp_name[i], ':');

		/* A raw tracepoint's fd is a BPF link, not a perf event:
		 * closing it detaches the program, and the perf event ioctl
		 * libbcc would try first only prints an error. */
		if (!strncmp(a->tp_name[i], "raw:", 4)) {
			close(a->tp_fd[i]);
			continue;
		}
		bpf_close_perf_event_fd(a->tp_fd[i]);
		if (colon) {
			*colon = '\0';
			bpf_detach_tracepoint(a->tp_name[i], colon + 1);
		}
	}
	for (int i = 0; i < a->nprogs; i++)
		close(a->prog_fd[i]);
	a->ntp = a->nprogs = 0;
}
