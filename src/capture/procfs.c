/* procfs.c -- what /proc says about a traced process's fd: is it a socket, and between which addresses. */
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

/* /proc/net/tcp prints addresses as the hex of the in-memory words, so
 * each 32-bit group is in host order. */
static int parse_hex_addr(const char *s, struct hs_addr *a, int family)
{
	unsigned words[4], port;

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

static int scan(const char *path, int family, uint64_t inode,
		struct hs_addr *local, struct hs_addr *remote)
{
	char line[512];
	uint64_t ino;
	FILE *f = fopen(path, "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (parse_tcp_line(line, family, &ino, local, remote) == 0 &&
		    ino == inode) {
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

static bool numeric(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end || v > UINT32_MAX)
		return false;
	*out = v;
	return true;
}

/* Reads the TCP tables of the network namespace of pid, once. */
static void load_netns(struct tcp_table *t, uint32_t pid)
{
	char path[64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	if (stat(path, &sb))
		return;
	for (size_t i = 0; i < t->nnetns; i++)
		if (t->netns[i] == sb.st_ino)
			return;
	if (grow((void **)&t->netns, &t->capnetns, t->nnetns, sizeof(uint64_t)))
		return;
	t->netns[t->nnetns++] = sb.st_ino;
	snprintf(path, sizeof(path), "/proc/%u/net/tcp", pid);
	load_tcp(t, path, AF_INET);
	snprintf(path, sizeof(path), "/proc/%u/net/tcp6", pid);
	load_tcp(t, path, AF_INET6);
}

static size_t visit_fds(const struct tcp_table *t, uint32_t pid,
			procfs_tcp_fn fn, void *ctx, size_t max)
{
	char path[64];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	if (!(d = opendir(path)))
		return 0;
	while (n < max && (e = readdir(d))) {
		struct tcp_sock key, *s;
		uint32_t fd;

		if (!numeric(e->d_name, &fd) || fd > INT32_MAX ||
		    procfs_is_socket(pid, fd, &key.inode) != 1)
			continue;
		s = bsearch(&key, t->s, t->n, sizeof(*s), by_inode);
		if (s) {
			fn(ctx, pid, fd, &s->local, &s->remote);
			n++;
		}
	}
	closedir(d);
	return n;
}

size_t procfs_each_tcp_fd(procfs_tcp_fn fn, void *ctx, size_t max)
{
	struct tcp_table t = { 0 };
	struct dirent *e;
	size_t n = 0;
	uint32_t pid;
	DIR *d;

	/* Two walks: every namespace's sockets first, then every fd. */
	if (!(d = opendir("/proc")))
		return 0;
	while ((e = readdir(d)))
		if (numeric(e->d_name, &pid))
			load_netns(&t, pid);
	qsort(t.s, t.n, sizeof(*t.s), by_inode);
	rewinddir(d);
	while (n < max && (e = readdir(d)))
		if (numeric(e->d_name, &pid))
			n += visit_fds(&t, pid, fn, ctx, max - n);
	closedir(d);
	free(t.s);
	free(t.netns);
	return n;
}
