/* attach.h -- internal to the probe layer: loads the probe's programs, fills its tail-call tables and attaches its tracepoints. */
#ifndef HS_ATTACH_H
#define HS_ATTACH_H

#include <bcc/libbpf.h>

#include "event.h"

#define ATTACH_MAX_TP 64 /* TRACEPOINT_PROBEs (and raw ones) in a probe */
/* Programs held: every tracepoint's, every tail-call target's (one per
 * slot of hs_calls and of hs_calls_kp) and the uprobes' (OpenSSL, Go). */
#define ATTACH_MAX_PROGS (ATTACH_MAX_TP + 2 * HS_CALL_MAX + HS_UPROBE_SLOTS + HS_GO_PROGS)
#define ATTACH_NAME_LEN 130 /* "category:event", NUL included */

struct attach {
	/* Programs, held so that they show in /proc/PID/fdinfo with their
	 * statistics (tail-call targets live in their tables anyway). */
	int prog_fd[ATTACH_MAX_PROGS];
	int nprogs;
	int tp_fd[ATTACH_MAX_TP]; /* attached tracepoints */
	char tp_name[ATTACH_MAX_TP][ATTACH_NAME_LEN]; /* "category:event", "raw:event" */
	int ntp;
};

/* In the child that compiles (see compile.h), on the module mod. */

/* Loads the function `name` as a program of `type`; when the verifier
 * refuses it, loads it again for its log and prints the end of that.
 * Returns the program's fd (also kept in a->prog_fd) or -errno. */
int attach_load_prog(struct attach *a, void *mod, const char *name,
		     enum bpf_prog_type type);
/* Fills the tail-call tables and attaches every TRACEPOINT_PROBE.
 * Returns 0 or -errno, after saying what went wrong. */
int attach_all(struct attach *a, void *mod);
/* Send the programs loaded so far, and the attachments, to the parent
 * (compile_send).  Return 0 or -errno. */
int attach_send_progs(const struct attach *a, int sock);
int attach_send_tracepoints(const struct attach *a, int sock);

/* In the parent: keeps what the child sent.  0, or -E2BIG when full. */
int attach_add_prog(struct attach *a, int fd);
int attach_add_tracepoint(struct attach *a, const char *name, int fd);
/* Detaches the tracepoints and closes the programs. */
void attach_close(struct attach *a);

#endif
