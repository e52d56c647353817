/* test_unixsock.c -- unit test of unixsock: names, types and peers of real Unix sockets made here (named, abstract, unnamed, in another network namespace), and who holds them.
 *
 * Runs as any user; the network-namespace cases need root (unshare and
 * setns) and say "skip" without it.  Exits 0 only if every check passes,
 * printing each failure to stderr.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/procfs.h"
#include "capture/unixsock.h"
#include "check.h"
#include "core/util.h"
#include "event.h"


/* ---- unixsock_name, table-driven ---- */

struct name_case {
	const char *what;
	const char *in; /* sun_path bytes */
	size_t len;
	const char *want;
};

static char long_path[UNIXSOCK_PATH_MAX + 20];
static char long_want[UNIXSOCK_PATH_MAX + 1];

static void test_names(void)
{
	const struct name_case cases[] = {
		{ "empty (unnamed)", "", 0, "" },
		{ "path with its NUL", "/run/podman/podman.sock\0", 24, "/run/podman/podman.sock" },
		{ "path without NUL", "/tmp/x", 6, "/tmp/x" },
		{ "path, bytes after the NUL", "/a\0zz", 5, "/a" },
		{ "relative path", "s.sock\0", 7, "s.sock" },
		{ "abstract", "\0containerd-shim", 16, "@containerd-shim" },
		{ "abstract, inner NULs", "\0a\0b\0", 5, "@a@b@" },
		{ "abstract, only the NUL", "\0", 1, "@" },
		{ "path of 108 bytes, no NUL", long_path, UNIXSOCK_PATH_MAX, long_want },
		{ "longer than sun_path: cut", long_path, sizeof(long_path), long_want },
	};
	char out[UNIXSOCK_NAME_MAX];

	memset(long_path, 'p', sizeof(long_path));
	long_path[0] = '/';
	memcpy(long_want, long_path, UNIXSOCK_PATH_MAX);
	long_want[UNIXSOCK_PATH_MAX] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = unixsock_name(cases[i].in, cases[i].len, out);

		CHECK(!strcmp(out, cases[i].want) && n == strlen(cases[i].want),
		      "name %s: got '%s' (%zu)", cases[i].what, out, n);
	}
	/* The longest abstract name fits the buffer: '@' + 107 bytes. */
	memset(long_path, 'a', sizeof(long_path));
	long_path[0] = '\0';
	CHECK(unixsock_name(long_path, UNIXSOCK_PATH_MAX, out) == UNIXSOCK_PATH_MAX &&
	      out[0] == '@' && out[UNIXSOCK_PATH_MAX] == '\0',
	      "longest abstract name: '%s'", out);
}

/* ---- real sockets ---- */

static uint64_t ino_of(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) ? 0 : (uint64_t)sb.st_ino;
}

/* A listener bound to name (namelen bytes of sun_path), a client connected
 * to it and the accepted end.  Returns 0 or -1. */
static int make_conn(int type, const char *name, size_t namelen, int *lfd,
		     int *cfd, int *afd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + namelen);

	memcpy(sa.sun_path, name, namelen);
	*lfd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	*cfd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (*lfd < 0 || *cfd < 0 || bind(*lfd, (struct sockaddr *)&sa, len) ||
	    listen(*lfd, 8) || connect(*cfd, (struct sockaddr *)&sa, len)) {
		perror("make_conn");
		return -1;
	}
	*afd = accept4(*lfd, NULL, NULL, SOCK_CLOEXEC);
	return *afd < 0 ? -1 : 0;
}

static void close3(int a, int b, int c)
{
	close(a);
	close(b);
	close(c);
}

/* The three sockets of a connection to name, as unixsock sees them from
 * process pid. */
static void check_conn(struct unixsock *u, uint32_t pid, const char *what,
		       uint64_t l, uint64_t c, uint64_t a, int type,
		       const char *name, bool with_peers)
{
	struct unixsock_info li, ci, ai, pi;
	int err;

	err = unixsock_lookup(u, pid, l, &li);
	CHECK(!err && li.ino == l && li.listening && li.type == type &&
	      !strcmp(li.name, name) && li.peer_ino == 0,
	      "%s listener: err %d name '%s' type %u listening %d peer %llu", what,
	      err, li.name, li.type, li.listening, (unsigned long long)li.peer_ino);
	err = unixsock_lookup(u, pid, a, &ai);
	CHECK(!err && !ai.listening && ai.type == type && !strcmp(ai.name, name) &&
	      ai.peer_ino == (with_peers ? c : 0),
	      "%s accepted: err %d name '%s' (want '%s') peer %llu (want %llu)",
	      what, err, ai.name, name, (unsigned long long)ai.peer_ino,
	      (unsigned long long)(with_peers ? c : 0));
	err = unixsock_lookup(u, pid, c, &ci);
	CHECK(!err && !ci.listening && ci.type == type && ci.name[0] == '\0' &&
	      ci.peer_ino == (with_peers ? a : 0),
	      "%s client: err %d name '%s' peer %llu", what, err, ci.name,
	      (unsigned long long)ci.peer_ino);
	if (!with_peers || err || !ci.peer_ino)
		return;
	/* The client's other end carries the path the server bound. */
	err = unixsock_lookup(u, pid, ci.peer_ino, &pi);
	CHECK(!err && !strcmp(pi.name, name), "%s client's peer: err %d name '%s'",
	      what, err, pi.name);
}

static void test_named(struct unixsock *u, const char *dir)
{
	char path[256];
	int l, c, a;
	struct unixsock_info info, byfd;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/api.sock", dir);
	if (make_conn(SOCK_STREAM, path, strlen(path) + 1, &l, &c, &a)) {
		CHECK(0, "cannot make a named connection");
		return;
	}
	check_conn(u, getpid(), "named", ino_of(l), ino_of(c), ino_of(a),
		   SOCK_STREAM, path, true);
	/* The bound file, as stat(2) sees it: how --unix PATH matches a
	 * server whatever spelling of the path it bound. */
	CHECK(!unixsock_lookup(u, getpid(), ino_of(l), &info) && !stat(path, &sb) &&
	      info.vfs_dev == sb.st_dev && info.vfs_ino == sb.st_ino,
	      "named listener's file: %llu:%llu, stat says %llu:%llu",
	      (unsigned long long)info.vfs_dev, (unsigned long long)info.vfs_ino,
	      (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino);
	CHECK(!unixsock_lookup_fd(u, getpid(), a, &byfd) && byfd.ino == ino_of(a) &&
	      !strcmp(byfd.name, path), "lookup by fd: '%s'", byfd.name);
	close3(l, c, a);
	/* A pipe is not a socket. */
	{
		int p[2];

		if (pipe(p) == 0) {
			CHECK(unixsock_lookup_fd(u, getpid(), p[0], &byfd) == -ENOTSOCK,
			      "a pipe taken for a socket");
			close(p[0]);
			close(p[1]);
		}
	}
}

static void test_abstract(struct unixsock *u)
{
	char name[64], want[64];
	int n, l, c, a;

	/* An abstract name is not NUL-terminated: its length says it all. */
	n = snprintf(name, sizeof(name), "%chs-test-%d-abs", '\0', (int)getpid());
	snprintf(want, sizeof(want), "@hs-test-%d-abs", (int)getpid());
	if (make_conn(SOCK_STREAM, name, (size_t)n, &l, &c, &a)) {
		CHECK(0, "cannot make an abstract connection");
		return;
	}
	check_conn(u, getpid(), "abstract", ino_of(l), ino_of(c), ino_of(a),
		   SOCK_STREAM, want, true);
	close3(l, c, a);
	/* SOCK_SEQPACKET: the same names, another type. */
	n = snprintf(name, sizeof(name), "%chs-test-%d-seq", '\0', (int)getpid());
	snprintf(want, sizeof(want), "@hs-test-%d-seq", (int)getpid());
	if (make_conn(SOCK_SEQPACKET, name, (size_t)n, &l, &c, &a)) {
		CHECK(0, "cannot make a seqpacket connection");
		return;
	}
	check_conn(u, getpid(), "seqpacket", ino_of(l), ino_of(c), ino_of(a),
		   SOCK_SEQPACKET, want, true);
	close3(l, c, a);
}

static void test_pairs(struct unixsock *u)
{
	const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	struct unixsock_info x, y;
	int sv[2];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (socketpair(AF_UNIX, types[i] | SOCK_CLOEXEC, 0, sv)) {
			CHECK(0, "socketpair: %s", strerror(errno));
			continue;
		}
		CHECK(!unixsock_lookup(u, getpid(), ino_of(sv[0]), &x) &&
		      !unixsock_lookup(u, getpid(), ino_of(sv[1]), &y) &&
		      x.type == types[i] && y.type == types[i] &&
		      x.name[0] == '\0' && y.name[0] == '\0' &&
		      x.peer_ino == y.ino && y.peer_ino == x.ino,
		      "socketpair type %d: types %u %u peers %llu %llu", types[i],
		      x.type, y.type, (unsigned long long)x.peer_ino,
		      (unsigned long long)y.peer_ino);
		close(sv[0]);
		close(sv[1]);
	}
	/* A socket that is gone is not found (and was never cached). */
	if (!socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		uint64_t ino = ino_of(sv[0]);

		close(sv[0]);
		close(sv[1]);
		CHECK(unixsock_lookup(u, getpid(), ino, &x) == -ENOENT,
		      "closed socket still found");
	}
	/* Not a Unix socket at all. */
	CHECK(unixsock_lookup(u, getpid(), 1, &x) == -ENOENT, "inode 1 found");
}

/* ---- who holds a socket ---- */

static void test_owner(struct unixsock *u)
{
	char comm[UNIXSOCK_COMM_LEN];
	uint32_t pid = 0;
	int sv[2], ready[2], err;
	uint64_t mine, theirs;
	pid_t child;
	char c;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) || pipe(ready)) {
		CHECK(0, "socketpair/pipe: %s", strerror(errno));
		return;
	}
	mine = ino_of(sv[0]);
	theirs = ino_of(sv[1]);
	child = fork();
	if (child == 0) {
		close(sv[0]);
		prctl(PR_SET_NAME, "hs-peer", 0, 0, 0);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(sv[1]);
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		CHECK(0, "child did not start");
		goto out;
	}
	/* The walk leaves httpsnoop's own fds out: sv[0] here has no owner
	 * to find, the child's end has. */
	err = unixsock_owner(u, theirs, 0, &pid, comm);
	CHECK(!err && pid == (uint32_t)child && !strcmp(comm, "hs-peer"),
	      "owner of the child's end: err %d pid %u comm '%s'", err, pid, comm);
	/* Right after a walk, another is not due: noted sockets still
	 * answer, unknown ones wait. */
	err = unixsock_owner(u, mine, 0, &pid, comm);
	CHECK(err == -EAGAIN, "walk again at once: %d", err);
	unixsock_note(u, mine, 4242, "noted");
	err = unixsock_owner(u, mine, 0, &pid, comm);
	CHECK(!err && pid == 4242 && !strcmp(comm, "noted"),
	      "noted owner: err %d pid %u comm '%s'", err, pid, comm);
	/* The other end of a socket, noted by the process at that end. */
	unixsock_note_peer(u, mine, 5005, "server");
	err = unixsock_noted_peer(u, mine, 0, &pid, comm);
	CHECK(!err && pid == 5005 && !strcmp(comm, "server"),
	      "noted peer: err %d pid %u comm '%s'", err, pid, comm);
	CHECK(unixsock_noted_peer(u, mine, 5005, &pid, comm) == -ENOENT &&
	      unixsock_noted_peer(u, theirs, 0, &pid, comm) == -ENOENT,
	      "noted peer of the wrong socket, or as not_pid");
	/* Noted as not_pid itself, with nobody else: still the answer. */
	err = unixsock_owner(u, mine, 4242, &pid, comm);
	CHECK(!err && pid == 4242, "noted owner as not_pid: err %d pid %u", err, pid);
	/* The walk's answer stands until the socket's holder is gone. */
	err = unixsock_owner(u, theirs, 0, &pid, comm);
	CHECK(!err && pid == (uint32_t)child, "owner from the last walk: %d %u", err, pid);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = 0;
	nanosleep(&(struct timespec){ 0, UNIXSOCK_WALK_GAP_NS + 10000000 }, NULL);
	err = unixsock_owner(u, theirs, 0, &pid, comm);
	CHECK(err == -ENOENT, "owner of a socket nobody holds: err %d pid %u", err, pid);
out:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	close(sv[0]);
	close(ready[0]);
}

/* ---- completing an HS_EV_UNIX record ---- */

/* The payload as the probe sends it: a client's connect path (raw
 * sun_path bytes), a server's listening fd. */
static void kernel_payload(struct hs_unix *p, int listen_fd, const void *path,
			   size_t len)
{
	memset(p, 0, sizeof(*p));
	p->listen_fd = listen_fd;
	memcpy(p->remote, path, len);
	p->remote_len = (uint8_t)len;
}

static bool name_is(const char *field, uint8_t len, const char *want)
{
	return len == strlen(want) && !memcmp(field, want, len);
}

static void test_complete(struct unixsock *u, const char *dir)
{
	char path[256], link[256], abs[64];
	struct hs_unix p, q;
	int l, c, a, n, err;
	uint32_t me = (uint32_t)getpid();

	snprintf(path, sizeof(path), "%s/complete.sock", dir);
	snprintf(link, sizeof(link), "%s/complete-link.sock", dir);
	if (make_conn(SOCK_STREAM, path, strlen(path) + 1, &l, &c, &a) ||
	    symlink(path, link)) {
		CHECK(0, "cannot make a connection to complete");
		return;
	}
	/* Both ends noted as two other processes, as the records of a
	 * traced client and server note them. */
	unixsock_note(u, ino_of(c), 5001, "client");
	unixsock_note(u, ino_of(a), 5002, "server");

	/* the client connected through a symlink: its remote is the path
	 * the server bound */
	kernel_payload(&p, -1, link, strlen(link) + 1);
	err = unixsock_complete(u, me, c, &p);
	CHECK(!err && p.resolved && p.type == SOCK_STREAM && p.ino == ino_of(c) &&
	      p.peer_ino == ino_of(a) && p.local_len == 0 &&
	      name_is(p.remote, p.remote_len, path) && p.peer_pid == 5002 &&
	      !strcmp(p.peer_comm, "server"),
	      "client: err %d type %u remote '%.*s' peer %u '%s'", err, p.type,
	      p.remote_len, p.remote, p.peer_pid, p.peer_comm);
	/* done once: a second completion changes nothing */
	q = p;
	CHECK(unixsock_complete(u, me, c, &q) == -EALREADY && !memcmp(&p, &q, sizeof(p)),
	      "completed twice");
	/* the server: its listener's path, the client unnamed */
	kernel_payload(&p, l, "", 0);
	err = unixsock_complete(u, me, a, &p);
	CHECK(!err && name_is(p.local, p.local_len, path) && p.remote_len == 0 &&
	      p.ino == ino_of(a) && p.peer_ino == ino_of(c) && p.peer_pid == 5001 &&
	      !strcmp(p.peer_comm, "client"),
	      "server: err %d local '%.*s' remote_len %u peer %u", err, p.local_len,
	      p.local, p.remote_len, p.peer_pid);
	/* a client not accepted yet: the kernel names no peer inode (the
	 * server's end has none until accept); the path the server bound is
	 * known from the first client, which named the same path */
	{
		int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", link);
		if (c2 < 0 || connect(c2, (struct sockaddr *)&sa, sizeof(sa))) {
			CHECK(0, "cannot connect a second client");
		} else {
			kernel_payload(&p, -1, link, strlen(link) + 1);
			err = unixsock_complete(u, me, c2, &p);
			CHECK(!err && p.ino == ino_of(c2) && p.peer_ino == 0 &&
			      name_is(p.remote, p.remote_len, path) && p.peer_pid == 0,
			      "client not accepted: err %d peer_ino %llu remote '%.*s'", err,
			      (unsigned long long)p.peer_ino, p.remote_len, p.remote);
		}
		if (c2 >= 0)
			close(c2);
	}
	/* the accepted socket gone already: the listener still names it */
	close(a);
	kernel_payload(&p, l, "", 0);
	err = unixsock_complete(u, me, a, &p);
	CHECK(!err && p.resolved && name_is(p.local, p.local_len, path) && p.ino == 0 &&
	      p.type == 0 && p.peer_pid == 0,
	      "server gone: err %d local '%.*s' ino %llu", err, p.local_len, p.local,
	      (unsigned long long)p.ino);
	/* the client gone too, connected to an abstract name: what
	 * connect(2) named, as text */
	close(c);
	/* a client gone before it was looked up, which named the path as
	 * the first client did (through the symlink): the path the server
	 * bound, learnt from the first */
	kernel_payload(&p, -1, link, strlen(link) + 1);
	err = unixsock_complete(u, me, c, &p);
	CHECK(!err && p.ino == 0 && name_is(p.remote, p.remote_len, path),
	      "client gone, path known: err %d remote '%.*s'", err, p.remote_len, p.remote);
	/* ... and one that named a path nobody was seen through: that path,
	 * written as the kernel reads it */
	{
		char messy[300], clean[300];

		snprintf(messy, sizeof(messy), "//%s/./x//y.sock/", dir);
		snprintf(clean, sizeof(clean), "%s/x/y.sock", dir);
		kernel_payload(&p, -1, messy, strlen(messy) + 1);
		err = unixsock_complete(u, me, c, &p);
		CHECK(!err && name_is(p.remote, p.remote_len, clean),
		      "client gone, messy path: err %d remote '%.*s', want '%s'", err,
		      p.remote_len, p.remote, clean);
	}
	n = snprintf(abs, sizeof(abs), "%chs-test-gone", '\0');
	kernel_payload(&p, -1, abs, (size_t)n);
	err = unixsock_complete(u, me, c, &p);
	CHECK(!err && p.resolved && name_is(p.remote, p.remote_len, "@hs-test-gone") &&
	      p.local_len == 0 && p.peer_pid == 0,
	      "client gone: err %d remote '%.*s'", err, p.remote_len, p.remote);
	close(l);
	unlink(link);
	unlink(path);
}

/* ---- another network namespace ---- */

struct ns_socks {
	uint64_t l, c, a;	/* a named connection */
	uint64_t al, ac, aa;	/* an abstract one */
};

/* The child: a network namespace of its own with two connections in it;
 * reports their inodes on fd out, then waits to be killed. */
static void ns_child(const char *dir, int out)
{
	struct ns_socks s;
	char path[256], name[64];
	int l, c, a, al, ac, aa, n;

	if (unshare(CLONE_NEWNET))
		_exit(77);
	snprintf(path, sizeof(path), "%s/ns.sock", dir);
	n = snprintf(name, sizeof(name), "%chs-test-ns", '\0');
	if (make_conn(SOCK_STREAM, path, strlen(path) + 1, &l, &c, &a) ||
	    make_conn(SOCK_STREAM, name, (size_t)n, &al, &ac, &aa))
		_exit(1);
	s = (struct ns_socks){ ino_of(l), ino_of(c), ino_of(a),
			       ino_of(al), ino_of(ac), ino_of(aa) };
	if (write(out, &s, sizeof(s)) != sizeof(s))
		_exit(1);
	pause();
	_exit(0);
}

/* Looks at the child's sockets from a process that has dropped
 * CAP_SYS_ADMIN, as httpsnoop does once tracing: no netlink socket in the
 * other namespace, so /proc/PID/net/unix answers (names, no peers). */
static int ns_unprivileged(const char *dir, pid_t target, const struct ns_socks *s)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		struct unixsock *u = unixsock_new();
		int before = failures; /* the parent's, inherited */
		char path[256];

		if (!u || util_drop_privileges(false))
			_exit(2);
		snprintf(path, sizeof(path), "%s/ns.sock", dir);
		check_conn(u, target, "other netns, /proc", s->l, s->c, s->a,
			   SOCK_STREAM, path, false);
		check_conn(u, target, "other netns abstract, /proc", s->al, s->ac,
			   s->aa, SOCK_STREAM, "@hs-test-ns", false);
		unixsock_free(u);
		_exit(failures != before ? 1 : 0);
	}
	if (p < 0 || waitpid(p, &st, 0) != p || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_netns(const char *dir)
{
	struct unixsock *u = unixsock_new();
	struct unixsock_info info;
	struct ns_socks s;
	char path[256];
	int pfd[2], st;
	pid_t child;

	if (!u || pipe(pfd)) {
		CHECK(0, "setup");
		unixsock_free(u);
		return;
	}
	child = fork();
	if (child == 0) {
		close(pfd[0]);
		ns_child(dir, pfd[1]);
	}
	close(pfd[1]);
	if (read(pfd[0], &s, sizeof(s)) != sizeof(s)) {
		waitpid(child, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
			fprintf(stderr, "skip: no network namespace (unshare: needs root)\n");
		else
			CHECK(0, "network namespace child failed");
		goto out;
	}
	/* From here (the host's namespace) they do not exist... */
	CHECK(unixsock_lookup(u, getpid(), s.l, &info) == -ENOENT,
	      "another namespace's socket found in ours");
	/* ...but they do in the child's: netlink through setns. */
	snprintf(path, sizeof(path), "%s/ns.sock", dir);
	check_conn(u, child, "other netns", s.l, s.c, s.a, SOCK_STREAM, path, true);
	check_conn(u, child, "other netns abstract", s.al, s.ac, s.aa,
		   SOCK_STREAM, "@hs-test-ns", true);
	st = ns_unprivileged(dir, child, &s);
	CHECK(st == 0, "lookups without CAP_SYS_ADMIN failed (%d)", st);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
out:
	close(pfd[0]);
	unixsock_free(u);
}

int main(void)
{
	char dir[] = "/tmp/hs-unixsock-XXXXXX";
	struct unixsock *u;
	char path[300];

	test_names();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	u = unixsock_new();
	if (!u) {
		perror("unixsock_new");
		return 1;
	}
	test_named(u, dir);
	test_abstract(u);
	test_pairs(u);
	test_owner(u);
	test_complete(u, dir);
	unixsock_free(u);
	if (geteuid() == 0)
		test_netns(dir);
	else
		fprintf(stderr, "skip: network namespace cases need root\n");
	snprintf(path, sizeof(path), "%s/api.sock", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ns.sock", dir);
	unlink(path);
	rmdir(dir);
	if (failures) {
		fprintf(stderr, "%d check(s) failed\n", failures);
		return 1;
	}
	printf("unixsock: all checks passed\n");
	return 0;
}
