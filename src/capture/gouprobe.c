/* gouprobe.c -- the probe's uprobe programs for Go's crypto/tls, and their attachment to each Go binary (probe_attach_go).
 *
 * Where they go is gobin.c's analysis: one uprobe at each function's
 * body (just past the prologue's stack check) and one at each of its
 * return instructions, by file offset.  A
 * return is never probed with a uretprobe: Go moves goroutine stacks,
 * and a return address rewritten by the kernel makes the runtime abort
 * the program.
 */
#include "capture/gouprobe.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "capture/compile.h"
#include "capture/gobin.h"
#include "capture/probe_impl.h"

/* The probe's programs, by enum hs_go_prog. */
static const char *const prog_name[HS_GO_PROGS] = {
	[HS_GO_WRITE] = "uprobe__go_tls_write",
	[HS_GO_READ] = "uprobe__go_tls_read",
	[HS_GO_HANDSHAKE] = "uprobe__go_tls_handshake",
	[HS_GO_RET] = "uprobe__go_tls_ret",
	[HS_GO_HANDSHAKE_RET] = "uprobe__go_tls_handshake_ret",
};

/* For each function gobin finds: its entry's program and its returns'. */
static const struct {
	enum hs_go_prog entry, ret;
} fn_progs[GOBIN_NFN] = {
	[GOBIN_WRITE] = { HS_GO_WRITE, HS_GO_RET },
	[GOBIN_READ] = { HS_GO_READ, HS_GO_RET },
	[GOBIN_HANDSHAKE] = { HS_GO_HANDSHAKE, HS_GO_HANDSHAKE_RET },
};

/* Whether the kernel lets a tracepoint program read the current task's
 * saved user registers: bpf_get_current_task_btf (5.11) and
 * bpf_task_pt_regs (5.15), which need the kernel's BTF.  The probe reads
 * R14 -- Go's goroutine -- at syscalls that way. */
static bool have_task_regs(void)
{
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
}

void gouprobe_init(struct gouprobe *g)
{
	for (int i = 0; i < HS_GO_PROGS; i++)
		g->prog_fd[i] = -1;
	g->nev = 0;
	g->regs = have_task_regs();
}

int gouprobe_load(struct attach *a, void *mod, int sock)
{
	for (int i = 0; i < HS_GO_PROGS; i++) {
		int fd, err;

		if (!compile_bcc.function_start(mod, prog_name[i]))
			continue; /* an edited probe without it: no Go TLS there */
		fd = attach_load_prog(a, mod, prog_name[i], BPF_PROG_TYPE_KPROBE);
		if (fd < 0)
			return fd;
		err = compile_send(sock, COMPILE_FD_GOUPROBE, i, prog_name[i], fd);
		if (err)
			return err;
	}
	return 0;
}

int gouprobe_set_prog(struct gouprobe *g, int slot, int fd)
{
	if (slot < 0 || slot >= HS_GO_PROGS)
		return -E2BIG;
	g->prog_fd[slot] = fd;
	return 0;
}

bool probe_has_go(const struct probe *p)
{
	return p->go.prog_fd[HS_GO_WRITE] >= 0 && p->go.prog_fd[HS_GO_READ] >= 0 &&
	       p->go.prog_fd[HS_GO_RET] >= 0;
}

/* One uprobe: program prog at file offset off of path. */
static int attach_one(struct gouprobe *g, enum hs_go_prog prog, const char *path,
		      uint64_t off)
{
	int fd;

	if (g->nev == GOUPROBE_MAX)
		return -E2BIG;
	snprintf(g->ev[g->nev], GOUPROBE_EV_LEN, "hs_%d_go%d", getpid(), g->nev);
	errno = 0;
	fd = bpf_attach_uprobe(g->prog_fd[prog], BPF_PROBE_ENTRY, g->ev[g->nev], path,
			       off, -1, 0);
	if (fd < 0)
		return errno ? -errno : -EINVAL;
	g->fd[g->nev++] = fd;
	return 0;
}

/* Whether the entry and return programs of function k are there. */
static bool fn_ready(const struct gouprobe *g, const struct gobin *b, int k)
{
	return b->fn[k].addr && g->prog_fd[fn_progs[k].entry] >= 0 &&
	       g->prog_fd[fn_progs[k].ret] >= 0;
}

int probe_attach_go(struct probe *p, const char *path, const struct gobin *b)
{
	struct gouprobe *g = &p->go;
	int first = g->nev, err = 0;

	if (!probe_has_go(p))
		return -ENOTSUP;
	/* The returns before the entries: an entry whose returns are not
	 * yet probed would leave a call in flight until the goroutine's
	 * next one replaces it. */
	for (int k = 0; k < GOBIN_NFN && !err; k++)
		for (uint32_t i = 0; fn_ready(g, b, k) && i < b->fn[k].nret && !err; i++)
			err = attach_one(g, fn_progs[k].ret, path, b->fn[k].ret[i]);
	/* The "entry" probe goes at the body, past the stack check: a call
	 * whose stack grows runs the prologue twice. */
	for (int k = 0; k < GOBIN_NFN && !err; k++)
		if (fn_ready(g, b, k))
			err = attach_one(g, fn_progs[k].entry, path, b->fn[k].body);
	if (err) {
		/* All of a binary or nothing: half its probes would pair
		 * nothing. */
		while (g->nev > first) {
			g->nev--;
			bpf_close_perf_event_fd(g->fd[g->nev]);
			bpf_detach_uprobe(g->ev[g->nev]);
		}
		return err;
	}
	return g->nev - first;
}

void gouprobe_close(struct gouprobe *g)
{
	for (int i = 0; i < g->nev; i++) {
		bpf_close_perf_event_fd(g->fd[i]);
		bpf_detach_uprobe(g->ev[i]);
	}
	g->nev = 0;
	for (int i = 0; i < HS_GO_PROGS; i++) {
		if (g->prog_fd[i] >= 0)
			close(g->prog_fd[i]);
		g->prog_fd[i] = -1;
	}
}
