/* sslbin.h -- reads an OpenSSL library's machine code to find where its plaintext can be probed cheaply: the internal function SSL_read and SSL_read_ex share (likewise for writes). */
#ifndef HS_SSLBIN_H
#define HS_SSLBIN_H

#include <stddef.h>
#include <stdint.h>

/* Why: a uprobe on an instruction the kernel cannot emulate (SSL_read
 * and SSL_write begin with `sub $0x18,%rsp` in OpenSSL 3.0) executes it
 * out of line under a single-step trap, which cost 21 to 34 us per hit
 * in this project's 2-core VM (Firecracker, Linux 6.18), against 0.5 to
 * 0.8 us on one it emulates (push of a register, call, jmp, jcc, nop).
 * A return probe pays it too: it plants its breakpoint at the entry.
 * OpenSSL's SSL_read(s, buf, num) and SSL_read_ex(s, buf, num, &n) both
 * call ssl_read_internal(s, buf, num, &n), which starts with a push: one
 * entry and one return probe there, with SSL_read_ex's meaning, see both
 * for about 1 us a call instead of 25. */

/* Bytes, and instructions, of an exported function decoded looking for
 * its first call: OpenSSL 3.0's SSL_read reaches it after 8. */
#define SSLBIN_SCAN_BYTES 96
#define SSLBIN_SCAN_INSNS 24

/* The first call on the straight path from the start of code (x86-64;
 * conditional branches are followed by falling through, as the path
 * with valid arguments does).  Returns 0 and the call's target, relative
 * to code's start, in *target; -ENOENT when a return, a jump, an
 * indirect call or the end of what was decoded comes first. */
int sslbin_first_call(const uint8_t *code, size_t len, int64_t *target);

/* Where in a function (code: its first bytes) a uprobe costs no
 * single step and still sees the registers and the stack as the call
 * left them (as entry and return probes need): its first instruction
 * when the kernel emulates it, else the first emulated one past an
 * endbr64 and instructions that only set flags (test, cmp: SSL_free
 * opens with `test %rdi,%rdi; je`), at most SSLBIN_ENTRY_INSNS in.
 * Returns its offset, or -1 when there is no such place. */
#define SSLBIN_ENTRY_INSNS 4
int sslbin_cheap_entry(const uint8_t *code, size_t len);

/* The file offset at which to probe the function that both functions
 * at file offsets off and off_ex of the ELF file at path call first,
 * inside the same executable section, at its cheap entry; 0 when they
 * call different functions, or none, or when it has no cheap entry (why
 * says which, for --verbose). */
/* off, or where past it the function at file offset off of the ELF
 * file at path is cheap to probe (sslbin_cheap_entry). */
uint64_t sslbin_cheap_offset(const char *path, uint64_t off);

uint64_t sslbin_shared_callee(const char *path, uint64_t off, uint64_t off_ex,
			      char *why, size_t n);

#endif
