/* sslbin.c -- reads an OpenSSL library's machine code to find where its plaintext can be probed cheaply: the internal function SSL_read and SSL_read_ex share (likewise for writes). */
#include "capture/sslbin.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <Zydis/Zydis.h>

/* walk's callback, for each instruction decoded at offset `at`: WALK_NEXT
 * to go on to the next one, anything else to end the walk with it. */
#define WALK_NEXT INT_MIN
typedef int (*walk_fn)(void *ctx, size_t at, const ZydisDecodedInstruction *in,
		       const ZydisDecodedOperand *op);

/* Decodes code from its start, one instruction after the other, at most
 * max of them, and calls fn on each.  Returns what fn ended the walk
 * with, or `end` when an instruction does not decode, len is used up or
 * max is reached first. */
static int walk(const uint8_t *code, size_t len, int max, int end, walk_fn fn,
		void *ctx)
{
	ZydisDecoder d;
	ZydisDecodedInstruction in;
	ZydisDecodedOperand op[ZYDIS_MAX_OPERAND_COUNT];
	size_t at = 0;
	int r;

	ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	for (int i = 0; i < max && at < len; i++) {
		if (ZYAN_FAILED(ZydisDecoderDecodeFull(&d, code + at, len - at, &in, op)))
			return end;
		if ((r = fn(ctx, at, &in, op)) != WALK_NEXT)
			return r;
		at += in.length;
	}
	return end;
}

static int first_call_at(void *ctx, size_t at, const ZydisDecodedInstruction *in,
			 const ZydisDecodedOperand *op)
{
	int64_t *target = ctx;

	switch (in->meta.category) {
	case ZYDIS_CATEGORY_CALL:
		if (in->operand_count_visible < 1 ||
		    op[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || !op[0].imm.is_relative)
			return -ENOENT; /* indirect: no fixed callee */
		*target = (int64_t)(at + in->length) + op[0].imm.value.s;
		return 0;
	case ZYDIS_CATEGORY_COND_BR:
		return WALK_NEXT; /* fall through: the path of valid arguments */
	case ZYDIS_CATEGORY_UNCOND_BR:
	case ZYDIS_CATEGORY_RET:
	case ZYDIS_CATEGORY_INTERRUPT:
	case ZYDIS_CATEGORY_SYSCALL:
	case ZYDIS_CATEGORY_SYSTEM:
		return -ENOENT;
	default:
		if (in->mnemonic == ZYDIS_MNEMONIC_UD2 || in->mnemonic == ZYDIS_MNEMONIC_HLT)
			return -ENOENT;
		return WALK_NEXT;
	}
}

int sslbin_first_call(const uint8_t *code, size_t len, int64_t *target)
{
	return walk(code, len, SSLBIN_SCAN_INSNS, -ENOENT, first_call_at, target);
}

/* Whether the kernel's x86 uprobes emulate the instruction rather than
 * single-step it out of line (arch/x86/kernel/uprobes.c: nop, push of a
 * register, relative jmp, call and jcc). */
static bool emulated(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *op)
{
	if (in->mnemonic == ZYDIS_MNEMONIC_NOP)
		return in->opcode == 0x90 && in->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT;
	if (in->mnemonic == ZYDIS_MNEMONIC_PUSH)
		return op[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		       in->opcode >= 0x50 && in->opcode <= 0x57;
	if (in->meta.category == ZYDIS_CATEGORY_CALL ||
	    in->meta.category == ZYDIS_CATEGORY_COND_BR ||
	    in->meta.category == ZYDIS_CATEGORY_UNCOND_BR)
		return op[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op[0].imm.is_relative;
	return false;
}

static int cheap_entry_at(void *ctx, size_t at, const ZydisDecodedInstruction *in,
			  const ZydisDecodedOperand *op)
{
	(void)ctx;
	if (emulated(in, op))
		return (int)at;
	/* An endbr64 (first only), test and cmp change no register but
	 * the flags, and no memory. */
	if ((in->mnemonic == ZYDIS_MNEMONIC_ENDBR64 && at == 0) ||
	    in->mnemonic == ZYDIS_MNEMONIC_TEST || in->mnemonic == ZYDIS_MNEMONIC_CMP)
		return WALK_NEXT;
	return -1;
}

int sslbin_cheap_entry(const uint8_t *code, size_t len)
{
	return walk(code, len, SSLBIN_ENTRY_INSNS, -1, cheap_entry_at, NULL);
}

uint64_t sslbin_cheap_offset(const char *path, uint64_t off)
{
	uint8_t code[SSLBIN_ENTRY_INSNS * 15];
	ssize_t got = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC), at = -1;

	if (fd >= 0) {
		got = pread(fd, code, sizeof(code), off);
		close(fd);
	}
	if (got > 0)
		at = sslbin_cheap_entry(code, got);
	return at < 0 ? off : off + at;
}

/* The executable section of the ELF file that holds file offset off, as
 * [*lo, *hi).  0 or -ENOENT. */
static int exec_section(int fd, uint64_t off, uint64_t *lo, uint64_t *hi)
{
	Elf *e;
	Elf_Scn *s = NULL;
	GElf_Shdr sh;
	int err = -ENOENT;

	if (elf_version(EV_CURRENT) == EV_NONE || !(e = elf_begin(fd, ELF_C_READ, NULL)))
		return -ENOENT;
	while ((s = elf_nextscn(e, s))) {
		if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (off >= sh.sh_offset && off < sh.sh_offset + sh.sh_size) {
			*lo = sh.sh_offset;
			*hi = sh.sh_offset + sh.sh_size;
			err = 0;
			break;
		}
	}
	elf_end(e);
	return err;
}

/* The callee of the function at file offset off, as a file offset, if
 * its first call stays in [lo, hi).  0 or -ENOENT. */
static int callee(int fd, uint64_t off, uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint8_t code[SSLBIN_SCAN_BYTES];
	ssize_t got;
	int64_t t;

	if (off < lo || off >= hi)
		return -ENOENT;
	got = pread(fd, code, hi - off < sizeof(code) ? hi - off : sizeof(code), off);
	if (got <= 0 || sslbin_first_call(code, got, &t))
		return -ENOENT;
	if (t < 0 ? (uint64_t)-t > off - lo : (uint64_t)t >= hi - off)
		return -ENOENT; /* outside the section: a PLT stub, another library */
	*out = off + t;
	return 0;
}

uint64_t sslbin_shared_callee(const char *path, uint64_t off, uint64_t off_ex,
			      char *why, size_t n)
{
	uint64_t lo, hi, a, b, ret = 0;
	uint8_t code[SSLBIN_ENTRY_INSNS * 15];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC), at;

	snprintf(why, n, "cannot read %s", path);
	if (fd < 0)
		return 0;
	if (exec_section(fd, off, &lo, &hi)) {
		snprintf(why, n, "not in an executable section");
	} else if (callee(fd, off, lo, hi, &a) || callee(fd, off_ex, lo, hi, &b)) {
		snprintf(why, n, "no direct call found at the start of both functions");
	} else if (a != b) {
		snprintf(why, n, "they call different functions first");
	} else if ((got = pread(fd, code, sizeof(code), a)) <= 0 ||
		   (at = sslbin_cheap_entry(code, got)) < 0) {
		snprintf(why, n, "the function both call starts with an instruction "
			 "the kernel single-steps");
	} else {
		ret = a + at;
		snprintf(why, n, "the function both call, file offset 0x%llx",
			 (unsigned long long)a);
	}
	close(fd);
	return ret;
}
