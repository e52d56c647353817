/* gobin.h -- reads a Go executable to find where to probe its crypto/tls: Go version, ABI, entry and return offsets. */
#ifndef HS_GOBIN_H
#define HS_GOBIN_H

#include <stdbool.h>
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

/* One function, as the probe needs it (all zero when absent). */
struct gobin_func {
	uint64_t addr;                /* link-time virtual address of the entry */
	uint64_t end;                 /* first address past it (symbol size, or the next function's entry) */
	uint64_t entry;               /* file offset of the entry */
	uint64_t body;                /* file offset past the prologue's stack check and
				       * its branch to morestack: where the entry uprobe
				       * goes (a stack growth runs the prologue twice,
				       * the body once), the arguments still in registers */
	uint64_t ret[GOBIN_MAX_RETS]; /* file offsets of its return instructions, ascending */
	uint32_t nret;
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

#endif
