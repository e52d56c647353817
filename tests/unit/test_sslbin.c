/* test_sslbin.c -- unit test of sslbin: the first call of a function's straight path, the cheap place to probe a function, and on this machine's libssl the internal functions SSL_read/SSL_read_ex and SSL_write/SSL_write_ex share, checked against objdump.
 *
 * Every code fixture is also decoded cut short at every byte: the answer
 * must then be the whole answer or "none", never a call read from a
 * truncated instruction.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/sslbin.h"
#include "check.h"

#define NONE INT64_MIN

static const struct call_fixture {
	const char *name;
	uint8_t code[48];
	size_t len;
	int64_t target; /* relative to the start, or NONE */
} calls[] = {
	/* OpenSSL 3.0.x (Debian 12) SSL_read: prologue, `js` to the error
	 * path, then ssl_read_internal, 0x1a0 bytes before it */
	{ "SSL_read 3.0", { 0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28,
			    0x00, 0x00, 0x00, 0x48, 0x89, 0x44, 0x24, 0x08, 0x31, 0xc0,
			    0x85, 0xd2, 0x78, 0x2f, 0x48, 0x89, 0xe1, 0x48, 0x63, 0xd2,
			    0xe8, 0x3d, 0xfe, 0xff, 0xff }, 35, -0x1a0 },
	/* ... and SSL_read_ex, 0x230 bytes after ssl_read_internal */
	{ "SSL_read_ex 3.0", { 0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff, 0xff }, 9, -0x230 },
	/* a call forward, after an endbr64 */
	{ "endbr64, call +16", { 0xf3, 0x0f, 0x1e, 0xfa, 0xe8, 0x10, 0x00, 0x00, 0x00 }, 9, 25 },
	{ "ret first", { 0xc3, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 6, NONE },
	{ "jmp first", { 0xeb, 0x05, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 7, NONE },
	{ "tail call", { 0x48, 0x83, 0xec, 0x08, 0xe9, 0x00, 0x01, 0x00, 0x00 }, 9, NONE },
	{ "indirect call", { 0xff, 0xd0, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 7, NONE },
	{ "call through memory", { 0xff, 0x15, 0x10, 0x00, 0x00, 0x00 }, 6, NONE },
	{ "ud2", { 0x0f, 0x0b, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 7, NONE },
	{ "syscall", { 0x0f, 0x05, 0xe8, 0x00, 0x00, 0x00, 0x00 }, 7, NONE },
	{ "nothing but moves", { 0x48, 0x89, 0xe1, 0x48, 0x63, 0xd2 }, 6, NONE },
	{ "empty", { 0 }, 0, NONE },
	{ "jcc rel32 falls through", { 0x0f, 0x84, 0x00, 0x10, 0x00, 0x00, 0xe8, 0xf5, 0xff,
				       0xff, 0xff }, 11, 0 },
};

static void test_first_call(void)
{
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call_fixture *f = &calls[i];

		for (size_t cut = 0; cut <= f->len; cut++) {
			int64_t t = NONE;
			int r = sslbin_first_call(f->code, cut, &t);

			if (cut == f->len) {
				CHECK(f->target == NONE ? r == -ENOENT : r == 0 && t == f->target,
				      "%s: got %d, target %lld", f->name, r, (long long)t);
			} else {
				CHECK(r == -ENOENT || t == f->target,
				      "%s cut at %zu: a call to %lld", f->name, cut, (long long)t);
			}
		}
	}
}

static const struct entry_fixture {
	const char *name;
	uint8_t code[16];
	size_t len;
	int at; /* where a probe is cheap, -1 nowhere */
} entries[] = {
	{ "push r13 (ssl_read_internal 3.0)", { 0x41, 0x55, 0x41, 0x54 }, 4, 0 },
	{ "push rbp", { 0x55, 0x48, 0x89, 0xe5 }, 4, 0 },
	{ "endbr64, push r14", { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x56 }, 6, 4 },
	{ "sub rsp (SSL_read 3.0)", { 0x48, 0x83, 0xec, 0x18 }, 4, -1 },
	{ "endbr64, sub rsp", { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x18 }, 8, -1 },
	{ "endbr64, endbr64, push", { 0xf3, 0x0f, 0x1e, 0xfa, 0xf3, 0x0f, 0x1e, 0xfa, 0x55 }, 9, -1 },
	{ "test rdi, je (SSL_free 3.0)", { 0x48, 0x85, 0xff, 0x0f, 0x84, 0x97, 0x03, 0x00, 0x00 }, 9, 3 },
	{ "endbr64, cmp, test, push", { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xfe, 0x00, 0x85, 0xd2,
					0x55 }, 11, 10 },
	{ "cmp memory, jne rel8", { 0x83, 0x3f, 0x00, 0x75, 0x02 }, 5, 3 },
	{ "test, sub rsp", { 0x48, 0x85, 0xff, 0x48, 0x83, 0xec, 0x18 }, 7, -1 },
	{ "test, mov, push", { 0x48, 0x85, 0xff, 0x48, 0x89, 0xf8, 0x55 }, 7, -1 },
	{ "four tests, then push", { 0x85, 0xff, 0x85, 0xff, 0x85, 0xff, 0x85, 0xff, 0x55 }, 9, -1 },
	{ "three tests, then push", { 0x85, 0xff, 0x85, 0xff, 0x85, 0xff, 0x55 }, 7, 6 },
	{ "nop", { 0x90, 0x55 }, 2, 0 },
	{ "nopl (not emulated)", { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, 5, -1 },
	{ "call rel32", { 0xe8, 0x00, 0x00, 0x00, 0x00 }, 5, 0 },
	{ "jmp rel8", { 0xeb, 0x00 }, 2, 0 },
	{ "push through memory", { 0xff, 0x35, 0x00, 0x00, 0x00, 0x00 }, 6, -1 },
	{ "push immediate", { 0x6a, 0x01 }, 2, -1 },
	{ "mov", { 0x48, 0x89, 0xe5 }, 3, -1 },
	{ "empty", { 0 }, 0, -1 },
};

static void test_cheap_entry(void)
{
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		const struct entry_fixture *f = &entries[i];

		for (size_t cut = 0; cut <= f->len; cut++) {
			int at = sslbin_cheap_entry(f->code, cut);

			if (cut == f->len)
				CHECK(at == f->at, "%s: %d, expected %d", f->name, at, f->at);
			else
				CHECK(at == -1 || at == f->at, "%s cut at %zu: %d", f->name, cut, at);
		}
	}
}

/* A symbol's file offset in path, through its dynamic symbol table. */
static uint64_t sym_offset(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	Elf_Scn *s = NULL;
	GElf_Shdr sh;
	uint64_t off = 0, vaddr = 0;

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_READ, NULL))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((s = elf_nextscn(e, s))) {
		Elf_Data *d;

		if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_DYNSYM || !(d = elf_getdata(s, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, i, &sym) || !sym.st_value)
				continue;
			n = elf_strptr(e, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name))
				vaddr = sym.st_value;
		}
	}
	for (s = NULL; vaddr && (s = elf_nextscn(e, s));)
		if (gelf_getshdr(s, &sh) && sh.sh_type == SHT_PROGBITS &&
		    vaddr >= sh.sh_addr && vaddr < sh.sh_addr + sh.sh_size)
			off = vaddr - sh.sh_addr + sh.sh_offset;
	elf_end(e);
	close(fd);
	return off;
}

/* objdump's word for the callee of the first call in the function at
 * file offset off (it prints virtual addresses; in libssl these equal
 * file offsets in .text), or 0. */
static uint64_t objdump_first_call(const char *path, uint64_t off)
{
	char cmd[512], line[512];
	uint64_t target = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn --start-address=0x%llx "
		 "--stop-address=0x%llx '%s' 2>/dev/null", (unsigned long long)off,
		 (unsigned long long)off + SSLBIN_SCAN_BYTES, path);
	if (!(f = popen(cmd, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *c = strstr(line, "\tcall ");

		if (!target && c)
			target = strtoull(c + 6, NULL, 16);
	}
	pclose(f);
	return target;
}

/* The first n instructions objdump decodes at file offset off of path:
 * mnemonics in m, addresses in a.  Returns how many. */
static int objdump_insns(const char *path, uint64_t off, char m[][16], uint64_t *a, int n)
{
	char cmd[512], line[512];
	int k = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "objdump -d --no-show-raw-insn --start-address=0x%llx "
		 "--stop-address=0x%llx '%s' 2>/dev/null", (unsigned long long)off,
		 (unsigned long long)off + 64, path);
	if (!(f = popen(cmd, "r")))
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char mn[16];

		if (k < n && sscanf(line, " %llx:\t%15s", &addr, mn) == 2) {
			a[k] = addr;
			snprintf(m[k], 16, "%s", mn);
			k++;
		}
	}
	pclose(f);
	return k;
}

static void test_libssl(void)
{
	static const char *const libs[] = {
		"/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3",
	};
	const char *path = NULL;
	char why[160];

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]) && !path; i++)
		if (!access(libs[i], R_OK))
			path = libs[i];
	if (!path || system("objdump --version >/dev/null 2>&1")) {
		printf("test_sslbin: no libssl.so.3 or no objdump here: skipped the library check\n");
		return;
	}
	for (int w = 0; w < 2; w++) {
		const char *fn = w ? "SSL_write" : "SSL_read";
		const char *fn_ex = w ? "SSL_write_ex" : "SSL_read_ex";
		uint64_t off = sym_offset(path, fn), off_ex = sym_offset(path, fn_ex);
		uint64_t got = sslbin_shared_callee(path, off, off_ex, why, sizeof(why));
		uint64_t want = objdump_first_call(path, off);
		uint8_t b[2] = { 0 };
		int fd;

		CHECK(off && off_ex, "%s: no %s/%s", path, fn, fn_ex);
		CHECK(want && want == objdump_first_call(path, off_ex),
		      "%s: objdump says %s and %s call different functions first", path, fn, fn_ex);
		/* OpenSSL 3's internal functions open with a push (a cheap
		 * probe), possibly after an endbr64. */
		CHECK(got == want || got == want + 4, "%s: %s's shared callee at 0x%llx, objdump "
		      "says 0x%llx (%s)", path, fn, (unsigned long long)got, (unsigned long long)want, why);
		fd = open(path, O_RDONLY);
		CHECK(fd >= 0 && pread(fd, b, 2, got) == 2 &&
		      (b[0] == 0x55 || (b[0] >= 0x50 && b[0] <= 0x57) ||
		       (b[0] == 0x41 && b[1] >= 0x50 && b[1] <= 0x57)),
		      "%s: the probe place of %s is not a push: %02x %02x", path, fn, b[0], b[1]);
		if (fd >= 0)
			close(fd);
	}
	/* SSL_free: where objdump says the instruction after the
	 * flag-setting ones at its start is. */
	{
		uint64_t off = sym_offset(path, "SSL_free");
		uint64_t got = sslbin_cheap_offset(path, off);
		char m[SSLBIN_ENTRY_INSNS + 1][16];
		uint64_t a[SSLBIN_ENTRY_INSNS + 1];
		int k = objdump_insns(path, off, m, a, SSLBIN_ENTRY_INSNS + 1), i;

		for (i = 0; i < k && (!strcmp(m[i], "test") || !strcmp(m[i], "cmp") ||
				      (i == 0 && !strcmp(m[i], "endbr64"))); i++)
			;
		CHECK(off && i < k && got == a[i] &&
		      (!strcmp(m[i], "push") || m[i][0] == 'j' || !strcmp(m[i], "call")),
		      "%s: SSL_free probed at 0x%llx, objdump's first emulated instruction %s "
		      "at 0x%llx", path, (unsigned long long)got, i < k ? m[i] : "?",
		      i < k ? (unsigned long long)a[i] : 0ULL);
		CHECK(sslbin_cheap_offset("/nonexistent", 42) == 42, "a missing file moves a probe");
	}
	/* The read and the write side are different functions. */
	CHECK(sslbin_shared_callee(path, sym_offset(path, "SSL_read"),
				   sym_offset(path, "SSL_write_ex"), why, sizeof(why)) == 0,
	      "SSL_read and SSL_write_ex share a callee?");
	CHECK(sslbin_shared_callee("/nonexistent", 1, 2, why, sizeof(why)) == 0,
	      "a missing file has a callee");
}

int main(void)
{
	test_first_call();
	test_cheap_entry();
	test_libssl();
	printf("test_sslbin: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
