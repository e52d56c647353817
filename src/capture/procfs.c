/* procfs.c -- what /proc says about processes: the one walk over them, and about a traced process's fd: is it a socket, and between which addresses. */
#include "capture/procfs.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool procfs_parse_id(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end || errno || v > UINT32_MAX)
		return false;
	*out = v;
	return true;
}

int procfs_each_pid(procfs_pid_fn fn, void *ctx)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	uint32_t pid;
	int r = 0;

	if (!d)
		return -errno;
	while (!r && (e = readdir(d)))
		if (procfs_parse_id(e->d_name, &pid))
			r = fn(ctx, pid);
	closedir(d);
	return r;
}

int procfs_is_socket(uint32_t pid, int32_t fd, uint64_t *inode)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (sscanf(link, "socket:[%" SCNu64 "]", inode) == 1)
		return 1;
	return 0;
}

int procfs_each_socket(uint32_t pid, procfs_sock_fn fn, void *ctx)
{
	char path[64];
	struct dirent *e;
	uint64_t inode;
	uint32_t fd;
	int r = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	if (!(d = opendir(path)))
		return 0;
	while (!r && (e = readdir(d)))
		if (procfs_parse_id(e->d_name, &fd) && fd <= INT32_MAX &&
		    procfs_is_socket(pid, (int32_t)fd, &inode) == 1)
			r = fn(ctx, pid, (int32_t)fd, inode);
	closedir(d);
	return r;
}

/* /proc/net/tcp prints addresses as the hex of the in-memory words, so
 * each 32-bit group is in host order. */
static int parse_hex_addr(const char *s, struct hs_addr *a, int family)
{
	unsigned words[4], port;

	memset(a, 0, sizeof(*a)); /* an IPv4 address leaves 12 bytes unused */
	if (family == AF_INET) {
		if (sscanf(s, "%8X:%X", &words[0], &port) != 2)
			return -EINVAL;
		memcpy(a->addr, &words[0], 4);
	} else {
		if (sscanf(s, "%8X%8X%8X%8X:%X", &words[0], &words[1], &words[2],
			   &words[3], &port) != 5)
			return -EINVAL;
		memcpy(a->addr, words, 16);
	}
	a->family = family;
	a->port = port;
	return 0;
}

/* One line of /proc/net/tcp{,6}: 0, or -EINVAL (the header, junk). */
static int parse_tcp_line(const char *line, int family, uint64_t *inode,
			  struct hs_addr *local, struct hs_addr *remote)
{
	char l[64], r[64];

	/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
	if (sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %*s %*s %" SCNu64,
		   l, r, inode) != 3 || parse_hex_addr(l, local, family) ||
	    parse_hex_addr(r, remote, family))
		return -EINVAL;
	return 0;
}

/* Each line is parsed aside: a socket that is not in the table (closed
 * under its fd, or in another table) must leave local and remote as they
 * were, not holding the last line's addresses -- another connection's. */
static int scan(const char *path, int family, uint64_t inode,
		struct hs_addr *local, struct hs_addr *remote)
{
	char line[512];
	uint64_t ino;
	struct hs_addr l, r;
	FILE *f = fopen(path, "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (parse_tcp_line(line, family, &ino, &l, &r) == 0 && ino == inode) {
			*local = l;
			*remote = r;
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

int procfs_tcp_endpoints(uint32_t pid, uint64_t inode, struct hs_addr *local,
			 struct hs_addr *remote)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/net/tcp", pid);
	if (scan(path, AF_INET, inode, local, remote) == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/net/tcp6", pid);
	return scan(path, AF_INET6, inode, local, remote);
}

struct tcp_sock {
	uint64_t inode;
	struct hs_addr local, remote;
};

struct tcp_table {
	struct tcp_sock *s;
	size_t n, cap;
	uint64_t *netns; /* namespaces already read */
	size_t nnetns, capnetns;
};

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 256;
	p = realloc(*v, c * size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = c;
	return 0;
}

static void load_tcp(struct tcp_table *t, const char *path, int family)
{
	char line[512];
	FILE *f = fopen(path, "re");
	struct tcp_sock s;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (parse_tcp_line(line, family, &s.inode, &s.local, &s.remote) ||
		    s.inode == 0 || grow((void **)&t->s, &t->cap, t->n, sizeof(s)))
			continue;
		t->s[t->n++] = s;
	}
	fclose(f);
}

static int by_inode(const void *a, const void *b)
{
	const struct tcp_sock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

/* Reads the TCP tables of the network namespace of pid, once. */
static int load_netns(void *ctx, uint32_t pid)
{
	struct tcp_table *t = ctx;
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	if (stat(path, &sb))
		return 0;
	for (size_t i = 0; i < t->nnetns; i++)
		if (t->netns[i] == sb.st_ino)
			return 0;
	if (grow((void **)&t->netns, &t->capnetns, t->nnetns, sizeof(uint64_t)))
		return 0;
	t->netns[t->nnetns++] = sb.st_ino;
	snprintf(path, sizeof(path), "/proc/%u/net/tcp", pid);
	load_tcp(t, path, AF_INET);
	snprintf(path, sizeof(path), "/proc/%u/net/tcp6", pid);
	load_tcp(t, path, AF_INET6);
	return 0;
}

/* The second walk's state: calls fn for each TCP socket fd, up to max. */
struct fd_walk {
	const struct tcp_table *t;
	procfs_tcp_fn fn;
	void *ctx;
	size_t n, max;
};

static int visit_socket(void *ctx, uint32_t pid, int32_t fd, uint64_t inode)
{
	struct fd_walk *w = ctx;
	struct tcp_sock key = { .inode = inode }, *s;

	s = bsearch(&key, w->t->s, w->t->n, sizeof(*s), by_inode);
	if (s) {
		w->fn(w->ctx, pid, fd, &s->local, &s->remote);
		w->n++;
	}
	return w->n >= w->max;
}

static int visit_fds(void *ctx, uint32_t pid)
{
	struct fd_walk *w = ctx;

	if (w->n >= w->max)
		return 1;
	return procfs_each_socket(pid, visit_socket, w);
}

size_t procfs_each_tcp_fd(procfs_tcp_fn fn, void *ctx, size_t max)
{
	struct tcp_table t = { 0 };
	struct fd_walk w = { .t = &t, .fn = fn, .ctx = ctx, .max = max };

	/* Two walks: every namespace's sockets first, then every fd. */
	procfs_each_pid(load_netns, &t);
	qsort(t.s, t.n, sizeof(*t.s), by_inode);
	if (max)
		procfs_each_pid(visit_fds, &w);
	free(t.s);
	free(t.netns);
	return w.n;
}
