/* attach.h -- internal to the probe layer: loads the probe's programs, fills its tail-call tables and attaches its tracepoints. */
#ifndef HS_ATTACH_H
#define HS_ATTACH_H

#include <bcc/libbpf.h>

#include "event.h"

#define ATTACH_MAX_TP 64 /* TRACEPOINT_PROBEs (and raw ones) in a probe */
/* Programs held: every tracepoint's, every tail-call target's (one per
 * slot of hs_calls, hs_calls_kp and hs_calls_ks) and the uprobes'
 * (OpenSSL, Go). */
#define ATTACH_MAX_PROGS (ATTACH_MAX_TP + 3 * HS_CALL_MAX + HS_UPROBE_SLOTS + HS_GO_PROGS)
/* The attach type of a uprobe session program (BPF_TRACE_UPROBE_SESSION,
 * Linux 6.13), which this system's headers may not name. */
#define ATTACH_UPROBE_SESSION 57
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
/* The same, for the kernel's attach type eat (ATTACH_UPROBE_SESSION). */
int attach_load_prog_as(struct attach *a, void *mod, const char *name,
			enum bpf_prog_type type, int eat);
/* Loads size bytes of insns as a program of `type` for attach type eat,
 * through the bpf syscall itself (the probe cache's bcc_prog_load cannot
 * say an attach type), with the verifier's log in log when not NULL.
 * Returns the fd, or -1 (errno). */
int attach_prog_load_for(enum bpf_prog_type type, int eat, const char *name,
			 const struct bpf_insn *insns, size_t size, const char *license,
			 unsigned kern_version, char *log, unsigned log_size);
/* Links uprobe session program prog_fd to the cnt places offs (file
 * offsets in path, each with its cookie), for process pid or (0) all:
 * one uprobe_multi link of the session kind (BPF_LINK_CREATE, Linux
 * 6.13), which this system's headers may not describe.  Returns the
 * link's fd (closing it detaches), or -1 (errno). */
int attach_session_link(int prog_fd, const char *path, const uint64_t *offs,
			const uint64_t *cookies, uint32_t cnt, uint32_t pid);
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
