/* uprobe.c -- the probe's OpenSSL uprobe programs, and their attachment to each TLS library (probe_attach_tls). */
#include "capture/uprobe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bcc/bcc_proc.h>
#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>

#include "capture/compile.h"
#include "capture/probe_impl.h"

/* The uprobe slots (see HS_UPROBE_SLOTS in event.h): the symbol and
 * whether the program runs on its return. */
static const struct {
	const char *sym;
	bool ret;
} slots[HS_UPROBE_SLOTS] = {
	{ "SSL_write", false },	   { "SSL_write", true },
	{ "SSL_read", false },	   { "SSL_read", true },
	{ "SSL_write_ex", false }, { "SSL_write_ex", true },
	{ "SSL_read_ex", false },  { "SSL_read_ex", true },
	{ "SSL_free", false },
};

/* The probe's program for uprobe slot i. */
static void slot_fn(char *buf, size_t n, int i)
{
	snprintf(buf, n, "%s__%s", slots[i].ret ? "uretprobe" : "uprobe", slots[i].sym);
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

/* Attaches slot i's program at sym's offset in the library at path.
 * Returns 0 or -errno. */
static int attach_slot(struct uprobe *u, int i, const char *path, uint64_t offset)
{
	int fd;

	if (u->nev == UPROBE_MAX)
		return -E2BIG;
	snprintf(u->ev[u->nev], UPROBE_EV_LEN, "hs_%d_%d", getpid(), u->nev);
	fd = bpf_attach_uprobe(u->prog_fd[i], slots[i].ret ? BPF_PROBE_RETURN : BPF_PROBE_ENTRY,
			       u->ev[u->nev], path, offset, -1, 0);
	if (fd < 0)
		return -errno;
	u->nev++;
	return 0;
}

int probe_attach_tls(struct probe *p, const char *path)
{
	struct uprobe *u = &p->up;
	struct bcc_symbol_option opt = { .use_debug_file = 0,
					 .check_debug_file_crc = 0,
					 .lazy_symbolize = 1,
					 .use_symbol_type = (1 << 2) | (1 << 10) /* FUNC, GNU_IFUNC */ };
	int attached = 0, err;

	for (int i = 0; i < HS_UPROBE_SLOTS; i++) {
		struct bcc_symbol sym = { 0 };

		/* A slot without its program: an edited probe. */
		if (u->prog_fd[i] < 0 ||
		    bcc_resolve_symname(path, slots[i].sym, 0, 0, &opt, &sym))
			continue;
		err = attach_slot(u, i, path, sym.offset);
		bcc_procutils_free(sym.module);
		if (err)
			return attached ? attached : err;
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
