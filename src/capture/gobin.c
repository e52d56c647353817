/* gobin.c -- reads a Go executable to find where to probe its crypto/tls: Go version, ABI, entry and return offsets.
 *
 * What the Go toolchain writes, and what this reads of it (cmd/link
 * writes these; debug/buildinfo and debug/gosym read them back):
 * - .go.buildinfo (Go 1.13+, kept by -s -w): a 32-byte header: the magic
 *   "\xff Go buildinf:", the pointer size, a flags byte.  With flags & 2
 *   (Go 1.18+) the version and module strings follow inline, each a
 *   uvarint length and its bytes; before, two pointers follow, each to a
 *   Go string header {data, len}.  Without section headers it is found
 *   at a 16-byte boundary early in the first writable segment.
 * - .gopclntab (kept by -s -w; named .data.rel.ro.gopclntab in PIE, and
 *   merged into .data.rel.ro, i.e. nameless, by an external linker): a
 *   header -- magic, 0, 0, instruction quantum, pointer size, then words
 *   (see pcln_open) -- and a table of functions sorted by entry, each
 *   pointing at a _func record whose first field is its entry and whose
 *   second is its name's offset in the name table.
 * - .symtab, when not stripped: ELF symbols with sizes.
 *
 * Addresses become file offsets through the program headers (the PT_LOAD
 * that holds them), never through section arithmetic: that is what holds
 * for plain, PIE and static-PIE builds, internally or externally linked.
 *
 * Return instructions are found by decoding each function from its entry
 * to its end with Zydis, a table-driven x86-64 decoder: a 0xC3 byte inside
 * another instruction (an immediate, a displacement, a ModRM) is never
 * taken for a RET.  Zydis rather than Capstone: it decodes x86 only, fully
 * (Debian's Capstone 4.0.2 is from 2020), allocates nothing, and its
 * decode call takes a length bound; an arm64 port would need no decoder
 * at all (fixed 4-byte instructions).
 *
 * Certainty before tracing: the register ABI (Go 1.17+ on amd64: receiver
 * RAX, buffer RBX, length RCX; results RAX, RBX:RCX; g in R14) is taken
 * from the version and then checked in the code itself: each function's
 * prologue must compare against the stack guard through R14
 * (16(R14) is g.stackguard0), and branch to morestack right after.  The
 * entry probe goes after that branch, at the body: when the stack must
 * grow, morestack runs the function again from its first instruction,
 * and a probe there would see one call twice.  A function must not jump out of itself (a
 * tail call would return past the probes) or jump indirectly, and must be
 * decodable to its last byte.  Anything else is refused with a reason.
 *
 * Every read is bounded by the file's size and by a read budget, so a
 * truncated or hostile file costs a bounded time and never a crash; the
 * file is read with pread, never mapped (a file truncated under a mapping
 * raises SIGBUS).
 */
#include "capture/gobin.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

const char *const gobin_fn_name[GOBIN_NFN] = {
	[GOBIN_WRITE] = "crypto/tls.(*Conn).Write",
	[GOBIN_READ] = "crypto/tls.(*Conn).Read",
	[GOBIN_HANDSHAKE] = "crypto/tls.(*Conn).handshakeContext", /* Go 1.17+ */
};

#define GOBIN_MAX_SEGS 32            /* PT_LOAD segments kept; Go writes 3-5 */
#define GOBIN_MAX_FUNC (1u << 20)    /* bytes of code in one function */
#define GOBIN_MAX_NAMEHITS 4         /* copies of a name in the name table */
#define GOBIN_WIN (256u * 1024)      /* a read window over the pclntab */
#define GOBIN_SCAN_CHUNK (1u << 20)  /* bytes per read when searching */
#define GOBIN_PROLOGUE 6             /* instructions in which the stack check must appear */

#define BI_MAGIC "\xff Go buildinf:"
#define BI_MAGIC_LEN 14
#define BI_HEADER 32

/* pclntab magics, little-endian */
#define PCLN_MAGIC_12 0xfffffffbu
#define PCLN_MAGIC_116 0xfffffffau
#define PCLN_MAGIC_118 0xfffffff0u
#define PCLN_MAGIC_120 0xfffffff1u
#define PCLN_HEADER (8 + 8 * 8) /* the largest header: Go 1.18+, 64-bit */

struct seg {
	uint64_t va, memsz; /* where it is loaded (link-time) */
	uint64_t off, filesz; /* where its bytes are in the file */
	uint32_t flags;     /* PF_X, PF_W, PF_R */
};

/* A read window over the file: most pclntab reads are sequential. */
struct win {
	uint64_t off; /* file offset of buf[0] */
	size_t len;   /* valid bytes */
	uint8_t *buf; /* GOBIN_WIN bytes */
};

struct pcln {
	uint64_t off, size;   /* the table's file range */
	enum gobin_pcln ver;
	unsigned ps;          /* pointer size */
	unsigned fs;          /* size of a function table field: 4 from Go 1.18, else ps */
	uint64_t nfunc;
	uint64_t names;       /* file offset that name offsets count from */
	uint64_t names_end;   /* end of the name table */
	uint64_t functab;     /* file offset of the function table */
	uint64_t funcs;       /* file offset that _func offsets count from */
	uint64_t text;        /* Go 1.18+: the address entry offsets count from */
};

struct ctx {
	int fd;
	uint64_t size;        /* the file's size: no read goes past it */
	uint64_t budget;      /* bytes left to read: bounds a hostile file's cost */
	unsigned flags;
	Elf *elf;
	uint64_t entry;       /* the ELF entry point */
	bool le, is64;
	struct seg seg[GOBIN_MAX_SEGS];
	size_t nseg;
	bool has_sections;    /* section headers with names */
	bool has_note;        /* .note.go.buildid */
	bool has_bi;          /* .go.buildinfo */
	uint64_t bi_off, bi_size;
	bool has_pcln_sec;    /* .gopclntab or .data.rel.ro.gopclntab */
	uint64_t pcln_off, pcln_size;
	Elf_Scn *symtab;
	struct gobin *g;
};

static int refuse(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->g->why, sizeof(c->g->why), fmt, ap);
	va_end(ap);
	return GOBIN_REFUSED;
}

/* --- bounded reads ------------------------------------------------------ */

/* Reads exactly len bytes at off.  0, or -ERANGE past the end of the file
 * or the read budget, or -errno. */
static int rd(struct ctx *c, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if (off > c->size || len > c->size - off || len > c->budget)
		return -ERANGE;
	c->budget -= len;
	while (done < len) {
		ssize_t n = pread(c->fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ERANGE; /* the file shrank under us */
		done += (size_t)n;
	}
	return 0;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* n bytes at file offset off, through w; NULL if they are not all inside
 * [off, lim) and the file. */
static const uint8_t *win_at(struct ctx *c, struct win *w, uint64_t off, size_t n,
			     uint64_t lim)
{
	size_t want;

	if (n > GOBIN_WIN || off > lim || n > lim - off)
		return NULL;
	if (w->len && off >= w->off && off - w->off <= w->len && n <= w->len - (off - w->off))
		return w->buf + (off - w->off);
	want = lim - off < GOBIN_WIN ? (size_t)(lim - off) : GOBIN_WIN;
	if (off > c->size || want > c->size - off)
		want = off > c->size ? 0 : (size_t)(c->size - off);
	w->len = 0;
	if (want < n || rd(c, off, w->buf, want))
		return NULL;
	w->off = off;
	w->len = want;
	return w->buf;
}

/* File offset of [va, va + len) if it lies in one PT_LOAD's file bytes
 * (and an executable one, with exec); -1 if not. */
static int va_to_off(const struct ctx *c, uint64_t va, uint64_t len, bool exec, uint64_t *off)
{
	for (size_t i = 0; i < c->nseg; i++) {
		const struct seg *s = &c->seg[i];

		if (exec && !(s->flags & PF_X))
			continue;
		if (va < s->va || va - s->va >= s->filesz || len > s->filesz - (va - s->va))
			continue;
		*off = s->off + (va - s->va);
		if (*off > c->size || len > c->size - *off)
			return -1; /* truncated file */
		return 0;
	}
	return -1;
}

/* --- ELF headers --------------------------------------------------------- */

static int read_segments(struct ctx *c)
{
	size_t n;

	if (elf_getphdrnum(c->elf, &n))
		return -1;
	for (size_t i = 0; i < n && c->nseg < GOBIN_MAX_SEGS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(c->elf, (int)i, &ph))
			return -1;
		if (ph.p_type != PT_LOAD || ph.p_filesz > ph.p_memsz ||
		    ph.p_vaddr + ph.p_filesz < ph.p_vaddr || ph.p_offset + ph.p_filesz < ph.p_offset)
			continue;
		c->seg[c->nseg++] = (struct seg){ .va = ph.p_vaddr, .memsz = ph.p_memsz,
			.off = ph.p_offset, .filesz = ph.p_filesz, .flags = ph.p_flags };
	}
	return 0;
}

/* Notes the sections that say "Go"; a file without section headers has
 * none, and is then searched by content. */
static void read_sections(struct ctx *c)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(c->elf, &shstrndx))
		return;
	while ((scn = elf_nextscn(c->elf, scn))) {
		GElf_Shdr sh;
		const char *name;
		bool in_file;

		if (!gelf_getshdr(scn, &sh))
			continue;
		/* libelf gives the index without reading the table: only
		 * a header read says there are sections */
		c->has_sections = true;
		in_file = sh.sh_type != SHT_NOBITS && sh.sh_offset <= c->size &&
			  sh.sh_size <= c->size - sh.sh_offset;
		if (sh.sh_type == SHT_SYMTAB && in_file && !c->symtab)
			c->symtab = scn;
		name = elf_strptr(c->elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".note.go.buildid")) {
			c->has_note = true;
		} else if (!strcmp(name, ".go.buildinfo") && in_file && !c->has_bi) {
			c->has_bi = true;
			c->bi_off = sh.sh_offset;
			c->bi_size = sh.sh_size;
		} else if ((!strcmp(name, ".gopclntab") || !strcmp(name, ".data.rel.ro.gopclntab")) &&
			   in_file && !c->has_pcln_sec) {
			c->has_pcln_sec = true;
			c->pcln_off = sh.sh_offset;
			c->pcln_size = sh.sh_size;
		}
	}
}

/* --- build info and version ----------------------------------------------- */

/* Reads a uvarint at *p (bounded by end); false if it is not there. */
static bool uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; *p < end && shift < 64; shift += 7) {
		uint8_t b = *(*p)++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* Copies a version string if it is printable and fits. */
static bool set_version(struct gobin *g, const uint8_t *s, uint64_t n)
{
	if (n == 0 || n >= sizeof(g->version))
		return false;
	for (uint64_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	memcpy(g->version, s, n);
	g->version[n] = '\0';
	return true;
}

/* Before Go 1.18: the version is a Go string header {data, len} at va. */
static bool read_gostring(struct ctx *c, uint64_t va, unsigned ps)
{
	uint8_t hdr[16], s[sizeof(c->g->version)];
	uint64_t off, data, len;

	if (va_to_off(c, va, 2 * ps, false, &off) || rd(c, off, hdr, 2 * ps))
		return false;
	data = get_le(hdr, ps);
	len = get_le(hdr + ps, ps);
	if (len == 0 || len >= sizeof(s) || va_to_off(c, data, len, false, &off) || rd(c, off, s, len))
		return false;
	return set_version(c->g, s, len);
}

/* Finds the build info blob: its section, or a 16-byte boundary in the
 * first writable segment (read in chunks: an external linker puts it
 * after .data.rel.ro).  Returns its file offset, or -1. */
static int64_t find_buildinfo(struct ctx *c)
{
	int64_t found = -1;
	uint8_t *buf;

	if (c->has_bi)
		return c->bi_size >= BI_HEADER ? (int64_t)c->bi_off : -1;
	if (c->has_sections) /* the Go linker always names the section */
		return -1;
	for (size_t i = 0; i < c->nseg; i++) {
		const struct seg *s = &c->seg[i];

		if ((s->flags & (PF_X | PF_W)) != PF_W)
			continue;
		if (!(buf = malloc(GOBIN_SCAN_CHUNK)))
			return -1;
		/* chunks overlap by a header, and start 16-aligned */
		for (uint64_t pos = 0; pos + BI_HEADER <= s->filesz && found < 0;
		     pos += GOBIN_SCAN_CHUNK - BI_HEADER) {
			uint64_t left = s->filesz - pos;
			size_t len = left < GOBIN_SCAN_CHUNK ? (size_t)left : GOBIN_SCAN_CHUNK;

			/* a truncated file: what is there still says "Go" */
			if (s->off + pos >= c->size)
				break;
			if (len > c->size - s->off - pos)
				len = (size_t)(c->size - s->off - pos);
			if (rd(c, s->off + pos, buf, len))
				break;
			for (size_t p = (size_t)(-(s->va + pos) & 15); p + BI_HEADER <= len; p += 16)
				if (!memcmp(buf + p, BI_MAGIC, BI_MAGIC_LEN)) {
					found = (int64_t)(s->off + pos + p);
					break;
				}
		}
		free(buf);
		return found; /* the first writable segment only, as debug/buildinfo */
	}
	return -1;
}

/* Reads the Go version into g->version; false if there is no build info. */
static bool read_buildinfo(struct ctx *c)
{
	uint8_t buf[BI_HEADER + 10 + sizeof(c->g->version)];
	const uint8_t *p, *end;
	int64_t off = find_buildinfo(c);
	uint64_t avail, n;
	unsigned ps;

	if (off < 0)
		return false;
	avail = c->size - (uint64_t)off;
	if (c->has_bi && c->bi_size < avail)
		avail = c->bi_size;
	if (avail > sizeof(buf))
		avail = sizeof(buf);
	if (avail < BI_HEADER || rd(c, (uint64_t)off, buf, (size_t)avail) ||
	    memcmp(buf, BI_MAGIC, BI_MAGIC_LEN))
		return false;
	ps = buf[14];
	if (buf[15] & 2) { /* Go 1.18+: inline strings */
		p = buf + BI_HEADER;
		end = buf + avail;
		if (!uvarint(&p, end, &n) || n > (uint64_t)(end - p))
			return false;
		return set_version(c->g, p, n);
	}
	if ((ps != 4 && ps != 8) || (buf[15] & 1)) /* big-endian: not read */
		return false;
	return read_gostring(c, get_le(buf + 16, ps), ps);
}

/* "go1.19.8", "go1.21rc2", "go1.22-20231128-RC02 cl/...", "devel go1.23-abc
 * ...": the major and minor numbers. */
static bool parse_version(const char *v, unsigned *major, unsigned *minor)
{
	char *end;
	unsigned long a, b;

	if (!strncmp(v, "devel ", 6))
		v += 6;
	if (strncmp(v, "go", 2) || v[2] < '0' || v[2] > '9')
		return false;
	a = strtoul(v + 2, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return false;
	b = strtoul(end + 1, &end, 10);
	if (a > 1000 || b > 1000)
		return false;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return true;
}

/* A toolchain experiment that turns the register ABI off, named in the
 * version string (" X:noregabi", Go 1.17's GOEXPERIMENT). */
static bool abi_experiment_off(const char *v)
{
	const char *x = strstr(v, " X:");

	return x && strstr(x, "noregabi");
}

/* --- pclntab --------------------------------------------------------------- */

/* Reads the header of a pclntab at [off, off + size).  0, or -1 if it is
 * not one (why is set when it looks like one but is damaged). */
static int pcln_open(struct ctx *c, uint64_t off, uint64_t size, struct pcln *p)
{
	uint8_t h[PCLN_HEADER];
	uint64_t w[8];
	size_t hlen = size < PCLN_HEADER ? (size_t)size : PCLN_HEADER;
	uint32_t magic;
	unsigned nw;

	memset(p, 0, sizeof(*p));
	/* A table that runs past the end of the file is a truncated file. */
	if (hlen < 16 || off > c->size || size > c->size - off || rd(c, off, h, hlen))
		return -1;
	magic = (uint32_t)get_le(h, 4);
	if (h[4] || h[5] || (h[6] != 1 && h[6] != 2 && h[6] != 4) || (h[7] != 4 && h[7] != 8))
		return -1;
	switch (magic) {
	case PCLN_MAGIC_12: p->ver = GOBIN_PCLN_12; nw = 1; break;
	case PCLN_MAGIC_116: p->ver = GOBIN_PCLN_116; nw = 7; break;
	case PCLN_MAGIC_118: p->ver = GOBIN_PCLN_118; nw = 8; break;
	case PCLN_MAGIC_120: p->ver = GOBIN_PCLN_120; nw = 8; break;
	default: return -1;
	}
	p->off = off;
	p->size = size;
	p->ps = h[7];
	p->fs = p->ver >= GOBIN_PCLN_118 ? 4 : p->ps;
	if (8 + nw * p->ps > hlen)
		return -1;
	for (unsigned i = 0; i < nw; i++)
		w[i] = get_le(h + 8 + i * p->ps, p->ps);
	p->nfunc = w[0];
	if (p->ver == GOBIN_PCLN_12) {
		/* nfunc, then the function table: {entry, funcoff} pairs and
		 * the end address; names and _funcs count from the table. */
		p->names = p->funcs = off;
		p->names_end = off + size;
		p->functab = off + 8 + p->ps;
	} else {
		/* Go 1.16: nfunc, nfiles, then offsets of funcnametab, cutab,
		 * filetab, pctab, functab; Go 1.18 adds textStart after
		 * nfiles, and entries become 32-bit offsets from it (Go 1.20
		 * keeps this layout and changes the magic). */
		const uint64_t *o = p->ver == GOBIN_PCLN_116 ? w + 2 : w + 3;

		for (unsigned i = 0; i < 5; i++)
			if (o[i] < 8 || o[i] >= size || (i && o[i] < o[i - 1]))
				return -1;
		p->names = off + o[0];
		p->names_end = off + o[1];
		p->functab = p->funcs = off + o[4];
		if (p->ver >= GOBIN_PCLN_118)
			p->text = w[2];
	}
	if (p->nfunc == 0 || p->nfunc > size / (2 * p->fs) ||
	    (2 * p->nfunc + 1) * p->fs > off + size - p->functab)
		return -1;
	return 0;
}

/* The i-th entry of the function table: its field-th word (0: entry, 1: _func offset). */
static bool pcln_field(struct ctx *c, const struct pcln *p, struct win *w, uint64_t i,
		       unsigned field, uint64_t *v)
{
	const uint8_t *b = win_at(c, w, p->functab + (2 * i + field) * p->fs, p->fs,
				  p->off + p->size);

	if (!b)
		return false;
	*v = get_le(b, p->fs);
	if (field == 0 && p->ver >= GOBIN_PCLN_118)
		*v += p->text;
	return true;
}

/* Offsets (from p->names) of every copy of each function's name in the
 * name table, found by reading it in chunks; nhits[k] says how many (at
 * most GOBIN_MAX_NAMEHITS).  0, or -1 if the table cannot be read. */
static int pcln_name_offsets(struct ctx *c, const struct pcln *p,
			     uint64_t hits[][GOBIN_MAX_NAMEHITS], size_t *nhits)
{
	int ret = 0;
	size_t overlap = 0;
	uint64_t pos = p->names;
	uint8_t *buf = malloc(GOBIN_SCAN_CHUNK);

	for (int k = 0; k < GOBIN_NFN; k++) {
		nhits[k] = 0;
		if (strlen(gobin_fn_name[k]) + 2 > overlap)
			overlap = strlen(gobin_fn_name[k]) + 2;
	}
	if (!buf)
		return -1;
	while (pos < p->names_end) {
		uint64_t left = p->names_end - pos;
		size_t len = left < GOBIN_SCAN_CHUNK ? (size_t)left : GOBIN_SCAN_CHUNK;

		if (rd(c, pos, buf, len)) {
			ret = -1;
			break;
		}
		for (int k = 0; k < GOBIN_NFN; k++) {
			const char *name = gobin_fn_name[k];
			size_t nlen = strlen(name);
			const uint8_t *q = buf, *end = buf + len;

			/* A name starts at the table's first byte or after a
			 * NUL, and ends with a NUL.  Chunks overlap by more
			 * than a name, so one found twice is kept once. */
			while ((size_t)(end - q) > nlen && (q = memmem(q, (size_t)(end - q) - 1, name, nlen))) {
				bool starts = (q == buf && pos == p->names) || (q > buf && q[-1] == '\0');
				uint64_t at = pos + (uint64_t)(q - buf) - p->names;
				size_t h = 0;

				while (h < nhits[k] && hits[k][h] != at)
					h++;
				if (starts && q[nlen] == '\0' && h == nhits[k] &&
				    nhits[k] < GOBIN_MAX_NAMEHITS)
					hits[k][nhits[k]++] = at;
				q++;
			}
		}
		if (len == left)
			break;
		pos += len - overlap;
	}
	free(buf);
	return ret;
}

/* Finds the functions in the pclntab: addr and end of each (0 if absent).
 * 0, or GOBIN_REFUSED when the table is damaged. */
static int pcln_find(struct ctx *c, const struct pcln *p, uint64_t *addr, uint64_t *end)
{
	uint64_t hits[GOBIN_NFN][GOBIN_MAX_NAMEHITS];
	size_t nhits[GOBIN_NFN], total = 0;
	struct win wt = { 0 }, wf = { 0 };
	uint64_t pc, first, next, lim = p->off + p->size;
	bool entry_seen = false;
	int ret = GOBIN_REFUSED;

	if (pcln_name_offsets(c, p, hits, nhits))
		return refuse(c, "the pclntab's name table cannot be read");
	for (int k = 0; k < GOBIN_NFN; k++) {
		addr[k] = end[k] = 0;
		total += nhits[k];
	}
	if (!total)
		return 0;
	wt.buf = malloc(GOBIN_WIN);
	wf.buf = malloc(GOBIN_WIN);
	if (!wt.buf || !wf.buf) {
		ret = refuse(c, "out of memory reading the pclntab");
		goto out;
	}
	if (!pcln_field(c, p, &wt, 0, 0, &pc))
		goto damaged;
	first = pc;
	/* Every entry is read: the table must be sorted, and each _func
	 * must agree with its entry, or nothing in it is trusted. */
	for (uint64_t i = 0; i < p->nfunc; i++) {
		uint64_t funcoff, entry, nameoff;
		const uint8_t *f;
		unsigned esz = p->ver >= GOBIN_PCLN_118 ? 4 : p->ps;

		if (!pcln_field(c, p, &wt, i + 1, 0, &next) || !pcln_field(c, p, &wt, i, 1, &funcoff))
			goto damaged;
		if (next < pc)
			goto damaged;
		if (funcoff >= lim - p->funcs || !(f = win_at(c, &wf, p->funcs + funcoff, esz + 4, lim)))
			goto damaged;
		entry = get_le(f, esz) + (p->ver >= GOBIN_PCLN_118 ? p->text : 0);
		nameoff = get_le(f + esz, 4);
		if (entry != pc)
			goto damaged;
		entry_seen |= pc == c->entry;
		for (int k = 0; k < GOBIN_NFN; k++)
			for (size_t h = 0; h < nhits[k]; h++) {
				if (nameoff != hits[k][h])
					continue;
				if (addr[k])
					return refuse(c, "two functions named %s in the pclntab",
						      gobin_fn_name[k]);
				addr[k] = pc;
				end[k] = next;
			}
		pc = next;
	}
	/* An internally linked program starts in Go code (_rt0_amd64_linux):
	 * then the entry point is a function's entry, which checks that the
	 * table's addresses (textStart from Go 1.18) are the real ones. */
	if (c->entry >= first && c->entry < pc && !entry_seen) {
		ret = refuse(c, "the pclntab's addresses do not match the ELF entry point");
		goto out;
	}
	ret = 0;
	goto out;
damaged:
	ret = refuse(c, "the pclntab is damaged (function table unreadable, unsorted or inconsistent)");
out:
	free(wt.buf);
	free(wf.buf);
	return ret;
}

/* Searches the non-executable segments for a pclntab header (an external
 * linker merges .gopclntab into .data.rel.ro, and -s -w removes the
 * symbols that would say where).  A candidate must parse as a whole; two
 * different ones are refused.  0 and *p, -1 if none, GOBIN_REFUSED. */
static int pcln_search(struct ctx *c, struct pcln *p)
{
	static const uint32_t magics[] = { PCLN_MAGIC_12, PCLN_MAGIC_116, PCLN_MAGIC_118, PCLN_MAGIC_120 };
	uint8_t *buf = malloc(GOBIN_SCAN_CHUNK);
	int found = 0;

	if (!buf)
		return -1;
	for (size_t i = 0; i < c->nseg && found < 2; i++) {
		const struct seg *s = &c->seg[i];

		if (s->flags & PF_X)
			continue;
		for (uint64_t pos = 0; pos < s->filesz && found < 2; pos += GOBIN_SCAN_CHUNK) {
			uint64_t left = s->filesz - pos;
			size_t len = left < GOBIN_SCAN_CHUNK ? (size_t)left : GOBIN_SCAN_CHUNK;

			if (rd(c, s->off + pos, buf, len))
				break;
			/* The header is pointer-aligned: the runtime reads
			 * its words as such. */
			for (size_t q = (size_t)(-(s->va + pos) & 7); q + 8 <= len && found < 2; q += 8) {
				uint32_t m = (uint32_t)get_le(buf + q, 4);
				struct pcln cand;

				if (m != magics[0] && m != magics[1] && m != magics[2] && m != magics[3])
					continue;
				if (pcln_open(c, s->off + pos + q, s->filesz - pos - q, &cand))
					continue;
				if (!found++)
					*p = cand;
			}
		}
	}
	free(buf);
	if (found > 1)
		return refuse(c, "more than one pclntab-like table and no section names: cannot tell which");
	return found ? 0 : -1;
}

/* --- symbol table ----------------------------------------------------------- */

/* addr/end of each function in .symtab (0 if absent), and the pclntab's
 * bounds if runtime.pclntab/runtime.epclntab are there. */
static void symtab_find(struct ctx *c, uint64_t *addr, uint64_t *end,
			uint64_t *pcln_va, uint64_t *epcln_va)
{
	GElf_Shdr sh;
	Elf_Data *d;
	size_t n;

	if (!c->symtab || !gelf_getshdr(c->symtab, &sh) || !(d = elf_getdata(c->symtab, NULL)) ||
	    !sh.sh_entsize)
		return;
	n = d->d_size / sh.sh_entsize;
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym) || sym.st_name == 0)
			continue;
		name = elf_strptr(c->elf, sh.sh_link, sym.st_name);
		if (!name || (name[0] != 'c' && name[0] != 'r'))
			continue;
		if (!strcmp(name, "runtime.pclntab"))
			*pcln_va = sym.st_value;
		else if (!strcmp(name, "runtime.epclntab"))
			*epcln_va = sym.st_value;
		for (int k = 0; k < GOBIN_NFN; k++)
			if (GELF_ST_TYPE(sym.st_info) == STT_FUNC && !strcmp(name, gobin_fn_name[k]) &&
			    sym.st_size) {
				addr[k] = sym.st_value;
				end[k] = sym.st_value + sym.st_size;
			}
	}
}

/* --- code ----------------------------------------------------------------- */

/* Whether an instruction reads 16(R14): g.stackguard0, in the register
 * ABI's prologue (CMPQ SP, 16(R14), or with a scratch register for a
 * larger frame). */
static bool reads_stackguard(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op)
{
	for (unsigned i = 0; i < in->operand_count; i++)
		if (op[i].type == ZYDIS_OPERAND_TYPE_MEMORY && op[i].mem.base == ZYDIS_REGISTER_R14 &&
		    op[i].mem.index == ZYDIS_REGISTER_NONE && op[i].mem.disp.has_displacement &&
		    op[i].mem.disp.value == 16 && op[i].mem.segment != ZYDIS_REGISTER_FS &&
		    op[i].mem.segment != ZYDIS_REGISTER_GS)
			return true;
	return false;
}

/* Whether the kernel emulates a uprobe on the instruction rather than
 * single-stepping it (arch/x86/kernel/uprobes.c, branch_setup_xol_ops): a
 * relative CALL, JMP or Jcc without a prefix.  Measured on this project's
 * VM (Linux 6.18): 0.5 us a hit, against 20-22 us for a CMP, MOV, SUB,
 * ADD or RET. */
static bool emulated(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op)
{
	return (in->meta.category == ZYDIS_CATEGORY_CALL ||
		in->meta.category == ZYDIS_CATEGORY_COND_BR ||
		in->meta.category == ZYDIS_CATEGORY_UNCOND_BR) &&
	       in->raw.prefix_count == 0 && in->operand_count_visible == 1 &&
	       op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op[0].imm.is_relative;
}

/* The x86 condition code of a Jcc (the low nibble of its opcode, 0x7x or
 * 0x0f 0x8x): what the probe tests in the flags. */
static int jcc_cond(const ZydisDecodedInstruction *in)
{
	return in->opcode & 0xf;
}

/* --- where a call's result is, from a probe to its RET ------------------------ */

/* A value at the RET, in terms of the state where the probe fires. */
struct sval {
	uint8_t src; /* enum gobin_src; GOBIN_SRC_NONE: unknown */
	uint8_t reg;
	int64_t val;
};

#define SIM_SLOTS 32 /* stack stores remembered in one run of code */

struct sim {
	struct sval r[GOBIN_NREG];
	struct { int64_t off; unsigned size; struct sval v; } st[SIM_SLOTS];
	unsigned nst;
	int64_t sp;    /* RSP, relative to the probe's */
	bool mem_unk;  /* stored through another register: no slot is certain */
	bool lost;     /* RSP changed in a way not followed */
};

/* The index of a general register (by its 64-bit name) in enum gobin_reg;
 * -1 for RSP, R14 (g) and anything else. */
static int gpr(ZydisRegister r)
{
	static const ZydisRegister map[GOBIN_NREG] = {
		ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX,
		ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9,
		ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11, ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13,
		ZYDIS_REGISTER_R15, ZYDIS_REGISTER_RBP,
	};

	r = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
	for (int i = 0; i < GOBIN_NREG; i++)
		if (map[i] == r)
			return i;
	return -1;
}

static bool is_rsp(ZydisRegister r)
{
	return ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r) == ZYDIS_REGISTER_RSP;
}

/* A memory operand [RSP + disp] (no index, no segment): its offset from
 * the probe's RSP. */
static bool stack_mem(const struct sim *s, const ZydisDecodedOperand *o, int64_t *off)
{
	if (o->type != ZYDIS_OPERAND_TYPE_MEMORY || o->mem.base != ZYDIS_REGISTER_RSP ||
	    o->mem.index != ZYDIS_REGISTER_NONE || o->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
	    o->mem.segment == ZYDIS_REGISTER_FS || o->mem.segment == ZYDIS_REGISTER_GS)
		return false;
	*off = s->sp + (o->mem.disp.has_displacement ? o->mem.disp.value : 0);
	return true;
}

static void store(struct sim *s, int64_t off, unsigned size, struct sval v)
{
	if (s->nst == SIM_SLOTS) { /* forget the oldest: then nothing in memory is certain */
		s->mem_unk = true;
		memmove(s->st, s->st + 1, sizeof(s->st[0]) * --s->nst);
	}
	s->st[s->nst].off = off;
	s->st[s->nst].size = size;
	s->st[s->nst++].v = v;
}

/* 8 bytes at off: the last store that covers them, exactly; or what is
 * there at the probe. */
static struct sval load(const struct sim *s, int64_t off)
{
	for (unsigned i = s->nst; i-- > 0;) {
		if (s->st[i].off >= off + 8 || s->st[i].off + (int64_t)s->st[i].size <= off)
			continue;
		if (s->st[i].off == off && s->st[i].size == 8)
			return s->st[i].v;
		return (struct sval){ 0 };
	}
	if (s->mem_unk)
		return (struct sval){ 0 };
	return (struct sval){ .src = GOBIN_SRC_STACK, .val = off };
}

/* Follows one instruction.  What Go's code does between a return's last
 * branch or call and the RET: moves between registers and its frame,
 * constants, X15 (always zero in Go's register ABI) stored, calls (every
 * register but RSP is then lost; the frame is not: the results Read and
 * Write leave there are unnamed, so no deferred call can reach them), and
 * the epilogue. */
static void sim_step(struct sim *s, const ZydisDecodedInstruction *in,
		     const ZydisDecodedOperand *op)
{
	const struct sval unk = { 0 };
	int64_t off;
	int d = in->operand_count_visible > 0 && op[0].type == ZYDIS_OPERAND_TYPE_REGISTER ?
		gpr(op[0].reg.value) : -1;

	if (in->meta.category == ZYDIS_CATEGORY_CALL) {
		for (int i = 0; i < GOBIN_NREG; i++)
			s->r[i] = unk;
		return;
	}
	switch (in->mnemonic) {
	case ZYDIS_MNEMONIC_NOP:
		return;
	case ZYDIS_MNEMONIC_MOV:
		if (d >= 0 && op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			s->r[d] = (struct sval){ .src = GOBIN_SRC_CONST,
				.val = op[0].size == 64 ? op[1].imm.value.s : (int64_t)(uint32_t)op[1].imm.value.u };
			return;
		}
		if (d >= 0 && op[0].size == 64 && op[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    gpr(op[1].reg.value) >= 0) {
			s->r[d] = s->r[gpr(op[1].reg.value)];
			return;
		}
		if (d >= 0 && op[0].size == 64 && stack_mem(s, &op[1], &off)) {
			s->r[d] = load(s, off);
			return;
		}
		if (op[0].size == 64 && stack_mem(s, &op[0], &off)) {
			if (op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
				store(s, off, 8, (struct sval){ .src = GOBIN_SRC_CONST,
								.val = op[1].imm.value.s });
			else if (op[1].type == ZYDIS_OPERAND_TYPE_REGISTER && gpr(op[1].reg.value) >= 0)
				store(s, off, 8, s->r[gpr(op[1].reg.value)]);
			else
				store(s, off, 8, unk);
			return;
		}
		break;
	case ZYDIS_MNEMONIC_XOR:
		if (d >= 0 && op[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    op[1].reg.value == op[0].reg.value && op[0].size >= 32) {
			s->r[d] = (struct sval){ .src = GOBIN_SRC_CONST, .val = 0 };
			return;
		}
		break;
	case ZYDIS_MNEMONIC_MOVUPS:
		if (op[1].type == ZYDIS_OPERAND_TYPE_REGISTER && op[1].reg.value == ZYDIS_REGISTER_XMM15 &&
		    stack_mem(s, &op[0], &off)) {
			store(s, off, 8, (struct sval){ .src = GOBIN_SRC_CONST, .val = 0 });
			store(s, off + 8, 8, (struct sval){ .src = GOBIN_SRC_CONST, .val = 0 });
			return;
		}
		break;
	case ZYDIS_MNEMONIC_ADD:
	case ZYDIS_MNEMONIC_SUB:
		if (op[0].type == ZYDIS_OPERAND_TYPE_REGISTER && op[0].reg.value == ZYDIS_REGISTER_RSP &&
		    op[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
			s->sp += in->mnemonic == ZYDIS_MNEMONIC_ADD ? op[1].imm.value.s : -op[1].imm.value.s;
			return;
		}
		break;
	case ZYDIS_MNEMONIC_PUSH:
	case ZYDIS_MNEMONIC_POP:
		if (op[0].type == ZYDIS_OPERAND_TYPE_REGISTER && op[0].size == 64) {
			if (in->mnemonic == ZYDIS_MNEMONIC_PUSH) {
				s->sp -= 8;
				store(s, s->sp, 8, gpr(op[0].reg.value) >= 0 ? s->r[gpr(op[0].reg.value)] : unk);
			} else {
				if (d >= 0)
					s->r[d] = load(s, s->sp);
				s->sp += 8;
			}
			return;
		}
		break;
	default:
		break;
	}
	/* Anything else: what it writes is unknown. */
	for (unsigned i = 0; i < in->operand_count; i++) {
		const ZydisDecodedOperand *o = &op[i];

		if (!(o->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
			continue;
		if (o->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			if (gpr(o->reg.value) >= 0)
				s->r[gpr(o->reg.value)] = unk;
			else if (is_rsp(o->reg.value))
				s->lost = true;
		} else if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (stack_mem(s, o, &off))
				store(s, off, o->size / 8 ? o->size / 8 : 1, unk);
			else if (o->mem.type == ZYDIS_MEMOP_TYPE_MEM)
				s->mem_unk = true;
		}
	}
}

/* --- a function's code ---------------------------------------------------------- */

#define AT_INSN 1   /* an instruction starts here */
#define AT_TARGET 2 /* a branch of the function leads here */

static int decode_at(ZydisDecoder *dec, const uint8_t *code, uint64_t len, uint64_t pos,
		     ZydisDecodedInstruction *in, ZydisDecodedOperand *op)
{
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, code + pos, len - pos, in, op)) ? 0 : -1;
}

/* Where n is at the RET at pos ret, for a probe at from: run from (inclusive)
 * to the RET.  false when it cannot be told (and n is needed). */
static bool sim_run(ZydisDecoder *dec, const uint8_t *code, uint64_t len, uint64_t from,
		    uint64_t ret, struct sval *n)
{
	struct sim s = { 0 };

	for (int i = 0; i < GOBIN_NREG; i++)
		s.r[i] = (struct sval){ .src = GOBIN_SRC_REG, .reg = (uint8_t)i };
	for (uint64_t pos = from; pos < ret;) {
		ZydisDecodedInstruction in;
		ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];

		if (decode_at(dec, code, len, pos, &in, op))
			return false;
		sim_step(&s, &in, op);
		pos += in.length;
	}
	*n = s.r[GOBIN_RAX];
	return !s.lost && n->src != GOBIN_SRC_NONE && n->val >= INT32_MIN && n->val <= INT32_MAX;
}

/* What a site's n is wanted for (ret_sites). */
enum want_n {
	N_NONE, /* the handshake: its result is not read */
	N_WANT, /* Write: reported at its start once its socket is known, so n
		 * is only wanted for a first Write; where it is not certain,
		 * the probe takes the length Write was given (GOBIN_SRC_NONE) */
	N_NEED, /* Read: the bytes it moved */
};

/* n at a site whose code runs from from to the RET at ret: false where it
 * is needed and not certain. */
static bool site_n(ZydisDecoder *dec, const uint8_t *code, uint64_t len, uint64_t from,
		   uint64_t ret, enum want_n want, struct sval *n)
{
	if (want != N_NONE && sim_run(dec, code, len, from, ret, n))
		return true;
	*n = (struct sval){ 0 };
	return want != N_NEED;
}

static int add_site(struct gobin_func *f, uint64_t off, int cond, const struct sval *n, bool ret)
{
	if (f->nsite == GOBIN_MAX_SITES)
		return -1;
	f->site[f->nsite++] = (struct gobin_site){ .off = f->entry + off, .cond = (uint8_t)cond,
		.src = n->src, .reg = n->reg, .val = (int32_t)n->val, .ret = ret };
	return 0;
}

/* The instruction before the one at pos (mark[] says where they start). */
static uint64_t prev_insn(const uint8_t *mark, uint64_t pos)
{
	while (pos > 0 && !(mark[--pos] & AT_INSN))
		;
	return pos;
}

static bool falls_through(const ZydisDecodedInstruction *in)
{
	return in->meta.category != ZYDIS_CATEGORY_UNCOND_BR && in->meta.category != ZYDIS_CATEGORY_RET &&
	       in->mnemonic != ZYDIS_MNEMONIC_INT3 && in->mnemonic != ZYDIS_MNEMONIC_UD2;
}

/* The sites of the RET at pos ret (mark[] from the whole function): a cut
 * of the ways into it, each probed where the kernel emulates.  Walking
 * back from the RET along the code that falls through into it:
 * - a direct CALL is a site: every way below it passes it (a deferred
 *   call's runtime.deferreturn, say), and the probe is hit only on the
 *   way out;
 * - at an instruction that branches of the function lead to, each branch
 *   is a site, taken when its condition holds;
 * - a Jcc falling through is a site, with the opposite condition; a JMP,
 *   RET or trap ends the walk.
 * n is found by following the code from each site to the RET (sim_run).
 * Where some way in cannot be probed so (the function's entry), or n is
 * needed and not certain, the RET itself is the one site. */
static int ret_sites(ZydisDecoder *dec, const uint8_t *code, uint64_t len, const uint8_t *mark,
		     uint64_t ret, enum want_n want, struct gobin_func *f)
{
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	struct sval n = { .src = GOBIN_SRC_REG, .reg = GOBIN_RAX };
	const struct sval none = { 0 };
	uint32_t first = f->nsite;

	for (uint64_t p = ret;;) {
		uint64_t q;

		if (decode_at(dec, code, len, p, &in, op))
			goto stepped;
		if (p != ret && in.meta.category == ZYDIS_CATEGORY_CALL && emulated(&in, op)) {
			if (!site_n(dec, code, len, p, ret, want, &n) ||
			    add_site(f, p, GOBIN_ALWAYS, &n, false))
				goto stepped;
			break;
		}
		if (mark[p] & AT_TARGET) {
			if (!site_n(dec, code, len, p, ret, want, &n))
				goto stepped;
			for (uint64_t b = 0; b < len; b++) {
				ZyanU64 t;

				if (!(mark[b] & AT_INSN) || decode_at(dec, code, len, b, &in, op) ||
				    (in.meta.category != ZYDIS_CATEGORY_COND_BR &&
				     in.meta.category != ZYDIS_CATEGORY_UNCOND_BR) ||
				    !ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &op[0], b, &t)) || t != p)
					continue;
				if (!emulated(&in, op) ||
				    add_site(f, b, in.meta.category == ZYDIS_CATEGORY_COND_BR ?
						   jcc_cond(&in) : GOBIN_ALWAYS, &n, false))
					goto stepped;
			}
		}
		if (p == 0)
			goto stepped; /* the function's entry: its callers come in here */
		q = prev_insn(mark, p);
		if (decode_at(dec, code, len, q, &in, op))
			goto stepped;
		if (in.meta.category == ZYDIS_CATEGORY_COND_BR) {
			if (!site_n(dec, code, len, p, ret, want, &n))
				goto stepped;
			if (!emulated(&in, op) ||
			    add_site(f, q, jcc_cond(&in) ^ 1, &n, false))
				goto stepped;
			break;
		}
		if (!falls_through(&in))
			break;
		p = q;
	}
	if (f->nsite > first)
		return 0;
stepped:
	f->nsite = first;
	n = want != N_NONE ? (struct sval){ .src = GOBIN_SRC_REG, .reg = GOBIN_RAX } : none;
	f->nstepped++;
	return add_site(f, ret, GOBIN_ALWAYS, &n, true);
}

int gobin_scan(const uint8_t *code, uint64_t len, int k, struct gobin_func *f,
	       char *why, size_t wn)
{
	const char *name = gobin_fn_name[k];
	ZydisDecoder dec;
	uint64_t guard = 0; /* 1 + the index of the stack check */
	uint8_t *mark = calloc(len + 1, 1);
	int ret = GOBIN_REFUSED;

	if (!mark) {
		snprintf(why, wn, "out of memory reading %s", name);
		return GOBIN_REFUSED;
	}
	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	f->nret = f->nsite = f->nstepped = 0;
	f->check = 0;
	for (uint64_t pos = 0, n = 0; pos < len; n++) {
		ZydisDecodedInstruction in;
		ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
		ZyanU64 target;

		if (decode_at(&dec, code, len, pos, &in, op)) {
			snprintf(why, wn, "cannot decode %s at +0x%llx", name, (unsigned long long)pos);
			goto out;
		}
		mark[pos] |= AT_INSN;
		if (n < GOBIN_PROLOGUE && !guard && reads_stackguard(&in, op))
			guard = n + 1;
		/* The branch to morestack follows the check at once: Go's
		 * JLS (cmd/internal/obj/x86, stacksplit). */
		if (guard && n == guard && in.mnemonic == ZYDIS_MNEMONIC_JBE && emulated(&in, op))
			f->check = f->entry + pos;
		switch (in.meta.category) {
		case ZYDIS_CATEGORY_RET:
			if (in.mnemonic != ZYDIS_MNEMONIC_RET || in.operand_count_visible ||
			    f->nret == GOBIN_MAX_RETS) {
				snprintf(why, wn, "%s has an unexpected return at +0x%llx", name,
					 (unsigned long long)pos);
				goto out;
			}
			f->ret[f->nret++] = f->entry + pos;
			break;
		case ZYDIS_CATEGORY_UNCOND_BR:
		case ZYDIS_CATEGORY_COND_BR:
			if (op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
			    !ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&in, &op[0], f->addr + pos, &target))) {
				snprintf(why, wn, "%s jumps indirectly at +0x%llx", name,
					 (unsigned long long)pos);
				goto out;
			}
			if (target < f->addr || target >= f->end) {
				snprintf(why, wn, "%s jumps out of itself at +0x%llx (a tail call would "
					 "return past the probes)", name, (unsigned long long)pos);
				goto out;
			}
			mark[target - f->addr] |= AT_TARGET;
			break;
		default:
			break;
		}
		pos += in.length;
	}
	if (!guard) {
		snprintf(why, wn, "%s does not check its stack through R14: not the register ABI", name);
		goto out;
	}
	if (!f->check) {
		snprintf(why, wn, "%s: no JBE to morestack after its stack check", name);
		goto out;
	}
	if (!f->nret) {
		snprintf(why, wn, "%s has no return instruction", name);
		goto out;
	}
	/* A branch into the middle of an instruction: the decoding above
	 * is not the one the CPU runs. */
	for (uint64_t pos = 0; pos < len; pos++)
		if ((mark[pos] & AT_TARGET) && !(mark[pos] & AT_INSN)) {
			snprintf(why, wn, "%s branches into an instruction at +0x%llx", name,
				 (unsigned long long)pos);
			goto out;
		}
	for (uint32_t i = 0; i < f->nret; i++)
		if (ret_sites(&dec, code, len, mark, f->ret[i] - f->entry,
			      k == GOBIN_READ ? N_NEED : k == GOBIN_WRITE ? N_WANT : N_NONE, f)) {
			snprintf(why, wn, "%s has more than %d places to probe", name, GOBIN_MAX_SITES);
			goto out;
		}
	ret = GOBIN_OK;
out:
	free(mark);
	return ret;
}

/* Decodes the function from its entry to its end: where to probe it, and
 * whether it is safe to probe this way. */
static int scan_code(struct ctx *c, enum gobin_fn k)
{
	struct gobin_func *f = &c->g->fn[k];
	const char *name = gobin_fn_name[k];
	uint64_t len = f->end - f->addr;
	uint8_t *code;
	int ret;

	if (f->end <= f->addr || len > GOBIN_MAX_FUNC)
		return refuse(c, "%s has an implausible size (%llu bytes)", name,
			      (unsigned long long)(f->end - f->addr));
	if (va_to_off(c, f->addr, len, true, &f->entry))
		return refuse(c, "%s (0x%llx) is not inside an executable segment of the file",
			      name, (unsigned long long)f->addr);
	if (!(code = malloc(len)))
		return refuse(c, "out of memory reading %s", name);
	if (rd(c, f->entry, code, len))
		ret = refuse(c, "cannot read %s", name);
	else
		ret = gobin_scan(code, len, k, f, c->g->why, sizeof(c->g->why));
	free(code);
	return ret;
}

/* --- the whole analysis ------------------------------------------------------ */

static const char *machine_name(uint16_t m)
{
	switch (m) {
	case EM_X86_64: return "x86-64";
	case EM_386: return "386";
	case EM_AARCH64: return "arm64";
	case EM_ARM: return "arm";
	case EM_RISCV: return "riscv64";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390x";
	case EM_MIPS: return "mips";
	case EM_LOONGARCH: return "loong64";
	default: return "an unknown machine";
	}
}

/* Locates the pclntab: its section, the runtime.pclntab symbols, or a
 * search.  0 and *p, -1 if there is none, GOBIN_REFUSED. */
static int find_pcln(struct ctx *c, uint64_t pcln_va, uint64_t epcln_va, struct pcln *p)
{
	uint64_t off;

	if (c->has_pcln_sec)
		return pcln_open(c, c->pcln_off, c->pcln_size, p) ? -1 : 0;
	if (pcln_va && epcln_va > pcln_va && !va_to_off(c, pcln_va, epcln_va - pcln_va, false, &off))
		return pcln_open(c, off, epcln_va - pcln_va, p) ? -1 : 0;
	return pcln_search(c, p);
}

static int analyse(struct ctx *c)
{
	struct gobin *g = c->g;
	uint64_t sa[GOBIN_NFN] = { 0 }, se[GOBIN_NFN] = { 0 };
	uint64_t pa[GOBIN_NFN] = { 0 }, pe[GOBIN_NFN] = { 0 };
	uint64_t pcln_va = 0, epcln_va = 0, off;
	bool have_bi, found = false, regabi;
	struct pcln p;
	GElf_Ehdr eh;
	int r;

	if (elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &eh))
		return GOBIN_NOT_GO;
	c->is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
	c->le = eh.e_ident[EI_DATA] == ELFDATA2LSB;
	g->machine = eh.e_machine;
	g->pie = eh.e_type == ET_DYN;
	c->entry = eh.e_entry;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return GOBIN_NOT_GO;
	if (read_segments(c)) {
		snprintf(g->why, sizeof(g->why), "unreadable program headers");
		return GOBIN_NOT_GO;
	}
	read_sections(c);
	if (!c->le) /* every layout below is read little-endian */
		return c->has_note || c->has_bi || c->has_pcln_sec ?
			refuse(c, "a big-endian Go binary (%s)", machine_name(g->machine)) : GOBIN_NOT_GO;

	have_bi = read_buildinfo(c);
	if (!(c->flags & GOBIN_NO_SYMTAB))
		symtab_find(c, sa, se, &pcln_va, &epcln_va);
	/* Something must say "Go" before the pclntab is searched for: the
	 * search reads the whole data of the file. */
	if (!have_bi && !c->has_bi && !c->has_note && !c->has_pcln_sec && !pcln_va)
		return GOBIN_NOT_GO;
	r = find_pcln(c, pcln_va, epcln_va, &p);
	if (r == GOBIN_REFUSED)
		return r;
	if (r)
		return refuse(c, "a Go binary whose pclntab cannot be found or read");
	g->pcln = p.ver;
	if (have_bi)
		parse_version(g->version, &g->major, &g->minor);

	/* Find the functions: the pclntab always; the symbols, when there,
	 * must agree with it. */
	if (p.ver >= GOBIN_PCLN_118 && va_to_off(c, p.text, 1, true, &off))
		return refuse(c, "the pclntab's text start (0x%llx) is not in an executable "
			      "segment (left to a relocation?)", (unsigned long long)p.text);
	if ((r = pcln_find(c, &p, pa, pe)))
		return r;
	for (int k = 0; k < GOBIN_NFN; k++) {
		if (sa[k] && pa[k] && sa[k] != pa[k])
			return refuse(c, "the symbol table and the pclntab disagree on %s",
				      gobin_fn_name[k]);
		g->fn[k].addr = sa[k] ? sa[k] : pa[k];
		g->fn[k].end = sa[k] ? se[k] : pe[k];
		found |= k != GOBIN_HANDSHAKE && g->fn[k].addr != 0;
	}
	if (!found)
		return GOBIN_NO_TLS;
	g->from_pclntab = !sa[GOBIN_WRITE] && !sa[GOBIN_READ];
	if (!g->fn[GOBIN_WRITE].addr || !g->fn[GOBIN_READ].addr)
		return refuse(c, "%s is missing", gobin_fn_name[g->fn[GOBIN_WRITE].addr ? GOBIN_READ : GOBIN_WRITE]);

	/* Only now what is not supported: a program that never uses
	 * crypto/tls is not worth a warning. */
	if (g->machine != EM_X86_64 || !c->is64)
		return refuse(c, "built for %s: only x86-64 is supported",
			      machine_name(g->machine));
	if (have_bi && !g->major)
		return refuse(c, "cannot tell the Go version from \"%s\"", g->version);
	if (g->major)
		regabi = g->major > 1 || g->minor >= 17;
	else /* no build info: the pclntab layout bounds the version */
		regabi = p.ver >= GOBIN_PCLN_118;
	if (!regabi) {
		if (g->major)
			return refuse(c, "%s passes arguments on the stack (the register ABI "
				      "came with Go 1.17)", g->version);
		return refuse(c, "no build info, and a pclntab of Go %s: cannot tell "
			      "whether it uses the register ABI (Go 1.17+)",
			      p.ver == GOBIN_PCLN_12 ? "1.2-1.15" : "1.16-1.17");
	}
	if (abi_experiment_off(g->version))
		return refuse(c, "%s was built with the register ABI turned off", g->version);
	for (int k = 0; k < GOBIN_NFN; k++)
		if (g->fn[k].addr && (r = scan_code(c, k)) != GOBIN_OK)
			return r;
	return GOBIN_OK;
}

int gobin_analyse(const char *path, unsigned flags, struct gobin *g)
{
	struct ctx c = { .flags = flags, .g = g };
	struct stat sb;
	int ret;

	memset(g, 0, sizeof(*g));
	/* O_NONBLOCK: a FIFO planted where a binary was expected must
	 * not hang the tracer; it is then refused as not a regular file. */
	c.fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (c.fd < 0)
		return -errno;
	if (fstat(c.fd, &sb)) {
		ret = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		snprintf(g->why, sizeof(g->why), "not a regular file");
		ret = GOBIN_NOT_GO;
		goto out;
	}
	c.size = (uint64_t)sb.st_size;
	/* Reading the file twice over is more than any real binary takes
	 * (the pclntab at most once, and a search of the data segments). */
	c.budget = 2 * c.size + (64u << 20);
	if (elf_version(EV_CURRENT) == EV_NONE) {
		ret = -ENOSYS;
		goto out;
	}
	c.elf = elf_begin(c.fd, ELF_C_READ, NULL);
	if (!c.elf) {
		ret = GOBIN_NOT_GO;
		goto out;
	}
	ret = analyse(&c);
	elf_end(c.elf);
out:
	close(c.fd);
	return ret;
}
