/* test_gobin.c -- unit test of gobin: real Go binaries checked against the Go toolchain's and binutils' own reading of them, and hostile files.
 *
 * usage: test_gobin DIR|FILE...
 *   DIR   a tests/go/build.sh output: server-MODE and client-MODE for
 *         each mode in DIR/MODES, built by the toolchain named in DIR/GO
 *   FILE  any other Go binary (e.g. one found on the host), read with the
 *         toolchain in $GO (default: go)
 * No argument: exit 77 (no Go toolchain to build the programs with).
 *
 * The ground truth, each independent of gobin:
 *   version         `go version -m`          (debug/buildinfo)
 *   symbols         `go tool nm -size`        (the ELF symbol table)
 *   function bounds `go tool addr2line`       (debug/gosym's pclntab reader):
 *                   the entry and last byte belong to the function, the
 *                   byte before and (from the pclntab) the end do not
 *   return offsets  `objdump -d` (binutils' decoder) between the bounds,
 *                   and the body: after the first conditional jump
 *   file offsets    `readelf -lW`'s PT_LOAD segments, `readelf -hW`'s type
 * Every binary is read twice: as is, and ignoring .symtab (the pclntab
 * path a stripped binary takes).
 *
 * Hostile files, made from the first DIR of Go 1.18+ binaries: truncated at every
 * section and segment boundary and at 97 even points; the pclntab with
 * its header words, function table and _func records damaged, and 400
 * random byte flips in it and in .go.buildinfo; ELF headers claiming
 * out-of-file tables; a non-Go ELF, a shared library, a text file, an
 * empty file, a directory, a FIFO, /dev/null.  None may crash, and none
 * may give GOBIN_OK with offsets other than the intact file's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp */
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/gobin.h"
#include "check.h"

static const char *objdump_cmd = "objdump", *readelf_cmd = "readelf";
static char tmpdir[] = "/tmp/test_gobin.XXXXXX";

/* ---- running the ground-truth tools ---- */

/* Runs a shell command; its whole stdout, NUL-terminated (the caller
 * frees), or NULL if it could not run.  *status: its exit status. */
static char *run(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run(int *status, const char *fmt, ...)
{
	char cmd[8192], *out = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (!(f = popen(cmd, "r")))
		return NULL;
	for (;;) {
		size_t n;

		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if (!(out = realloc(out, cap)))
				abort();
		}
		n = fread(out + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	out[len] = '\0';
	st = pclose(f);
	if (status)
		*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

struct section {
	char name[64];
	uint64_t addr, off, size;
};

static size_t read_sections(const char *path, struct section *s, size_t max)
{
	char *out = run(NULL, "'%s' -SW '%s'", readelf_cmd, path), *line, *save = NULL;
	size_t n = 0;

	if (!out)
		return 0;
	for (line = strtok_r(out, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
		char type[32];
		char *p = strchr(line, ']');

		if (!p || sscanf(p + 1, " %63s %31s %" SCNx64 " %" SCNx64 " %" SCNx64,
				 s[n].name, type, &s[n].addr, &s[n].off, &s[n].size) != 5)
			continue;
		n++;
	}
	free(out);
	return n;
}

static const struct section *find_section(const struct section *s, size_t n, const char *a,
					  const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s[i].name, a) || (b && !strcmp(s[i].name, b)))
			return &s[i];
	return NULL;
}

struct seg {
	uint64_t off, va, filesz;
	bool exec;
};

struct truth;
static int truth_syms(const char *go, const char *path, struct truth *t);

struct truth {
	char version[128];
	bool pie;
	struct seg seg[16];
	size_t nseg;
	bool a2l;             /* `go tool addr2line` reads it, at addresses shifted by: */
	int64_t a2l_shift;
	bool have_syms;       /* its own symbol table */
	bool twin_syms;       /* sym_* are its unstripped twin's */
	uint64_t sym_addr[GOBIN_NFN], sym_size[GOBIN_NFN];
};

static int truth_read(const char *go, const char *path, struct truth *t)
{
	char *out, *line, *save = NULL;

	memset(t, 0, sizeof(*t));
	/* "PATH: go1.19.8" */
	out = run(NULL, "'%s' version -m '%s' 2>&1", go, path);
	if (!out)
		return -1;
	line = strstr(out, ": ");
	if (line) {
		line += 2;
		line[strcspn(line, "\n")] = '\0';
		snprintf(t->version, sizeof(t->version), "%s", line);
	}
	free(out);

	/* debug/gosym takes the start of .text for a Go 1.18+ pclntab's
	 * textStart ("may be unrelocated"), which is wrong where an external
	 * linker put C code first: its answers are then shifted by the
	 * difference, read here from the header gobin reads it from.  Without
	 * a .gopclntab section (merged away by an external linker) it is not
	 * used: the symbols are the ground truth there. */
	{
		struct section sec[128];
		size_t nsec = read_sections(path, sec, 128);
		const struct section *text = find_section(sec, nsec, ".text", NULL);
		const struct section *pt = find_section(sec, nsec, ".gopclntab", ".data.rel.ro.gopclntab");
		uint8_t h[32];
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0 && text && pt && pread(fd, h, sizeof(h), (off_t)pt->off) == sizeof(h)) {
			uint32_t magic;
			uint64_t start;

			memcpy(&magic, h, 4);
			memcpy(&start, h + 24, 8);
			t->a2l = true;
			if (magic == 0xfffffff0 || magic == 0xfffffff1)
				t->a2l_shift = (int64_t)(start - text->addr);
		}
		if (fd >= 0)
			close(fd);
	}

	out = run(NULL, "'%s' -hlW '%s'", readelf_cmd, path);
	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct seg *s = &t->seg[t->nseg];
		uint64_t pa, memsz;
		char f1[8] = "", f2[8] = "", f3[8] = "";

		if (strstr(line, "Type:") && strstr(line, "DYN"))
			t->pie = true;
		if (t->nseg < 16 &&
		    sscanf(line, " LOAD 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " 0x%" SCNx64 " %7s %7s %7s",
			   &s->off, &s->va, &pa, &s->filesz, &memsz, f1, f2, f3) >= 6) {
			s->exec = strchr(f1, 'E') || strchr(f2, 'E') || strchr(f3, 'E');
			t->nseg++;
		}
	}
	free(out);

	return truth_syms(go, path, t);
}

/* "  5ad520       1957 T crypto/tls.(*Conn).Write" */
static int truth_syms(const char *go, const char *path, struct truth *t)
{
	char *out, *line, *save = NULL;

	out = run(NULL, "'%s' tool nm -size '%s' 2>/dev/null", go, path);
	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t a, sz;
		char type[4], name[256];

		if (sscanf(line, " %" SCNx64 " %" SCNu64 " %3s %255s", &a, &sz, type, name) != 4)
			continue;
		t->have_syms = true;
		for (int k = 0; k < GOBIN_NFN; k++)
			if (!strcmp(name, gobin_fn_name[k]) && (type[0] == 'T' || type[0] == 't')) {
				t->sym_addr[k] = a;
				t->sym_size[k] = sz;
			}
	}
	free(out);
	return 0;
}

/* The file offset of va through readelf's segments, or UINT64_MAX. */
static uint64_t truth_off(const struct truth *t, uint64_t va)
{
	for (size_t i = 0; i < t->nseg; i++)
		if (t->seg[i].exec && va >= t->seg[i].va && va - t->seg[i].va < t->seg[i].filesz)
			return t->seg[i].off + (va - t->seg[i].va);
	return UINT64_MAX;
}

/* Function names at each address, by `go tool addr2line`; names[i] is
 * "?" where it knows none.  The caller frees *buf. */
static int truth_names(const char *go, const char *path, const uint64_t *va, size_t n,
		       char **names, char **buf)
{
	char in[512];
	FILE *f;
	char *line, *save = NULL;
	size_t i = 0;

	snprintf(in, sizeof(in), "%s/addrs", tmpdir);
	if (!(f = fopen(in, "w")))
		return -1;
	for (size_t k = 0; k < n; k++)
		fprintf(f, "0x%" PRIx64 "\n", va[k]);
	fclose(f);
	*buf = run(NULL, "'%s' tool addr2line '%s' < '%s' 2>&1", go, path, in);
	if (!*buf)
		return -1;
	/* two lines per address: the function, then FILE:LINE */
	for (line = strtok_r(*buf, "\n", &save); line && i < 2 * n; line = strtok_r(NULL, "\n", &save), i++)
		if (i % 2 == 0)
			names[i / 2] = line;
	return i == 2 * n ? 0 : -1;
}

/* An objdump -d --no-show-raw-insn instruction line: "  5ad8f2:\tret".
 * Its address and mnemonic, or NULL for any other line. */
static const char *objdump_insn(char *line, uint64_t *addr)
{
	int n = 0;

	if (sscanf(line, " %" SCNx64 ":%n", addr, &n) != 1 || n == 0 || (line[n] != '\t' && line[n] != ' '))
		return NULL;
	return line + n + strspn(line + n, " \t");
}

/* Return instructions between start and stop by objdump; their file
 * offsets in ret[], how many in the result. */
static int truth_rets(const char *path, const struct truth *t, uint64_t start, uint64_t stop,
		      uint64_t *ret, int max)
{
	char *out = run(NULL, "'%s' -d --no-show-raw-insn --start-address=0x%" PRIx64
			" --stop-address=0x%" PRIx64 " '%s'", objdump_cmd, start, stop, path);
	char *line, *save = NULL;
	int n = 0;

	if (!out)
		return -1;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t a;
		const char *insn = objdump_insn(line, &a);

		if (insn && !strncmp(insn, "ret", 3) && n < max)
			ret[n++] = truth_off(t, a);
	}
	free(out);
	return n;
}

/* ---- checking one binary ---- */

static bool same_funcs(const struct gobin *a, const struct gobin *b)
{
	for (int k = 0; k < GOBIN_NFN; k++) {
		const struct gobin_func *x = &a->fn[k], *y = &b->fn[k];

		if (x->addr != y->addr || x->entry != y->entry || x->nret != y->nret ||
		    memcmp(x->ret, y->ret, x->nret * sizeof(x->ret[0])) || x->check != y->check ||
		    x->nsite != y->nsite || x->nstepped != y->nstepped)
			return false;
		for (uint32_t i = 0; i < x->nsite; i++)
			if (x->site[i].off != y->site[i].off || x->site[i].cond != y->site[i].cond ||
			    x->site[i].src != y->site[i].src || x->site[i].reg != y->site[i].reg ||
			    x->site[i].val != y->site[i].val || x->site[i].ret != y->site[i].ret)
				return false;
	}
	return true;
}

/* The address of the first conditional jump of the function at start
 * (its branch to morestack), by objdump, if it is a JBE; 0 if not, or if
 * none is in its first 64 bytes. */
static uint64_t truth_check(const char *path, uint64_t start)
{
	char *out = run(NULL, "'%s' -d --no-show-raw-insn --start-address=0x%" PRIx64
			" --stop-address=0x%" PRIx64 " '%s'", objdump_cmd, start, start + 64, path);
	char *line, *save = NULL;
	uint64_t check = 0;

	if (!out)
		return 0;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t a;
		const char *insn = objdump_insn(line, &a);

		if (!insn || insn[0] != 'j' || !strncmp(insn, "jmp", 3))
			continue;
		if (!strncmp(insn, "jbe ", 4))
			check = a;
		break;
	}
	free(out);
	return check;
}

/* objdump's instruction at addr (in the caller's buf), "" if none starts
 * there. */
static const char *truth_insn_at(const char *path, uint64_t addr, char *buf, size_t n)
{
	char *out = run(NULL, "'%s' -d --no-show-raw-insn --start-address=0x%" PRIx64
			" --stop-address=0x%" PRIx64 " '%s'", objdump_cmd, addr, addr + 16, path);
	char *line, *save = NULL;

	buf[0] = '\0';
	if (!out)
		return buf;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t a;
		const char *insn = objdump_insn(line, &a);

		if (insn && a == addr) {
			snprintf(buf, n, "%s", insn);
			break;
		}
	}
	free(out);
	return buf;
}

/* Whether objdump finds only INT3 padding (or nothing) in [start, stop). */
static bool only_padding(const char *path, uint64_t start, uint64_t stop)
{
	char *out, *line, *save = NULL;
	bool only = true;

	if (start == stop)
		return true;
	out = run(NULL, "'%s' -d --no-show-raw-insn --start-address=0x%" PRIx64
		  " --stop-address=0x%" PRIx64 " '%s'", objdump_cmd, start, stop, path);
	if (!out)
		return false;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t a;
		const char *insn = objdump_insn(line, &a);

		if (insn && strncmp(insn, "int3", 4))
			only = false;
	}
	free(out);
	return only;
}

/* One analysis of path (flags) against its ground truth. */
/* The places where a call is over, against objdump: each is a RET of the
 * function, or a direct CALL or a relative branch (which the kernel
 * emulates) inside it; every RET probed itself is counted as such, and
 * every other RET has at least one cheaper place (the integration tests
 * check that each call is then seen exactly once). */
static void check_sites(const char *path, const char *how, const char *name,
			const struct truth *t, const struct gobin_func *f)
{
	uint32_t stepped = 0;
	char insn[256];

	CHECK(f->nsite >= f->nret, "%s%s: %s: %u sites for %u returns", path, how, name,
	      f->nsite, f->nret);
	for (uint32_t i = 0; i < f->nsite; i++) {
		const struct gobin_site *s = &f->site[i];
		uint64_t va = f->addr + (s->off - f->entry);
		bool is_ret = false;

		CHECK(s->off >= f->entry && s->off < f->entry + (f->end - f->addr),
		      "%s%s: %s: site 0x%" PRIx64 " outside it", path, how, name, s->off);
		CHECK(truth_off(t, va) == s->off, "%s%s: %s: site file offset 0x%" PRIx64, path, how,
		      name, s->off);
		truth_insn_at(path, va, insn, sizeof(insn));
		for (uint32_t j = 0; j < f->nret; j++)
			is_ret |= f->ret[j] == s->off;
		if (s->ret) {
			stepped++;
			CHECK(is_ret && !strncmp(insn, "ret", 3), "%s%s: %s: stepped site 0x%" PRIx64
			      " is \"%s\", not a RET", path, how, name, va, insn);
		} else {
			const char *arg = insn + strcspn(insn, " ");
			bool branch;

			arg += strspn(arg, " ");
			branch = (insn[0] == 'j' || !strncmp(insn, "call", 4)) &&
				 *arg != '*'; /* not indirect */

			CHECK(branch && s->cond <= GOBIN_ALWAYS, "%s%s: %s: site 0x%" PRIx64 " is \"%s\", "
			      "not an emulated branch or call", path, how, name, va, insn);
			CHECK(s->src != GOBIN_SRC_NONE || strcmp(name, gobin_fn_name[GOBIN_READ]),
			      "%s%s: %s: site 0x%" PRIx64 " does not know n", path, how, name, va);
		}
	}
	CHECK(stepped == f->nstepped, "%s%s: %s: %u stepped sites, nstepped %u", path, how, name,
	      stepped, f->nstepped);
}

static void check_one(const char *go, const char *path, const struct truth *t, unsigned flags,
		      bool expect_tls)
{
	const char *how = flags & GOBIN_NO_SYMTAB ? " (pclntab only)" : "";
	unsigned major = 0, minor = 0;
	bool from_pcln = (flags & GOBIN_NO_SYMTAB) || !t->have_syms;
	struct gobin g;
	int r;

	r = gobin_analyse(path, flags, &g);
	CHECK(!strcmp(g.version, t->version), "%s%s: version [%s], go version says [%s]",
	      path, how, g.version, t->version);
	CHECK(g.pie == t->pie, "%s: pie %d, readelf says %d", path, g.pie, t->pie);
	if (sscanf(t->version, "go%u.%u", &major, &minor) == 2)
		CHECK(g.major == major && g.minor == minor, "%s: version %u.%u", path, g.major, g.minor);
	if (!expect_tls) {
		CHECK(r == GOBIN_OK || r == GOBIN_NO_TLS || r == GOBIN_REFUSED,
		      "%s%s: result %d", path, how, r);
		if (r != GOBIN_OK)
			return;
	} else if (major == 1 && minor < 17) {
		CHECK(r == GOBIN_REFUSED && strstr(g.why, "register ABI"),
		      "%s%s: %s is not refused for its stack ABI (result %d: %s)", path, how,
		      t->version, r, g.why);
	} else {
		CHECK(r == GOBIN_OK, "%s%s: result %d (%s)", path, how, r, g.why);
	}
	if (r != GOBIN_OK && r != GOBIN_REFUSED)
		return;
	CHECK(g.pcln != GOBIN_PCLN_NONE, "%s: no pclntab layout", path);
	if (r == GOBIN_OK)
		CHECK(g.from_pclntab == from_pcln, "%s%s: from_pclntab %d", path, how, g.from_pclntab);

	for (int k = 0; k < GOBIN_NFN; k++) {
		const struct gobin_func *f = &g.fn[k];
		const char *name = gobin_fn_name[k];
		uint64_t va[4] = { f->addr, f->addr - 1, f->end - 1, f->end }, want[GOBIN_MAX_RETS];
		char *names[4] = { 0 }, *buf = NULL;
		int n;

		if (!f->addr) {
			/* only the handshake is optional, and it is there
			 * from Go 1.17 on (handshakeContext) */
			CHECK(k == GOBIN_HANDSHAKE && !t->sym_addr[k] && (major == 1 && minor < 17),
			      "%s%s: %s not found%s", path, how, name,
			      t->sym_addr[k] ? ", but nm has it" : "");
			continue;
		}

		if (t->sym_addr[k]) {
			uint64_t sym_end = t->sym_addr[k] + t->sym_size[k];

			CHECK(f->addr == t->sym_addr[k], "%s%s: %s at 0x%" PRIx64 ", nm says 0x%" PRIx64,
			      path, how, name, f->addr, t->sym_addr[k]);
			if (!from_pcln)
				CHECK(f->end == sym_end, "%s: %s ends at 0x%" PRIx64 ", nm says 0x%" PRIx64,
				      path, name, f->end, sym_end);
			else
				CHECK(f->end >= sym_end && f->end - sym_end < 64 && only_padding(path, sym_end, f->end),
				      "%s%s: %s ends at 0x%" PRIx64 ", nm says 0x%" PRIx64 " and not padding between",
				      path, how, name, f->end, sym_end);
		}
		for (int i = 0; i < 4; i++)
			va[i] -= (uint64_t)t->a2l_shift;
		if (!t->a2l) {
			CHECK(t->sym_addr[k], "%s%s: no ground truth for %s (no symbols, no .gopclntab)",
			      path, how, name);
		} else if (truth_names(go, path, va, 4, names, &buf)) {
			CHECK(0, "%s: go tool addr2line failed", path);
		} else if (!strcmp(names[0], "?") && !strcmp(names[1], "?") && !strcmp(names[2], "?")) {
			/* Go 1.19's addr2line reads no PIE ("?" everywhere) */
			CHECK(t->sym_addr[k], "%s%s: no ground truth for %s (no symbols, and "
			      "addr2line cannot read it)", path, how, name);
		} else {
			CHECK(!strcmp(names[0], name), "%s%s: addr2line puts %s at 0x%" PRIx64,
			      path, how, names[0], f->addr);
			CHECK(strcmp(names[1], name), "%s%s: %s starts before 0x%" PRIx64, path, how,
			      name, f->addr);
			CHECK(!strcmp(names[2], name), "%s%s: addr2line puts %s at 0x%" PRIx64 ", the end - 1",
			      path, how, names[2], f->end - 1);
			if (from_pcln)
				CHECK(strcmp(names[3], name), "%s%s: %s goes on past 0x%" PRIx64, path, how,
				      name, f->end);
		}
		free(buf);
		if (r != GOBIN_OK)
			continue;
		CHECK(f->entry == truth_off(t, f->addr), "%s%s: %s at file offset 0x%" PRIx64
		      ", readelf's segments say 0x%" PRIx64, path, how, name, f->entry, truth_off(t, f->addr));
		CHECK(f->check == truth_off(t, truth_check(path, f->addr)), "%s%s: %s's stack check "
		      "branch at 0x%" PRIx64 ", objdump's first conditional jump (a JBE) is at 0x%" PRIx64,
		      path, how, name, f->check, truth_check(path, f->addr));
		check_sites(path, how, name, t, f);
		n = truth_rets(path, t, f->addr, f->end, want, GOBIN_MAX_RETS);
		CHECK(n > 0 && (uint32_t)n == f->nret && !memcmp(want, f->ret, f->nret * sizeof(f->ret[0])),
		      "%s%s: %s has %u returns, objdump finds %d%s", path, how, name, f->nret, n,
		      (uint32_t)n == f->nret ? " at other offsets" : "");
	}
}

/* twin: the same program built the same way but not stripped, whose
 * symbols are then the ground truth (NULL if none). */
static void check_binary(const char *go, const char *path, const char *twin, bool expect_tls)
{
	struct truth t;

	if (truth_read(go, path, &t)) {
		CHECK(0, "%s: cannot read its ground truth", path);
		return;
	}
	if (!t.have_syms && twin) {
		struct truth tt;

		memset(&tt, 0, sizeof(tt));
		CHECK(truth_syms(go, twin, &tt) == 0 && tt.have_syms, "%s: no symbols", twin);
		memcpy(t.sym_addr, tt.sym_addr, sizeof(t.sym_addr));
		memcpy(t.sym_size, tt.sym_size, sizeof(t.sym_size));
		t.twin_syms = true;
	}
	check_one(go, path, &t, 0, expect_tls);
	check_one(go, path, &t, GOBIN_NO_SYMTAB, expect_tls);
}

/* ---- hostile files ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat sb;
	uint8_t *b;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &sb) || !(b = malloc((size_t)sb.st_size + 1)) ||
	    read(fd, b, (size_t)sb.st_size) != sb.st_size)
		abort();
	close(fd);
	*len = (size_t)sb.st_size;
	return b;
}

static void put(const char *path, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, b, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* A damaged file: any verdict but a crash, and OK only with the intact
 * file's offsets. */
static int check_damaged(const char *path, const struct gobin *intact, const char *what)
{
	struct gobin g;
	int r = gobin_analyse(path, 0, &g);

	CHECK(r == GOBIN_NOT_GO || r == GOBIN_NO_TLS || r == GOBIN_REFUSED || r == GOBIN_OK,
	      "%s: result %d", what, r);
	if (r == GOBIN_OK)
		CHECK(same_funcs(&g, intact), "%s: traceable, but not where the intact file is", what);
	CHECK(g.version[sizeof(g.version) - 1] == '\0' && g.why[sizeof(g.why) - 1] == '\0',
	      "%s: strings not terminated", what);
	return r;
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The file cut short at every boundary that matters. */
static void hostile_truncate(const char *src)
{
	struct section sec[128];
	size_t len, nsec = read_sections(src, sec, 128), ncut = 0;
	uint8_t *b = slurp(src, &len);
	uint64_t cut[1200];
	char path[512], what[600];
	struct gobin intact;
	int fd, verdicts[4] = { 0 };

	CHECK(gobin_analyse(src, 0, &intact) == GOBIN_OK, "%s: not traceable intact", src);
	for (uint64_t i = 0; i <= 128; i += 4)
		cut[ncut++] = i;
	for (size_t i = 0; i < nsec && ncut + 5 <= 1200; i++) {
		uint64_t o[5] = { sec[i].off, sec[i].off + 1, sec[i].off + sec[i].size / 2,
				  sec[i].off + sec[i].size - 1, sec[i].off + sec[i].size };

		for (int j = 0; j < 5; j++)
			if (o[j] < len)
				cut[ncut++] = o[j];
	}
	for (uint64_t i = 1; i < 98 && ncut < 1200; i++)
		cut[ncut++] = len * i / 98;
	if (ncut < 1200)
		cut[ncut++] = len - 1;
	qsort(cut, ncut, sizeof(cut[0]), cmp_desc);

	snprintf(path, sizeof(path), "%s/truncated", tmpdir);
	put(path, b, len);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	for (size_t i = 0; i < ncut; i++) {
		int r;

		if (i && cut[i] == cut[i - 1])
			continue;
		if (ftruncate(fd, (off_t)cut[i]))
			abort();
		snprintf(what, sizeof(what), "%s cut at %" PRIu64, src, cut[i]);
		r = check_damaged(path, &intact, what);
		if (r >= 0 && r < 4)
			verdicts[r]++;
	}
	close(fd);
	free(b);
	CHECK(verdicts[GOBIN_NOT_GO] > 0 && verdicts[GOBIN_REFUSED] > 0,
	      "%s truncated: %d not Go, %d refused: expected both", src,
	      verdicts[GOBIN_NOT_GO], verdicts[GOBIN_REFUSED]);
	printf("test_gobin: %s truncated %zu ways: %d not Go, %d no TLS, %d refused, %d intact\n",
	       src, ncut, verdicts[0], verdicts[1], verdicts[2], verdicts[3]);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Writes b with len bytes at off replaced by v, analyses it, restores b. */
static int with_bytes(const char *path, uint8_t *b, size_t len, uint64_t off, const void *v,
		      size_t n, const struct gobin *intact, const char *what)
{
	uint8_t save[16];
	int r;

	if (off > len || n > len - off || n > sizeof(save))
		abort();
	memcpy(save, b + off, n);
	memcpy(b + off, v, n);
	put(path, b, len);
	r = check_damaged(path, intact, what);
	memcpy(b + off, save, n);
	return r;
}

/* A damaged pclntab: the header words, the function table, the _func
 * records, random flips; and random flips in the build info. */
static void hostile_pclntab(const char *src)
{
	struct section sec[128];
	size_t len, nsec = read_sections(src, sec, 128);
	const struct section *pt = find_section(sec, nsec, ".gopclntab", ".data.rel.ro.gopclntab");
	const struct section *bi = find_section(sec, nsec, ".go.buildinfo", NULL);
	uint8_t *b = slurp(src, &len);
	char path[512], what[600];
	struct gobin intact;
	uint64_t nfunc, functab;
	int r, refused = 0, ok = 0, flips = 0;

	snprintf(path, sizeof(path), "%s/damaged", tmpdir);
	CHECK(gobin_analyse(src, GOBIN_NO_SYMTAB, &intact) == GOBIN_OK, "%s: not traceable", src);
	/* the words below are those of Go 1.18+ on a 64-bit machine */
	CHECK(intact.pcln >= GOBIN_PCLN_118, "%s: not a Go 1.18+ pclntab", src);
	if (intact.pcln < GOBIN_PCLN_118)
		goto out;
	CHECK(pt && bi && pt->off + pt->size <= len, "%s: no .gopclntab/.go.buildinfo", src);
	if (!pt || !bi || pt->off + pt->size > len)
		goto out;
	/* stripped of its symbols: the pclntab is all there is */
	CHECK(intact.from_pclntab, "%s: functions not from the pclntab", src);

	/* the magic, then each header word: 0, 1, past the table, all ones */
	{
		uint32_t bad = 0xfffffff5;

		r = with_bytes(path, b, len, pt->off, &bad, 4, &intact, "bad pclntab magic");
		CHECK(r == GOBIN_REFUSED, "bad pclntab magic: result %d", r);
	}
	for (int w = 0; w < 8; w++) {
		uint64_t vals[] = { 0, 1, pt->size + 8, UINT64_MAX, pt->size / 2 };

		for (size_t v = 0; v < sizeof(vals) / sizeof(vals[0]); v++) {
			snprintf(what, sizeof(what), "pclntab header word %d = 0x%" PRIx64, w, vals[v]);
			r = with_bytes(path, b, len, pt->off + 8 + 8 * (uint64_t)w, &vals[v], 8, &intact, what);
			/* nfiles (word 1) is not read: any value leaves the
			 * table usable; half the size may be a valid offset */
			if (w != 1 && v != 4)
				CHECK(r != GOBIN_OK, "%s: still traceable", what);
		}
	}
	/* the function table: two entries swapped, an _func's entry moved */
	memcpy(&nfunc, b + pt->off + 8, 8);
	memcpy(&functab, b + pt->off + 8 + 7 * 8, 8);
	if (functab < pt->size && nfunc > 4 && (2 * nfunc + 1) * 4 < pt->size - functab) {
		uint8_t *ft = b + pt->off + functab;
		uint32_t e[4], fo;

		for (uint64_t i = 1; i + 2 < nfunc; i += nfunc / 7) {
			memcpy(e, ft + 8 * i, 8);
			memcpy(e + 2, ft + 8 * (i + 1), 8);
			{
				uint32_t swapped[4] = { e[2], e[3], e[0], e[1] };

				snprintf(what, sizeof(what), "functab entries %" PRIu64 " and %" PRIu64 " swapped", i, i + 1);
				r = with_bytes(path, b, len, pt->off + functab + 8 * i, swapped, 16, &intact, what);
				CHECK(r == GOBIN_REFUSED, "%s: result %d", what, r);
			}
			memcpy(&fo, ft + 8 * i + 4, 4);
			if (functab + fo + 4 <= pt->size) {
				uint32_t moved = e[0] + 32;

				snprintf(what, sizeof(what), "_func %" PRIu64 "'s entry moved", i);
				r = with_bytes(path, b, len, pt->off + functab + fo, &moved, 4, &intact, what);
				CHECK(r == GOBIN_REFUSED, "%s: result %d", what, r);
			}
		}
	}
	/* random byte flips: a quarter in the header and function table,
	 * one in eight in the build info, the rest anywhere in the table */
	for (int i = 0; i < 400; i++) {
		uint64_t head = functab + (2 * nfunc + 1) * 4, off;
		uint8_t v;

		if (head > pt->size)
			head = pt->size;
		if (i % 8 == 7)
			off = bi->off + rnd() % bi->size;
		else if (i % 4 == 0)
			off = pt->off + rnd() % head;
		else
			off = pt->off + rnd() % pt->size;
		v = b[off] ^ (uint8_t)(1u << (rnd() % 8));
		snprintf(what, sizeof(what), "%s: byte 0x%" PRIx64 " flipped", src, off);
		r = with_bytes(path, b, len, off, &v, 1, &intact, what);
		refused += r == GOBIN_REFUSED;
		ok += r == GOBIN_OK;
		flips++;
	}
	printf("test_gobin: %s: %d byte flips: %d refused, %d traceable as intact\n",
	       src, flips, refused, ok);
out:
	free(b);
}

/* Files that are not Go executables at all. */
static void hostile_other(const char *go_binary)
{
	static const uint8_t text[] = "#!/bin/sh\necho not an ELF file\n";
	char path[512];
	struct gobin g;
	uint8_t *b;
	size_t len;
	int r;

	/* this test itself (C, not Go), a shared library, a system tool */
	CHECK(gobin_analyse("/proc/self/exe", 0, &g) == GOBIN_NOT_GO, "test_gobin itself: not NOT_GO");
	CHECK(gobin_analyse("/bin/sh", 0, &g) == GOBIN_NOT_GO, "/bin/sh: not NOT_GO");
	r = gobin_analyse("/lib/x86_64-linux-gnu/libc.so.6", 0, &g);
	CHECK(r == GOBIN_NOT_GO || r == -ENOENT, "libc.so.6: result %d", r);

	snprintf(path, sizeof(path), "%s/text", tmpdir);
	put(path, text, sizeof(text) - 1);
	CHECK(gobin_analyse(path, 0, &g) == GOBIN_NOT_GO, "a text file: not NOT_GO");
	put(path, text, 0);
	CHECK(gobin_analyse(path, 0, &g) == GOBIN_NOT_GO, "an empty file: not NOT_GO");
	put(path, "\x7f" "ELF", 4);
	CHECK(gobin_analyse(path, 0, &g) == GOBIN_NOT_GO, "an ELF magic alone: not NOT_GO");
	CHECK(gobin_analyse(tmpdir, 0, &g) == GOBIN_NOT_GO, "a directory: not NOT_GO");
	CHECK(gobin_analyse("/dev/null", 0, &g) == GOBIN_NOT_GO, "/dev/null: not NOT_GO");
	CHECK(gobin_analyse("/nonexistent/go-binary", 0, &g) == -ENOENT, "a missing file: not -ENOENT");
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	if (mkfifo(path, 0600) == 0)
		CHECK(gobin_analyse(path, 0, &g) == GOBIN_NOT_GO, "a FIFO: not NOT_GO (or hung)");

	/* A Go binary whose ELF header points its tables out of the file. */
	b = slurp(go_binary, &len);
	snprintf(path, sizeof(path), "%s/badelf", tmpdir);
	{
		Elf64_Ehdr eh;
		struct {
			size_t off;
			uint64_t v;
			size_t n;
		} edits[] = {
			{ offsetof(Elf64_Ehdr, e_phoff), (uint64_t)len - 8, 8 },
			{ offsetof(Elf64_Ehdr, e_phoff), UINT64_MAX - 7, 8 },
			{ offsetof(Elf64_Ehdr, e_phnum), 0xffff, 2 },
			{ offsetof(Elf64_Ehdr, e_shoff), (uint64_t)len - 8, 8 },
			{ offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 7, 8 },
			{ offsetof(Elf64_Ehdr, e_shnum), 0xffff, 2 },
			{ offsetof(Elf64_Ehdr, e_shstrndx), 0xfffe, 2 },
			{ offsetof(Elf64_Ehdr, e_phentsize), 1, 2 },
			{ offsetof(Elf64_Ehdr, e_shentsize), 1, 2 },
			{ offsetof(Elf64_Ehdr, e_machine), EM_AARCH64, 2 },
		};
		struct gobin intact;

		CHECK(gobin_analyse(go_binary, 0, &intact) == GOBIN_OK, "%s: not traceable", go_binary);
		memcpy(&eh, b, sizeof(eh));
		for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
			char what[128];

			snprintf(what, sizeof(what), "ELF header field at %zu = 0x%" PRIx64, edits[i].off, edits[i].v);
			r = with_bytes(path, b, len, edits[i].off, &edits[i].v, edits[i].n, &intact, what);
			if (edits[i].off == offsetof(Elf64_Ehdr, e_machine))
				CHECK(r == GOBIN_REFUSED, "%s: result %d, not refused", what, r);
		}
		/* each program header's offset and address moved off the file */
		for (uint16_t i = 0; i < eh.e_phnum && eh.e_phoff + (i + 1) * sizeof(Elf64_Phdr) <= len; i++) {
			uint64_t far = (uint64_t)len * 4;
			char what[128];

			snprintf(what, sizeof(what), "program header %u's p_offset off the file", i);
			with_bytes(path, b, len, eh.e_phoff + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_offset),
				   &far, 8, &intact, what);
			snprintf(what, sizeof(what), "program header %u's p_filesz past the file", i);
			with_bytes(path, b, len, eh.e_phoff + i * sizeof(Elf64_Phdr) + offsetof(Elf64_Phdr, p_filesz),
				   &far, 8, &intact, what);
		}
	}
	free(b);
}

/* Checks every binary in a build.sh output; then, if hostile and its
 * default server is traceable, the hostile cases on it.  Returns whether
 * those ran. */
static bool check_dir(const char *dir, bool hostile)
{
	char path[512], go[512], mode[64];
	FILE *f;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/GO", dir);
	if (!(f = fopen(path, "r")) || !fgets(go, sizeof(go), f)) {
		CHECK(0, "%s: no GO file (not a tests/go/build.sh output?)", dir);
		if (f)
			fclose(f);
		return false;
	}
	fclose(f);
	go[strcspn(go, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/MODES", dir);
	if (!(f = fopen(path, "r"))) {
		CHECK(0, "%s: no MODES file", dir);
		return false;
	}
	while (fgets(mode, sizeof(mode), f)) {
		char twin_mode[64], twin[512];
		size_t ml;

		mode[strcspn(mode, "\n")] = '\0';
		ml = strlen(mode);
		/* "stripped" is "default" with -s -w; "X-stripped" is X's */
		snprintf(twin_mode, sizeof(twin_mode), "%s", !strcmp(mode, "stripped") ? "default" : mode);
		if (ml > 9 && !strcmp(mode + ml - 9, "-stripped"))
			twin_mode[ml - 9] = '\0';
		for (int prog = 0; prog < 2; prog++) {
			const char *p = prog ? "client" : "server";

			snprintf(path, sizeof(path), "%s/%s-%s", dir, p, mode);
			snprintf(twin, sizeof(twin), "%s/%s-%s", dir, p, twin_mode);
			check_binary(go, path, strcmp(twin_mode, mode) ? twin : NULL, true);
		}
		n++;
	}
	fclose(f);
	CHECK(n >= 4, "%s: %zu build modes, expected at least 4", dir, n);
	printf("test_gobin: %s: %zu build modes checked with %s\n", dir, n, go);
	snprintf(path, sizeof(path), "%s/server-default", dir);
	{
		struct gobin g;

		if (!hostile || gobin_analyse(path, 0, &g) != GOBIN_OK || g.pcln < GOBIN_PCLN_118)
			return false;
	}
	hostile_truncate(path);
	hostile_other(path);
	snprintf(path, sizeof(path), "%s/server-stripped", dir);
	hostile_truncate(path);
	hostile_pclntab(path);
	snprintf(path, sizeof(path), "%s/server-staticpie-stripped", dir);
	if (access(path, R_OK) == 0)
		hostile_truncate(path);
	return true;
}

/* ---- crafted code: gobin_scan on functions written for one case each ---- */

/* Every crafted function starts with Go's stack check and ends with its
 * call to morestack at 0x20:
 *   0: cmp rsp,[r14+0x10]   4: jbe 0x20   ...   20: call 0x25   25: jmp 0 */
#define PRO 0x49, 0x3b, 0x66, 0x10, 0x76, 0x1a
#define MS 0xe8, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xd9
#define CRAFT_LEN 0x27
#define A GOBIN_ALWAYS

static const struct crafted {
	const char *name;
	int k;                 /* enum gobin_fn: the handshake needs no n */
	uint8_t code[CRAFT_LEN];
	int result;            /* GOBIN_OK or GOBIN_REFUSED */
	uint32_t nstepped;
	uint32_t nsite;
	struct gobin_site site[4]; /* off relative to the entry */
} crafted[] = {
	{ "a direct call before the RET; n in the frame", GOBIN_READ, {
		PRO,
		0x48, 0x83, 0xec, 0x18,             /*  6: sub rsp,0x18 */
		0x48, 0x89, 0x4c, 0x24, 0x08,       /*  a: mov [rsp+8],rcx */
		0xe8, 0x00, 0x00, 0x00, 0x00,       /*  f: call 0x14 */
		0x48, 0x8b, 0x44, 0x24, 0x08,       /* 14: mov rax,[rsp+8] */
		0x48, 0x83, 0xc4, 0x18,             /* 19: add rsp,0x18 */
		0xc3, 0xcc, 0xcc,                   /* 1d: ret */
		MS }, GOBIN_OK, 0, 1,
	  { { 0xf, A, GOBIN_SRC_STACK, 0, false, 8 } } },
	{ "the same in the handshake: n not wanted", GOBIN_HANDSHAKE, {
		PRO,
		0x48, 0x83, 0xec, 0x18, 0x48, 0x89, 0x4c, 0x24, 0x08, 0xe8, 0x00, 0x00, 0x00, 0x00,
		0x48, 0x8b, 0x44, 0x24, 0x08, 0x48, 0x83, 0xc4, 0x18, 0xc3, 0xcc, 0xcc,
		MS }, GOBIN_OK, 0, 1,
	  { { 0xf, A, GOBIN_SRC_NONE, 0, false, 0 } } },
	{ "a JE and a JMP into the run; n in RCX", GOBIN_WRITE, {
		PRO,
		0x48, 0x85, 0xc9,                   /*  6: test rcx,rcx */
		0x74, 0x05,                         /*  9: je 0x10 */
		0x31, 0xc9,                         /*  b: xor ecx,ecx */
		0xeb, 0x01,                         /*  d: jmp 0x10 */
		0x90,                               /*  f: nop */
		0x48, 0x89, 0xc8,                   /* 10: mov rax,rcx */
		0xc3,                               /* 13: ret */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 0, 2,
	  { { 0x9, 0x4, GOBIN_SRC_REG, GOBIN_RCX, false, 0 },
	    { 0xd, A, GOBIN_SRC_REG, GOBIN_RCX, false, 0 } } },
	{ "a JNE falling through to one RET, taken to another", GOBIN_READ, {
		PRO,
		0x48, 0x85, 0xc0,                   /*  6: test rax,rax */
		0x75, 0x04,                         /*  9: jne 0xf */
		0x31, 0xc0,                         /*  b: xor eax,eax */
		0xc3,                               /*  d: ret */
		0xcc,                               /*  e: int3 */
		0x48, 0x8b, 0x44, 0x24, 0x08,       /*  f: mov rax,[rsp+8] */
		0xc3,                               /* 14: ret */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 0, 2,
	  { { 0x9, 0x4, GOBIN_SRC_CONST, 0, false, 0 },
	    { 0x9, 0x5, GOBIN_SRC_STACK, 0, false, 8 } } },
	{ "n computed on a way in: the RET is single-stepped", GOBIN_READ, {
		PRO,
		0x48, 0x85, 0xc9,                   /*  6: test rcx,rcx */
		0x74, 0x03,                         /*  9: je 0xe */
		0x48, 0xff, 0xc1,                   /*  b: inc rcx */
		0x48, 0x89, 0xc8,                   /*  e: mov rax,rcx */
		0xc3,                               /* 11: ret */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 1, 1,
	  { { 0x11, A, GOBIN_SRC_REG, GOBIN_RAX, true, 0 } } },
	{ "the same in the handshake: both ways through the JE", GOBIN_HANDSHAKE, {
		PRO,
		0x48, 0x85, 0xc9, 0x74, 0x03, 0x48, 0xff, 0xc1, 0x48, 0x89, 0xc8, 0xc3,
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 0, 2,
	  { { 0x9, 0x4, GOBIN_SRC_NONE, 0, false, 0 },
	    { 0x9, 0x5, GOBIN_SRC_NONE, 0, false, 0 } } },
	{ "a store through another register: the frame is not certain", GOBIN_READ, {
		PRO,
		0xe8, 0x00, 0x00, 0x00, 0x00,       /*  6: call 0xb */
		0x48, 0x89, 0x0f,                   /*  b: mov [rdi],rcx */
		0x48, 0x8b, 0x44, 0x24, 0x08,       /*  e: mov rax,[rsp+8] */
		0xc3,                               /* 13: ret */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 1, 1,
	  { { 0x13, A, GOBIN_SRC_REG, GOBIN_RAX, true, 0 } } },
	{ "the same in a Write: its length is taken", GOBIN_WRITE, {
		PRO,
		0xe8, 0x00, 0x00, 0x00, 0x00, 0x48, 0x89, 0x0f, 0x48, 0x8b, 0x44, 0x24, 0x08, 0xc3,
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 0, 1,
	  { { 0x6, A, GOBIN_SRC_NONE, 0, false, 0 } } },
	{ "a sum (Write's n + m): not followed", GOBIN_WRITE, {
		PRO,
		0xe8, 0x00, 0x00, 0x00, 0x00,       /*  6: call 0xb */
		0x48, 0x8b, 0x5c, 0x24, 0x38,       /*  b: mov rbx,[rsp+0x38] */
		0x48, 0x01, 0xf3,                   /* 10: add rbx,rsi */
		0x48, 0x89, 0xd8,                   /* 13: mov rax,rbx */
		0xc3,                               /* 16: ret */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_OK, 0, 1,
	  { { 0x6, A, GOBIN_SRC_NONE, 0, false, 0 } } },
	{ "the stack check's branch is a JB, not Go's JBE", GOBIN_READ, {
		0x49, 0x3b, 0x66, 0x10, 0x72, 0x1a,
		0xc3, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_REFUSED, 0, 0, { { 0 } } },
	{ "a branch into the middle of an instruction", GOBIN_READ, {
		PRO,
		0x74, 0x01,                         /*  6: je 0x9 (inside the mov at 8) */
		0x48, 0x89, 0xc8,                   /*  8: mov rax,rcx */
		0xc3,                               /*  b: ret */
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
		MS }, GOBIN_REFUSED, 0, 0, { { 0 } } },
};

static void check_crafted(void)
{
	for (size_t i = 0; i < sizeof(crafted) / sizeof(crafted[0]); i++) {
		const struct crafted *c = &crafted[i];
		struct gobin_func f = { .addr = 0x401000, .end = 0x401000 + CRAFT_LEN, .entry = 0x1000 };
		char why[200] = "";
		int r = gobin_scan(c->code, CRAFT_LEN, c->k, &f, why, sizeof(why));
		bool same = true;

		CHECK(r == c->result, "crafted \"%s\": %d, not %d (%s)", c->name, r, c->result, why);
		if (r != GOBIN_OK || c->result != GOBIN_OK)
			continue;
		CHECK(f.check == 0x1004, "crafted \"%s\": check at 0x%" PRIx64, c->name, f.check);
		CHECK(f.nstepped == c->nstepped, "crafted \"%s\": %u stepped, not %u", c->name,
		      f.nstepped, c->nstepped);
		same = f.nsite == c->nsite;
		for (uint32_t j = 0; same && j < f.nsite; j++) {
			const struct gobin_site *x = &f.site[j], *y = &c->site[j];

			same = x->off == 0x1000 + y->off && x->cond == y->cond && x->src == y->src &&
			       x->ret == y->ret && (x->src != GOBIN_SRC_REG || x->reg == y->reg) &&
			       ((x->src != GOBIN_SRC_STACK && x->src != GOBIN_SRC_CONST) || x->val == y->val);
		}
		CHECK(same, "crafted \"%s\": other sites (%u, first at +0x%" PRIx64 " cond %u src %u)",
		      c->name, f.nsite, f.nsite ? f.site[0].off - 0x1000 : 0,
		      f.nsite ? f.site[0].cond : 0, f.nsite ? f.site[0].src : 0);
	}
}

int main(int argc, char **argv)
{
	const char *go = getenv("GO") ? getenv("GO") : "go";
	bool hostile = true;

	if (getenv("OBJDUMP"))
		objdump_cmd = getenv("OBJDUMP");
	if (getenv("READELF"))
		readelf_cmd = getenv("READELF");
	check_crafted();
	if (argc < 2) {
		fprintf(stderr, "test_gobin: crafted code: %d checks, %d failed; no Go programs "
			"to read (golang-go not installed): skipped\n", checks, failures);
		return failures ? 1 : 77;
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat sb;

		if (stat(argv[i], &sb)) {
			CHECK(0, "%s: %s", argv[i], strerror(errno));
		} else if (S_ISDIR(sb.st_mode)) {
			/* the hostile cases run once, on the first
			 * directory of traceable Go 1.18+ binaries */
			if (check_dir(argv[i], hostile))
				hostile = false;
		} else {
			check_binary(go, argv[i], NULL, false);
		}
	}
	free(run(NULL, "rm -rf '%s'", tmpdir));
	printf("test_gobin: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
