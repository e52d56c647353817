/* probe.h -- the kernel side: compiles the eBPF probe with BCC, attaches it, and reads its records. */
#ifndef HS_PROBE_H
#define HS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "event.h"

/* The probe source embedded at build time (include/event.h followed by
 * probes/httpsnoop.bpf.c), NUL-terminated. */
extern const char probe_embedded_source[];
/* include/event.h alone, as this binary was built with it. */
extern const char probe_event_header[];

/* How the probe sees socket I/O (see the top of probes/httpsnoop.bpf.c). */
enum probe_hooks {
	PROBE_HOOKS_AUTO = 0, /* the socket-level hooks where the kernel
			       * has them, else the syscall tracepoints;
			       * HTTPSNOOP_HOOKS=sock|syscall in the
			       * environment stands for a choice */
	PROBE_HOOKS_SOCK,     /* the socket-level hooks, or fail */
	PROBE_HOOKS_SYSCALL,  /* the syscall tracepoints */
};

/* Where compiled copies of the built-in probe are kept (probe_opts.cache),
 * unless HTTPSNOOP_CACHE_DIR in the environment names another. */
#define PROBE_CACHE_DIR "/var/cache/httpsnoop"

struct probe_opts {
	const char *source;	 /* probe text to compile */
	const char *source_name; /* shown in compile errors */
	const uint32_t *pids;	 /* trace only these tgids (npids > 0, at
				  * most HS_MAX_PIDS) */
	size_t npids;
	const uint16_t *ports;	 /* only connections with one of these
				  * local or remote ports (nports > 0, at
				  * most HS_MAX_PORTS) */
	size_t nports;
	bool unix_filter;	 /* --unix: Unix connections pass the kernel's
				  * filter (user space checks their paths);
				  * then TCP ones pass only with nports */
	const char *comm;	 /* only tasks with this comm, or NULL */
	const uint64_t *cgroups; /* only tasks in these cgroup v2 ids (at
				  * most HS_MAX_CGROUPS) */
	size_t ncgroups;
	unsigned ringbuf_kb;	 /* ring buffer size */
	enum probe_hooks hooks;	 /* the hook path asked for (--hooks) */
	bool tls;		 /* compile the OpenSSL uprobes in, and Go's
				  * crypto/tls ones where the kernel can */
	bool user_only;		 /* the probe reads no kernel memory: BCC
				  * may skip its check of the kernel's
				  * helpers (see hide_kallsyms) */
	bool cache;		 /* use and keep the compiled probe in the
				  * cache (probecache.h); the self-exclusion
				  * is then hs_armed's, not a -D flag */
	bool debug_info;	 /* compile with debug information, so that a
				  * verifier log names the probe's source
				  * lines (a quarter of the compile time) */
	bool verbose;
};

/* A probe file that includes event.h as probes/httpsnoop.bpf.c does (a
 * line `#include "event.h"`), with that line replaced by this binary's
 * header between #line directives, so that clang's diagnostics keep the
 * file's own line numbers.  Returns a new string to free, or NULL when
 * the text has no such line (a copy of --ebpf's output has the header's
 * text already) or memory ran out. */
char *probe_source_with_header(const char *text);

/* One record as the probe sent it; data is valid only during the call. */
typedef void (*probe_record_fn)(void *ctx, const void *rec, size_t len);

struct probe;

/* Checks privileges, tracefs and kernel headers, detects kernel
 * features, compiles and attaches.  On failure prints what went wrong and
 * what to do, and returns -errno. */
int probe_open(struct probe **out, const struct probe_opts *opts,
	       probe_record_fn fn, void *ctx);
/* Starts the probe: until then every program is attached but reports
 * nothing, so that a syscall is never seen at one end only.  Arm as late
 * as possible before polling: records sent meanwhile fill the buffer. */
int probe_arm(struct probe *p);
/* Waits up to timeout_ms for records and hands all available ones to the
 * callback.  Returns records handled, or -errno (never -EINTR). */
int probe_poll(struct probe *p, int timeout_ms);
/* Hands over every record the kernel has written, including those a
 * perf buffer's reading holds back for ordering: the last call before
 * closing. */
int probe_flush(struct probe *p);
/* Sums the probe's per-CPU counters (enum hs_stat) into out, and adds
 * perf-buffer losses to HS_STAT_LOST. */
int probe_stats(struct probe *p, uint64_t out[HS_STAT_MAX]);
/* The run time (ns) and runs of the probe's programs so far, summed from
 * the kernel's BPF statistics (a tail call's target counts in its
 * caller's).  -ENODATA when the kernel keeps none: the sysctl
 * kernel.bpf_stats_enabled is 0 and no program has a run counted. */
int probe_run_time(struct probe *p, uint64_t *ns, uint64_t *runs);
/* Adds cgroup v2 ids to the kernel's --container filter (a probe opened
 * with cgroups only). */
void probe_add_cgroups(struct probe *p, const uint64_t *ids, size_t n);
/* Tells the probe to stop copying a connection (filtered, not a socket). */
void probe_ignore(struct probe *p, uint32_t tgid, int32_t fd, uint64_t conn_id);
/* Before probe_arm: tells the probe to ignore a connection open before
 * tracing (it has no entry yet), which -P found on none of its ports. */
void probe_ignore_existing(struct probe *p, uint32_t tgid, int32_t fd);
/* Drops, in one walk of the probe's connection table, the entries of the
 * given processes (they exited) and of every process that no longer
 * exists (exits the probe could not report).  Returns entries dropped. */
size_t probe_sweep(struct probe *p, const uint32_t *tgids, size_t n);
/* Entries in the probe's connection table now. */
size_t probe_conn_count(struct probe *p);
/* Attaches the OpenSSL uprobes to the library at path (as seen from
 * here, e.g. through /proc/PID/root).  Returns how many uprobes on
 * SSL_read, SSL_write, SSL_read_ex, SSL_write_ex and SSL_free (entry and
 * return count apart) were attached (0 when the library has none of
 * them: stripped, or not OpenSSL), or -errno. */
int probe_attach_tls(struct probe *p, const char *path);
/* Whether the probe has the SSL uprobe programs (an edited probe may
 * not). */
bool probe_has_tls(const struct probe *p);
/* Attaches the Go crypto/tls uprobes to the Go binary at path (as seen
 * from here; /proc/self/fd/N pins the file), whose analysis by
 * gobin_analyse() said GOBIN_OK: one uprobe at each function's body (past
 * the stack check) and one at each of its return instructions.  All or none: returns how many
 * were attached, or -errno (-ENOTSUP: the probe has no Go programs,
 * -E2BIG: no room for more). */
struct gobin;
int probe_attach_go(struct probe *p, const char *path, const struct gobin *g);
/* Whether the probe has the Go crypto/tls programs: with TLS on, on a
 * kernel that has bpf_task_pt_regs (5.15), unless an edited probe lacks
 * them. */
bool probe_has_go(const struct probe *p);

/* A short description of the kernel features in use. */
const char *probe_features(const struct probe *p);
/* Detaches and frees; accepts NULL. */
void probe_close(struct probe *p);

#endif
