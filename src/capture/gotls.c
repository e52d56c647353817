/* gotls.c -- finds the Go programs with crypto/tls that run here and has the probe attach to each binary once.
 *
 * A Go program carries its crypto/tls inside its own executable, so the
 * file to probe is the executable itself: /proc/PID/exe, which also
 * reaches a process in a container.  As with OpenSSL's libraries, a
 * uprobe is set on a file (its inode), not on a process: each distinct
 * binary is read once (gobin_analyse), whatever it turned out to be, and
 * attached to once if it is a Go program with crypto/tls -- every
 * process running it, now or later, is then covered.  Files are told
 * apart by device, inode, size and modification time, so that a binary
 * replaced in place (a new inode, or the same one rewritten) is read
 * again.
 */
#include "capture/gotls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/gobin.h"
#include "capture/procfs.h"
#include "core/util.h"

#define GOTLS_MIN_FILES 1024	   /* first size of the table of files read */
#define GOTLS_MAX_FILES (1u << 20) /* distinct binaries remembered; past it,
				    * new ones are not read (and that is said) */

/* A binary read, and what it is. */
struct gotls_file {
	uint64_t dev, ino;
	int64_t size, mtime_ns;
	uint8_t used; /* the slot holds a file */
};

struct gotls {
	struct probe *p;
	bool verbose;
	struct gotls_file *tab; /* open addressing, linear probing */
	size_t cap, n;
	bool full_warned;
};

static struct gotls_file key_of(const struct stat *sb)
{
	return (struct gotls_file){
		.dev = sb->st_dev,
		.ino = sb->st_ino,
		.size = sb->st_size,
		.mtime_ns = (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec,
		.used = 1,
	};
}

static size_t file_hash(const struct gotls_file *f)
{
	return util_hash64(f->ino ^ util_hash64(f->dev ^ util_hash64((uint64_t)f->mtime_ns ^
								     (uint64_t)f->size)));
}

/* The slot of the file, or the empty one where it would go. */
static struct gotls_file *slot(const struct gotls *t, const struct gotls_file *k)
{
	size_t i = file_hash(k) & (t->cap - 1);

	while (t->tab[i].used && (t->tab[i].dev != k->dev || t->tab[i].ino != k->ino ||
				  t->tab[i].size != k->size || t->tab[i].mtime_ns != k->mtime_ns))
		i = (i + 1) & (t->cap - 1);
	return &t->tab[i];
}

static bool seen(const struct gotls *t, const struct stat *sb)
{
	struct gotls_file k = key_of(sb);

	return slot(t, &k)->used;
}

/* Doubles the table.  0, or -ENOMEM. */
static int grow(struct gotls *t)
{
	struct gotls_file *old = t->tab;
	size_t ocap = t->cap;

	t->tab = calloc(ocap * 2, sizeof(*t->tab));
	if (!t->tab) {
		t->tab = old;
		return -ENOMEM;
	}
	t->cap = ocap * 2;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].used)
			*slot(t, &old[i]) = old[i];
	free(old);
	return 0;
}

/* Remembers the file as read.  false when there is no room. */
static bool remember(struct gotls *t, const struct stat *sb)
{
	struct gotls_file k = key_of(sb);

	if (t->n + 1 > t->cap / 2 && (t->cap >= GOTLS_MAX_FILES || grow(t))) {
		if (!t->full_warned)
			warn("more than %zu distinct executables seen: later ones are not "
			     "checked for Go's crypto/tls", t->n);
		t->full_warned = true;
		return false;
	}
	*slot(t, &k) = k;
	t->n++;
	return true;
}

/* The program's path for messages: as its process sees it, or, once the
 * process is gone (a short-lived one), as the file open at fd is seen
 * from here. */
static void exe_name(uint32_t pid, int fd, char *buf, size_t n)
{
	char link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	len = readlink(link, buf, n - 1);
	if (len < 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, buf, n - 1);
	}
	if (len < 0)
		snprintf(buf, n, "/proc/%u/exe", pid);
	else
		buf[len] = '\0';
}

/* Reads process pid's binary unless it was read before, and attaches to
 * it if it is a Go program with crypto/tls. */
static void consider(struct gotls *t, uint32_t pid)
{
	char path[64], exe[64], name[512];
	uint64_t t0, t1;
	struct gobin *g;
	struct stat sb;
	int fd, r;

	if (pid == (uint32_t)getpid())
		return;
	snprintf(exe, sizeof(exe), "/proc/%u/exe", pid);
	/* A cheap look first: nearly every process runs a known file. */
	if (stat(exe, &sb) || !S_ISREG(sb.st_mode) || seen(t, &sb))
		return;
	/* Then the file itself, held open: the process may exec another
	 * program, or exit, while it is read and attached to. */
	fd = open(exe, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	g = malloc(sizeof(*g));
	if (!g || fstat(fd, &sb) || !S_ISREG(sb.st_mode) || seen(t, &sb))
		goto out;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	t0 = util_now_ns();
	r = gobin_analyse(path, 0, g);
	if (r < 0)
		goto out; /* unreadable now: another process may bring it back */
	if (!remember(t, &sb))
		goto out;
	if (r == GOBIN_NOT_GO || r == GOBIN_NO_TLS)
		goto out;
	exe_name(pid, fd, name, sizeof(name));
	if (r == GOBIN_REFUSED) {
		warn("%s (pid %u, %s) uses Go's crypto/tls, but its HTTPS is not "
		     "traced: %s", name, pid, g->version[0] ? g->version : "Go version unknown",
		     g->why);
		goto out;
	}
	t1 = util_now_ns();
	r = probe_attach_go(t->p, path, g);
	if (r < 0) {
		warn("failed to attach uprobes to %s (pid %u, %s): %s", name, pid,
		     g->version, strerror(-r));
		goto out;
	}
	if (t->verbose) {
		uint32_t nret = 0, stepped = 0;

		for (int k = 0; k < GOBIN_NFN; k++) {
			nret += g->fn[k].nret;
			stepped += g->fn[k].nstepped;
		}
		fprintf(stderr, "httpsnoop: Go TLS: attached to %s (pid %u, %s, %s%s): "
			"%d uprobes; read in %.1f ms, attached in %.1f ms\n", name, pid,
			g->version, g->pie ? "PIE, " : "", g->from_pclntab ? "stripped" : "symbols",
			r, (t1 - t0) / 1e6, (util_now_ns() - t1) / 1e6);
		/* As for OpenSSL (sslbin.c): say where the probes cost more. */
		fprintf(stderr, "httpsnoop: Go TLS: %s: entries at the stack check's JBE; "
			"%u of %u returns at branches and calls the kernel emulates%s\n",
			name, nret - stepped, nret, stepped ? ", the rest at the RET itself, "
			"which it single-steps (no cheaper place was certain)" : "");
	}
out:
	free(g);
	close(fd);
}

void gotls_scan_exec(struct gotls *t, uint32_t pid)
{
	if (t)
		consider(t, pid);
}

static int scan_pid(void *ctx, uint32_t pid)
{
	consider(ctx, pid);
	return 0;
}

void gotls_scan_all(struct gotls *t)
{
	if (t)
		procfs_each_pid(scan_pid, t);
}

struct gotls *gotls_new(struct probe *p, bool verbose)
{
	struct gotls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->tab = calloc(GOTLS_MIN_FILES, sizeof(*t->tab));
	if (!t->tab) {
		free(t);
		return NULL;
	}
	t->cap = GOTLS_MIN_FILES;
	t->p = p;
	t->verbose = verbose;
	return t;
}

void gotls_free(struct gotls *t)
{
	if (!t)
		return;
	free(t->tab);
	free(t);
}
