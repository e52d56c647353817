/* compile.h -- internal to the probe layer: BCC's compiler, loaded only by a child process, and that child's hand-over of file descriptors. */
#ifndef HS_COMPILE_H
#define HS_COMPILE_H

#include <stdbool.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>

/* libbcc's compiler API, resolved by dlsym() in the child only (see
 * compile_run); every pointer is set once the child runs its job. */
struct compile_bcc {
	__typeof__(bpf_module_create_c_from_string) *create_c_from_string;
	__typeof__(bpf_module_license) *license;
	__typeof__(bpf_module_kern_version) *kern_version;
	__typeof__(bpf_num_functions) *num_functions;
	__typeof__(bpf_function_name) *function_name;
	__typeof__(bpf_function_start) *function_start;
	__typeof__(bpf_function_size) *function_size;
	__typeof__(bpf_num_tables) *num_tables;
	__typeof__(bpf_table_fd_id) *table_fd_id;
	__typeof__(bpf_table_fd) *table_fd;
	__typeof__(bpf_table_name) *table_name;
	__typeof__(bpf_table_max_entries) *table_max_entries;
	__typeof__(bpf_table_key_size) *table_key_size;
	__typeof__(bpf_table_leaf_size) *table_leaf_size;
	__typeof__(bcc_func_load) *func_load;
};
extern struct compile_bcc compile_bcc;

/* What the child hands over, one message (and SCM_RIGHTS fd) each. */
enum compile_fd {
	COMPILE_FD_TABLE,  /* a map; name = the table's name */
	COMPILE_FD_ATTACH, /* a tracepoint attachment; name = "category:event" */
	COMPILE_FD_UPROBE, /* an uprobe program; slot = its uprobe slot */
	COMPILE_FD_GOUPROBE, /* a Go TLS uprobe program; slot = enum hs_go_prog */
	COMPILE_FD_PROG,   /* any other loaded program, kept for fdinfo */
	COMPILE_FD_DONE,   /* the last message: everything was sent */
};

/* In the child: loads, attaches and sends (compile_send) what the parent
 * needs from the compiled module mod.  Returns the programs attached, or
 * -errno after saying what went wrong on stderr. */
typedef int (*compile_child_fn)(void *ctx, void *mod, int sock);
/* In the parent: takes one file descriptor over.  Returns 0, or -E2BIG
 * when there is no room for it (the caller then closes it). */
typedef int (*compile_recv_fn)(void *ctx, enum compile_fd kind, int slot,
			       const char *name, int fd);

struct compile_job {
	const char *source;	 /* probe text */
	const char *source_name; /* shown in compile errors */
	const char **cflags;	 /* -D flags for clang */
	int ncflags;
	bool user_only;		 /* the probe reads no kernel memory */
	bool cache;		 /* use and keep the compiled probe in the
				  * cache (probecache.h) */
	bool verbose;		 /* say how long compiling took */
	compile_child_fn child;	 /* runs in the child, on its copy of ctx */
	compile_recv_fn recv;	 /* runs in the parent */
	void *ctx;
};

/* Compiles job->source in a child process, which runs job->child on the
 * module; the file descriptors it sends reach job->recv here.  Returns 0
 * or -errno (the child has said why on stderr). */
int compile_run(const struct compile_job *job);
/* In the child: sends one file descriptor (fd < 0: none) to the parent.
 * Returns 0 or -errno. */
int compile_send(int sock, enum compile_fd kind, int slot, const char *name,
		 int fd);

#endif
