/* compile.c -- compiles the probe in a child process, the only one that loads BCC's compiler, and takes its file descriptors over (SCM_RIGHTS).
 *
 * Compiling takes LLVM and clang some 100 MB that the allocator never
 * gives back all of, so a child does it, and everything else that needs
 * the compiled module, and passes the file descriptors over: httpsnoop
 * itself never grows by the compiler.  It links libbcc_bpf, BCC's other
 * half (maps, buffers, attaching, symbols).
 */
#include "capture/compile.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture/probecache.h"
#include "core/util.h"

struct compile_bcc compile_bcc;

#define NAME_LEN 130 /* a table or "category:event" name, NUL included */

/* One message of the hand-over; the fd rides along as SCM_RIGHTS. */
struct fd_msg {
	int kind, slot;
	char name[NAME_LEN];
};

/* BCC's compiler half: libbcc, which brings LLVM and clang (some 60 MB
 * of resident pages once loaded and relocated). */
static int load_bcc(void)
{
#define BCC_SYM(field, sym) { (void **)&compile_bcc.field, #sym }
	const struct {
		void **slot;
		const char *name;
	} syms[] = {
		BCC_SYM(create_c_from_string, bpf_module_create_c_from_string),
		BCC_SYM(license, bpf_module_license),
		BCC_SYM(kern_version, bpf_module_kern_version),
		BCC_SYM(num_functions, bpf_num_functions),
		BCC_SYM(function_name, bpf_function_name),
		BCC_SYM(function_start, bpf_function_start),
		BCC_SYM(function_size, bpf_function_size),
		BCC_SYM(num_tables, bpf_num_tables),
		BCC_SYM(table_fd_id, bpf_table_fd_id),
		BCC_SYM(table_fd, bpf_table_fd),
		BCC_SYM(table_name, bpf_table_name),
		BCC_SYM(table_max_entries, bpf_table_max_entries),
		BCC_SYM(table_key_size, bpf_table_key_size),
		BCC_SYM(table_leaf_size, bpf_table_leaf_size),
		BCC_SYM(func_load, bcc_func_load),
	};
#undef BCC_SYM
	void *h = dlopen("libbcc.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		warn("failed to load BCC's compiler: %s (install libbpfcc)", dlerror());
		return -1;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			warn("libbcc.so.0 has no %s: httpsnoop needs BCC 0.26 or later",
			     syms[i].name);
			return -1;
		}
	}
	return 0;
}

/* BCC reads all of /proc/kallsyms (some 120,000 symbols, 0.2 s) on every
 * compile, only to learn whether bpf_probe_read_kernel exists, which the
 * built-in probe never calls (it reads user memory, through hs_read_user).
 * For that probe the child hides the file in a mount namespace of its
 * own, made private first so that nothing reaches the host's; without the
 * privilege for that (a container), it pays the 0.2 s.  An edited probe
 * may read kernel memory, and BCC then needs the answer. */
static void hide_kallsyms(void)
{
	if (unshare(CLONE_NEWNS) == 0 &&
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0)
		mount("/dev/null", "/proc/kallsyms", NULL, MS_BIND, NULL);
}

int compile_send(int sock, enum compile_fd kind, int slot, const char *name,
		 int fd)
{
	struct fd_msg m = { .kind = kind, .slot = slot };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	snprintf(m.name, sizeof(m.name), "%s", name ? name : "");
	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &mh, 0) == sizeof(m) ? 0 : -errno;
}

/* The child: compiles, runs the job on the module, says it is done.
 * Returns the child's exit status; what went wrong is on stderr already. */
static int child_main(const struct compile_job *job, int sock)
{
	uint64_t t0 = util_now_ns(), t1;
	void *mod = job->cache ? pcache_load(job) : NULL;
	bool cached = mod != NULL;
	int n;

	if (!cached) {
		if (job->user_only)
			hide_kallsyms();
		if (load_bcc())
			return 1;
		mod = compile_bcc.create_c_from_string(job->source, 0, job->cflags,
						       job->ncflags, true, NULL);
	}
	t1 = util_now_ns();
	if (!mod) {
		warn("failed to compile the probe %s: clang's diagnostics are above; "
		     "their line numbers (/virtual/main.c:LINE) count lines of %s",
		     job->source_name, job->source_name);
		return 1;
	}
	n = job->child(job->ctx, mod, sock);
	if (n < 0)
		return 1;
	if (job->verbose)
		fprintf(stderr, "httpsnoop: probe %s in %.0f ms, loaded and "
			"attached %d programs in %.0f ms\n",
			cached ? "read from the cache" : "compiled", (t1 - t0) / 1e6,
			n, (util_now_ns() - t1) / 1e6);
	/* Kept only once the kernel's verifier has taken every program. */
	if (job->cache && !cached)
		pcache_save(job, mod);
	return compile_send(sock, COMPILE_FD_DONE, 0, NULL, -1) ? 1 : 0;
}

/* Receives one message.  Returns 1 when it was the last, 0 for more,
 * -EPIPE when the child stopped sending (it failed, and said why), or
 * another -errno when this side could not take an fd (it goes on
 * receiving, so that the child can finish). */
static int recv_one(int sock, const struct compile_job *job)
{
	struct fd_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	ssize_t got;
	int fd = -1, err;

	do
		got = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	if (got != sizeof(m))
		return -EPIPE;
	m.name[sizeof(m.name) - 1] = '\0';
	c = CMSG_FIRSTHDR(&mh);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if (m.kind == COMPILE_FD_DONE)
		return 1;
	if (fd < 0)
		return -EPROTO;
	err = job->recv(job->ctx, m.kind, m.slot, m.name, fd);
	if (err)
		close(fd);
	return err;
}

/* Waits for the child and says what became of it.  Returns 0 when it
 * exited with success. */
static int reap(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		warn("the process compiling the probe was killed by signal %d (%s)",
		     WTERMSIG(status), strsignal(WTERMSIG(status)));
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int compile_run(const struct compile_job *job)
{
	int sv[2], err = 0, r;
	bool done = false;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(child_main(job, sv[1]));
	}
	close(sv[1]);
	while (!done && (r = recv_one(sv[0], job)) != -EPIPE) {
		if (r == 1)
			done = true;
		else if (r < 0 && !err)
			err = r;
	}
	close(sv[0]);
	if (reap(pid) || !done)
		return err ? err : -EINVAL;
	if (err)
		warn("the process compiling the probe handed over more than "
		     "httpsnoop can hold: %s", strerror(-err));
	return err;
}
