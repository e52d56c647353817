/* gobin.h -- reads a Go executable to find where to probe its crypto/tls: Go version, ABI, entry and return offsets. */
#ifndef HS_GOBIN_H
#define HS_GOBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Return instructions of one function: a function with more is refused
 * (crypto/tls.(*Conn).Read and Write have 7 and 8 in Go 1.19). */
#define GOBIN_MAX_RETS 32

/* The functions a Go binary is probed at, in gobin_fn_name's order.
 * The handshake is optional (fn[GOBIN_HANDSHAKE].addr == 0 when absent):
 * the socket syscalls made inside it say which socket a tls.Conn uses
 * before its first Read, which Go may serve from what the handshake
 * already read. */
enum gobin_fn { GOBIN_WRITE, GOBIN_READ, GOBIN_HANDSHAKE, GOBIN_NFN };
extern const char *const gobin_fn_name[GOBIN_NFN];

/* Places probed where a call is over, at most, in one function: its
 * returns' own, or the branches into them (Read has 7 returns and 25
 * places in Go 1.19). */
#define GOBIN_MAX_SITES 96

/* Where a call's result n is at a site: the order of event.h's
 * enum hs_gock_src and HS_GOCK_REG. */
enum gobin_src { GOBIN_SRC_NONE, GOBIN_SRC_REG, GOBIN_SRC_STACK, GOBIN_SRC_CONST };
enum gobin_reg {
	GOBIN_RAX, GOBIN_RBX, GOBIN_RCX, GOBIN_RDX, GOBIN_RSI, GOBIN_RDI, GOBIN_R8,
	GOBIN_R9, GOBIN_R10, GOBIN_R11, GOBIN_R12, GOBIN_R13, GOBIN_R15, GOBIN_RBP,
	GOBIN_NREG,
};
#define GOBIN_ALWAYS 16 /* gobin_site.cond of a site that is no conditional branch */

/* A place where a call of the function is over: a direct CALL in the
 * straight run of code that ends at a RET, or a branch into that run,
 * which the kernel emulates; or, where neither will do, the RET itself,
 * which it must single-step (20-35 us a hit on a Firecracker VM, against
 * about 0.5 us). */
struct gobin_site {
	uint64_t off;  /* file offset of the probed instruction */
	uint8_t cond;  /* over when this x86 condition holds (a Jcc's: the low
			* nibble of its opcode; a fall-through the negation),
			* or GOBIN_ALWAYS */
	uint8_t src;   /* enum gobin_src: where n (RAX at the RET) is here;
			* GOBIN_SRC_NONE: not known -- the handshake's, which is
			* not read, or a Write's that is not certain (the probe
			* then takes the length Write was given) */
	uint8_t reg;   /* GOBIN_SRC_REG: enum gobin_reg */
	bool ret;      /* it is the RET: single-stepped */
	int32_t val;   /* GOBIN_SRC_STACK: n is the 8 bytes at RSP + val;
			* GOBIN_SRC_CONST: n is val */
};

/* One function, as the probe needs it (all zero when absent). */
struct gobin_func {
	uint64_t addr;                /* link-time virtual address of the entry */
	uint64_t end;                 /* first address past it (symbol size, or the next function's entry) */
	uint64_t entry;               /* file offset of the entry */
	uint64_t check;               /* file offset of the JBE to morestack after the
				       * prologue's stack check: the entry probe, which
				       * the kernel emulates; the arguments are still in
				       * their registers, and a call whose stack must grow
				       * (and which runs the prologue twice) takes the
				       * branch, which the probe sees in the flags */
	uint64_t ret[GOBIN_MAX_RETS]; /* file offsets of its return instructions, ascending */
	uint32_t nret;
	struct gobin_site site[GOBIN_MAX_SITES]; /* where a call is over: every path
						   * to a RET passes exactly one */
	uint32_t nsite;
	uint32_t nstepped;            /* of nret, the RETs probed themselves (no
				       * cheaper place was certain) */
};

/* The layout of .gopclntab, named by the Go versions that wrote it. */
enum gobin_pcln {
	GOBIN_PCLN_NONE,
	GOBIN_PCLN_12,  /* Go 1.2-1.15 (magic 0xfffffffb) */
	GOBIN_PCLN_116, /* Go 1.16-1.17 (0xfffffffa) */
	GOBIN_PCLN_118, /* Go 1.18-1.19 (0xfffffff0) */
	GOBIN_PCLN_120, /* Go 1.20 and later (0xfffffff1) */
};

enum gobin_result {
	GOBIN_NOT_GO,  /* not a Go executable, or not an ELF file at all */
	GOBIN_NO_TLS,  /* Go, but without crypto/tls.(*Conn).Read/Write: nothing to trace */
	GOBIN_REFUSED, /* Go with crypto/tls that cannot be traced with certainty: why says why */
	GOBIN_OK,      /* fn[] is filled: traceable with the register ABI on x86-64 */
};

/* gobin_analyse flags */
#define GOBIN_NO_SYMTAB 0x1 /* ignore .symtab: find the functions through .gopclntab (tests) */

struct gobin {
	char version[80];      /* runtime.Version() as built in, e.g. "go1.19.8" or
				* "go1.23.1 X:nocoverageredesign"; "" without build info */
	unsigned major, minor; /* 1, 19; 0, 0 when unknown */
	uint16_t machine;      /* ELF e_machine (EM_X86_64 = 62) */
	bool pie;              /* ET_DYN: PIE or static-PIE */
	bool from_pclntab;     /* functions found through .gopclntab (no symbol table) */
	enum gobin_pcln pcln;  /* the layout of its .gopclntab */
	struct gobin_func fn[GOBIN_NFN];
	char why[200];         /* GOBIN_REFUSED (and GOBIN_NOT_GO for a damaged ELF): why, one line */
};

/* Reads the file at path (never executes or maps it; every read is
 * bounded by the file's size, so a truncated or hostile file yields
 * GOBIN_NOT_GO or GOBIN_REFUSED, never a crash).  Returns an enum
 * gobin_result, or -errno when the file cannot be opened or read.  g is
 * the caller's and is filled as far as the analysis got. */
int gobin_analyse(const char *path, unsigned flags, struct gobin *g);

/* The analysis of one function's code: code[0, len) is function k
 * (enum gobin_fn) loaded at link-time address f->addr, whose entry is at
 * file offset f->entry; fills f->check, ret, site and their counts.
 * GOBIN_OK, or GOBIN_REFUSED with why[0, n) saying why (then f is not to
 * be used).  gobin_analyse calls it; tests feed it crafted code. */
int gobin_scan(const uint8_t *code, uint64_t len, int k, struct gobin_func *f,
	       char *why, size_t n);

#endif
