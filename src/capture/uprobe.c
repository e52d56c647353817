/* uprobe.c -- the probe's OpenSSL uprobe programs, and their attachment to each TLS library (probe_attach_tls). */
#include "capture/uprobe.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bcc/bcc_proc.h>
#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>

#include "capture/compile.h"
#include "capture/probe_impl.h"

/* The functions of the uprobe slots, in slot order (see event.h). */
static const char *const tls_syms[HS_TLS_FUNCS] = {
	"SSL_write", "SSL_read", "SSL_write_ex", "SSL_read_ex",
};

/* The probe's program for uprobe slot i: symbol tls_syms[i / 2], on
 * entry (even) or return (odd). */
static void slot_fn(char *buf, size_t n, int i)
{
	snprintf(buf, n, "%s__%s", i % 2 ? "uretprobe" : "uprobe", tls_syms[i / 2]);
}

void uprobe_init(struct uprobe *u)
{
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		u->prog_fd[i] = -1;
	u->nev = 0;
}

int uprobe_load(struct attach *a, void *mod, int sock)
{
	/* Libraries are found later, by the parent: load the programs now. */
	for (int i = 0; i < HS_UPROBE_SLOTS; i++) {
		char fn[64];
		int fd, err;

		slot_fn(fn, sizeof(fn), i);
		if (!compile_bcc.function_start(mod, fn))
			continue; /* an edited probe without it: no TLS there */
		fd = attach_load_prog(a, mod, fn, BPF_PROG_TYPE_KPROBE);
		if (fd < 0)
			return fd;
		err = compile_send(sock, COMPILE_FD_UPROBE, i, fn, fd);
		if (err)
			return err;
	}
	return 0;
}

int uprobe_set_prog(struct uprobe *u, int slot, int fd)
{
	if (slot < 0 || slot >= HS_UPROBE_SLOTS)
		return -E2BIG;
	u->prog_fd[slot] = fd;
	return 0;
}

bool probe_has_tls(const struct probe *p)
{
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		if (p->up.prog_fd[i] >= 0)
			return true;
	return false;
}

int probe_attach_tls(struct probe *p, const char *path)
{
	struct uprobe *u = &p->up;
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

			if (u->nev == UPROBE_MAX)
				return attached ? attached : -E2BIG;
			if (u->prog_fd[slot] < 0)
				return -EINVAL; /* the probe has no such program */
			snprintf(u->ev[u->nev], UPROBE_EV_LEN, "hs_%d_%d", getpid(), u->nev);
			fd = bpf_attach_uprobe(u->prog_fd[slot],
					       ret ? BPF_PROBE_RETURN : BPF_PROBE_ENTRY,
					       u->ev[u->nev], path, sym.offset, -1, 0);
			if (fd < 0)
				return -errno;
			u->nev++;
		}
		bcc_procutils_free(sym.module);
		attached++;
	}
	return attached;
}

void uprobe_close(struct uprobe *u)
{
	for (int i = 0; i < u->nev; i++)
		bpf_detach_uprobe(u->ev[i]);
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		if (u->prog_fd[i] >= 0)
			close(u->prog_fd[i]);
	uprobe_init(u);
}
