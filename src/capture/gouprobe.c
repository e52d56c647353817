/* gouprobe.c -- the probe's uprobe program for Go's crypto/tls, and its attachment to each Go binary (probe_attach_go).
 *
 * Where it goes is gobin.c's analysis, by file offset: at each function's
 * stack check (the JBE to morestack), and at every place where a call is
 * over (gobin_site).  A return is never probed with a uretprobe: Go moves
 * goroutine stacks, and a return address rewritten by the kernel makes
 * the runtime abort the program.
 *
 * One program serves every place; each attachment tells it what the place
 * is by its BPF cookie (event.h's HS_GOCK_*), read with
 * bpf_get_attach_cookie (Linux 5.15, as bpf_task_pt_regs, which Go TLS
 * needs anyway).  BCC's bpf_attach_uprobe sets no cookie, so the uprobe is
 * opened here through the uprobe PMU (perf_event_open, Linux 4.17) and
 * the program linked to it with BPF_LINK_CREATE.
 */
#include "capture/gouprobe.h"

#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture/compile.h"
#include "capture/gobin.h"
#include "capture/probe_impl.h"
#include "core/util.h"

/* The probe's programs, by enum hs_go_prog. */
static const char *const prog_name[HS_GO_PROGS] = {
	[HS_GO_PROG] = "uprobe__go_tls",
};

_Static_assert((int)GOBIN_SRC_REG == (int)HS_GOCK_SRC_REG &&
	       (int)GOBIN_SRC_STACK == (int)HS_GOCK_SRC_STACK &&
	       (int)GOBIN_SRC_CONST == (int)HS_GOCK_SRC_CONST && GOBIN_ALWAYS == HS_GOCK_ALWAYS &&
	       GOBIN_WRITE == 0 && GOBIN_READ == 1 && GOBIN_HANDSHAKE == 2,
	       "gobin.h and event.h's HS_GOCK_* must agree");

void gouprobe_init(struct gouprobe *g)
{
	for (int i = 0; i < HS_GO_PROGS; i++)
		g->prog_fd[i] = -1;
	g->nev = 0;
	g->pmu = -1;
}

int gouprobe_load(struct attach *a, void *mod, int sock, const char *source_name)
{
	for (int i = 0; i < HS_GO_PROGS; i++) {
		int fd, err;

		if (!compile_bcc.function_start(mod, prog_name[i])) {
			/* an edited probe without it: no Go TLS there */
			if (compile_bcc.function_start(mod, "uprobe__go_tls_read"))
				warn("%s has the Go TLS programs of an older httpsnoop "
				     "(uprobe__go_tls_read, ...), not %s: HTTPS from Go "
				     "programs is not traced; start again from "
				     "'httpsnoop --ebpf' of this version",
				     source_name, prog_name[i]);
			continue;
		}
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
	return p->go.prog_fd[HS_GO_PROG] >= 0;
}

/* The uprobe PMU's type, from sysfs.  0 and *type, or -errno. */
static int uprobe_pmu(int *type)
{
	FILE *f = fopen("/sys/bus/event_source/devices/uprobe/type", "re");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", type) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* One uprobe at file offset off of path, running the program with
 * cookie ck. */
static int attach_one(struct gouprobe *g, const char *path, uint64_t off, uint64_t ck)
{
	struct perf_event_attr pa = { 0 };
	union bpf_attr la;
	int pfd, lfd, err;

	if (g->nev == GOUPROBE_MAX)
		return -E2BIG;
	if (g->pmu < 0 && (err = uprobe_pmu(&g->pmu)))
		return err;
	pa.size = sizeof(pa);
	pa.type = (uint32_t)g->pmu;
	pa.config1 = (uint64_t)(uintptr_t)path; /* uprobe_path */
	pa.config2 = off;			/* probe_offset */
	pa.sample_period = 1;
	pa.wakeup_events = 1;
	/* Every process that maps the file (pid -1: on CPU 0 stands for
	 * all of them, as BCC does). */
	pfd = (int)syscall(__NR_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return -errno;
	memset(&la, 0, sizeof(la));
	la.link_create.prog_fd = (uint32_t)g->prog_fd[HS_GO_PROG];
	la.link_create.target_fd = (uint32_t)pfd;
	la.link_create.attach_type = BPF_PERF_EVENT;
	la.link_create.perf_event.bpf_cookie = ck;
	lfd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &la, sizeof(la));
	if (lfd < 0 || ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0)) {
		err = -errno;
		if (lfd >= 0)
			close(lfd);
		close(pfd);
		return err;
	}
	g->fd[g->nev] = pfd;
	g->link[g->nev++] = lfd;
	return 0;
}

static uint64_t site_cookie(int k, const struct gobin_site *s)
{
	return (uint64_t)k | HS_GOCK_RET | (uint64_t)s->cond << 3 | (uint64_t)s->src << 8 |
	       (uint64_t)s->reg << 10 | (uint64_t)(uint32_t)s->val << 32;
}

int probe_attach_go(struct probe *p, const char *path, const struct gobin *b)
{
	struct gouprobe *g = &p->go;
	int first = g->nev, err = 0;

	if (!probe_has_go(p))
		return -ENOTSUP;
	/* The ends before the entries: an entry whose ends are not yet
	 * probed would leave a call in flight until the goroutine's next
	 * one replaces it. */
	for (int k = 0; k < GOBIN_NFN && !err; k++)
		for (uint32_t i = 0; b->fn[k].addr && i < b->fn[k].nsite && !err; i++)
			err = attach_one(g, path, b->fn[k].site[i].off, site_cookie(k, &b->fn[k].site[i]));
	for (int k = 0; k < GOBIN_NFN && !err; k++)
		if (b->fn[k].addr)
			err = attach_one(g, path, b->fn[k].check, (uint64_t)k);
	if (err) {
		/* All of a binary or nothing: half its probes would pair
		 * nothing. */
		while (g->nev > first) {
			g->nev--;
			close(g->link[g->nev]);
			close(g->fd[g->nev]);
		}
		return err;
	}
	return g->nev - first;
}

void gouprobe_close(struct gouprobe *g)
{
	for (int i = 0; i < g->nev; i++) {
		close(g->link[i]);
		close(g->fd[i]);
	}
	g->nev = 0;
	for (int i = 0; i < HS_GO_PROGS; i++) {
		if (g->prog_fd[i] >= 0)
			close(g->prog_fd[i]);
		g->prog_fd[i] = -1;
	}
}
