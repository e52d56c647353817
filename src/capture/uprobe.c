/* uprobe.c -- the probe's OpenSSL uprobe programs, and their attachment to each TLS library (probe_attach_tls). */
#include "capture/uprobe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/bcc_proc.h>
#include <bcc/bcc_syms.h>
#include <bcc/libbpf.h>

#include "capture/compile.h"
#include "capture/probe_impl.h"
#include "capture/sslbin.h"

/* The uprobe slots but UPROBE_SESSION's (see HS_UPROBE_SLOTS in
 * event.h): the symbol and whether the program runs on its return. */
static const struct {
	const char *sym;
	bool ret;
} slots[UPROBE_SESSION] = {
	{ "SSL_write", false },	   { "SSL_write", true },
	{ "SSL_read", false },	   { "SSL_read", true },
	{ "SSL_write_ex", false }, { "SSL_write_ex", true },
	{ "SSL_read_ex", false },  { "SSL_read_ex", true },
	{ "SSL_free", false },
};

#define UPROBE_FREE 8 /* the slot of SSL_free */

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
	u->nlinks = 0;
	u->no_session = false;
}

/* The writes' uprobe session program (slot UPROBE_SESSION), in a probe
 * compiled for sessions (HS_TLS_SESSION). */
#define UPROBE_SESSION_FN "hs_ssl_write"

/* The return program every return slot without one of its own shares. */
#define UPROBE_SHARED_RET "uretprobe__SSL"

int uprobe_load(struct attach *a, void *mod, int sock)
{
	int shared_ret = -1;

	/* Libraries are found later, by the parent: load the programs now.
	 * The session program's returns are uretprobe__SSL's (attach.c). */
	if (compile_bcc.function_start(mod, UPROBE_SESSION_FN) &&
	    compile_bcc.function_start(mod, UPROBE_SHARED_RET)) {
		int fd = attach_load_prog_as(a, mod, UPROBE_SESSION_FN, BPF_PROG_TYPE_KPROBE,
					     ATTACH_UPROBE_SESSION), err;

		if (fd < 0)
			return fd;
		err = compile_send(sock, COMPILE_FD_UPROBE, UPROBE_SESSION, UPROBE_SESSION_FN, fd);
		if (err)
			return err;
	}
	for (int i = 0; i < UPROBE_SESSION; i++) {
		char fn[64];
		int fd, err;

		slot_fn(fn, sizeof(fn), i);
		if (compile_bcc.function_start(mod, fn)) {
			fd = attach_load_prog(a, mod, fn, BPF_PROG_TYPE_KPROBE);
		} else if (slots[i].ret &&
			   compile_bcc.function_start(mod, UPROBE_SHARED_RET)) {
			if (shared_ret < 0)
				shared_ret = attach_load_prog(a, mod, UPROBE_SHARED_RET,
							      BPF_PROG_TYPE_KPROBE);
			fd = shared_ret;
		} else {
			continue; /* an edited probe without it: no TLS there */
		}
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

/* Attaches slot i's program at file offset `offset` in the library at path.
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

/* Links the session program to the cnt places offs in path (each with
 * its cookie), for every process.  Returns 0 or -errno. */
static int attach_session(struct uprobe *u, const char *path, const uint64_t *offs,
			  const uint64_t *cookies, uint32_t cnt)
{
	int fd;

	if (u->nlinks == UPROBE_LIBS)
		return -E2BIG;
	fd = attach_session_link(u->prog_fd[UPROBE_SESSION], path, offs, cookies, cnt, 0);
	if (fd < 0)
		return -errno;
	u->link_fd[u->nlinks++] = fd;
	return 0;
}

/* The file offset of symbol name in path, 0 when it has none. */
static uint64_t sym_offset(const char *path, const char *name)
{
	struct bcc_symbol_option opt = { .use_debug_file = 0,
					 .check_debug_file_crc = 0,
					 .lazy_symbolize = 1,
					 .use_symbol_type = (1 << 2) | (1 << 10) /* FUNC, GNU_IFUNC */ };
	struct bcc_symbol sym = { 0 };
	uint64_t off;

	if (bcc_resolve_symname(path, name, 0, 0, &opt, &sym))
		return 0;
	off = sym.offset;
	bcc_procutils_free(sym.module);
	return off;
}

/* Attaches the entry and return slots of a function (e = its entry
 * slot, e + 1 its return) at off.  Returns how many were attached (a
 * slot without its program, in an edited probe, is passed over), or
 * -errno. */
static int attach_pair(struct uprobe *u, int e, const char *path, uint64_t off)
{
	int n = 0, err;

	for (int i = e; i < e + 2; i++) {
		if (u->prog_fd[i] < 0)
			continue;
		if ((err = attach_slot(u, i, path, off)))
			return err;
		n++;
	}
	return n;
}

/* One direction: SSL_write (slots 0, 1) with SSL_write_ex (4, 5), or
 * SSL_read (2, 3) with SSL_read_ex (6, 7).  Where both exported
 * functions first call one internal function that is cheap to probe
 * (sslbin.h), the _ex programs, whose arguments and result it has, go
 * there alone, and see each call of either once; else each function's
 * programs go at its own entry.  Appends to why how it went.  Returns how
 * many uprobes were attached, or -errno. */
static int attach_dir(struct uprobe *u, int e, const char *path, char *why, size_t n)
{
	uint64_t off = sym_offset(path, slots[e].sym);
	uint64_t off_ex = sym_offset(path, slots[e + 4].sym);
	const char *name = e == 0 ? "writes" : "reads";
	size_t at = strlen(why);
	uint64_t inner = 0;
	char how[128];
	int got = 0, r = 0;

	if (getenv("HTTPSNOOP_TLS_EXPORTED"))
		snprintf(how, sizeof(how), "HTTPSNOOP_TLS_EXPORTED is set");
	else if (!off || !off_ex)
		snprintf(how, sizeof(how), "%s or %s is missing", slots[e].sym, slots[e + 4].sym);
	else if (u->prog_fd[e + 4] < 0 || u->prog_fd[e + 5] < 0)
		snprintf(how, sizeof(how), "the probe lacks the %s programs", slots[e + 4].sym);
	else
		inner = sslbin_shared_callee(path, off, off_ex, how, sizeof(how));
	if (inner)
		snprintf(why + at, n - at, "%s%s at %s", at ? "; " : "", name, how);
	else
		snprintf(why + at, n - at, "%s%s at the exported functions (%s)",
			 at ? "; " : "", name, how);
	if (e == 0 && u->prog_fd[UPROBE_SESSION] >= 0 && !u->no_session) {
		/* The writes in one session: the cookie says which
		 * arguments each place has (1: _ex's). */
		uint64_t offs[2], cookies[2];
		uint32_t cnt = 0;

		if (inner) {
			offs[cnt] = inner;
			cookies[cnt++] = 1;
		} else {
			if (off) {
				offs[cnt] = sslbin_cheap_offset(path, off);
				cookies[cnt++] = 0;
			}
			if (off_ex) {
				offs[cnt] = sslbin_cheap_offset(path, off_ex);
				cookies[cnt++] = 1;
			}
		}
		at = strlen(why);
		if (cnt && !(r = attach_session(u, path, offs, cookies, cnt))) {
			snprintf(why + at, n - at, ", in a uprobe session");
			return (int)cnt;
		}
		if (cnt) {
			/* A kernel without sessions: pairs from now on. */
			u->no_session = true;
			snprintf(why + at, n - at, ", in pairs (the kernel refused a "
				 "uprobe session: %s)", strerror(-r));
		}
		r = 0;
	}
	if (inner)
		return attach_pair(u, e + 4, path, inner);
	if (off && (got = attach_pair(u, e, path, sslbin_cheap_offset(path, off))) < 0)
		return got;
	if (off_ex && (r = attach_pair(u, e + 4, path, sslbin_cheap_offset(path, off_ex))) < 0)
		return got ? got : r;
	return got + r;
}

int probe_attach_tls(struct probe *p, const char *path)
{
	struct uprobe *u = &p->up;
	uint64_t off;
	int attached = 0, n;

	u->how[0] = '\0';
	for (int e = 0; e < 4; e += 2) {
		if ((n = attach_dir(u, e, path, u->how, sizeof(u->how))) < 0)
			return attached ? attached : n;
		attached += n;
	}
	/* SSL_free, once per connection: past its null check, where a
	 * probe costs no single step (sslbin_cheap_entry). */
	if (u->prog_fd[UPROBE_FREE] >= 0 && (off = sym_offset(path, slots[UPROBE_FREE].sym))) {
		if ((n = attach_slot(u, UPROBE_FREE, path, sslbin_cheap_offset(path, off))))
			return attached ? attached : n;
		attached++;
	}
	return attached;
}

const char *uprobe_tls_how(const struct probe *p)
{
	return p->up.how;
}

void uprobe_close(struct uprobe *u)
{
	for (int i = 0; i < u->nlinks; i++)
		close(u->link_fd[i]);
	for (int i = 0; i < u->nev; i++)
		bpf_detach_uprobe(u->ev[i]);
	for (int i = 0; i < HS_UPROBE_SLOTS; i++)
		if (u->prog_fd[i] >= 0)
			close(u->prog_fd[i]);
	uprobe_init(u);
}
