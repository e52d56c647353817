/* tls.c -- finds the OpenSSL libraries traced processes use and has the probe attach to each one once (and, through gotls.c, the Go programs).
 *
 * A uprobe is set on a file (its inode), not on a process: attaching once
 * to /usr/lib/.../libssl.so.3 covers every process that maps it, now and
 * later.  So the work is finding each distinct libssl file -- the host's,
 * and each container image's -- which /proc/PID/maps and
 * /proc/PID/root tell.
 */
#include "capture/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/procfs.h"
#include "capture/gotls.h"
#include "capture/uprobe.h"
#include "core/util.h"

#define TLS_MAX_LIBS 128 /* distinct library files; past it, none more */

struct tls_lib {
	dev_t dev;
	ino_t ino;
};

struct tls {
	struct probe *p;
	bool verbose;
	struct tls_lib libs[TLS_MAX_LIBS];
	size_t nlibs;
	bool full_warned;
	struct gotls *go; /* Go programs, which carry their own TLS */
	const uint32_t *pids; /* -p's processes, or none: every process */
	size_t npids;
};

/* Attaches to path unless its file was seen; `named` says the user asked
 * for it, so failures are errors rather than notes. */
static void attach(struct tls *t, const char *path, bool named)
{
	struct stat sb;
	int n;

	if (stat(path, &sb)) {
		if (named)
			warn("failed to open TLS library %s: %s", path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < t->nlibs; i++)
		if (t->libs[i].dev == sb.st_dev && t->libs[i].ino == sb.st_ino)
			return;
	if (t->nlibs == TLS_MAX_LIBS) {
		if (!t->full_warned)
			warn("more than %d TLS libraries: %s and later ones are not traced",
			     TLS_MAX_LIBS, path);
		t->full_warned = true;
		return;
	}
	t->libs[t->nlibs].dev = sb.st_dev;
	t->libs[t->nlibs].ino = sb.st_ino;
	t->nlibs++;
	n = probe_attach_tls(t->p, path);
	if (n < 0 && !named && access(path, F_OK)) {
		/* The process (and its mount namespace) went away while we
		 * looked: forget the file, so that another of its users can
		 * bring it back. */
		t->nlibs--;
		return;
	}
	if (n == 0)
		warn("%s has no SSL_read/SSL_write symbols (stripped, or not OpenSSL): "
		     "TLS through it is not traced", path);
	else if (n < 0)
		warn("failed to attach uprobes to %s: %s", path, strerror(-n));
	else if (t->verbose)
		fprintf(stderr, "httpsnoop: TLS: attached to %s (%d uprobes; %s)\n", path, n,
			uprobe_tls_how(t->p));
}

static bool is_libssl(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libssl.so", 9);
}

/* Where Debian, Ubuntu, Fedora and Alpine keep it: a process that starts
 * later is covered even before any process maps it -- on the host (without
 * -p; with it, in -p's processes' roots), and in a container from the
 * exec of its first process on. */
static const char *const std_paths[] = {
	"/usr/lib/x86_64-linux-gnu/libssl.so.3",
	"/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
	"/usr/lib/aarch64-linux-gnu/libssl.so.3",
	"/usr/lib/aarch64-linux-gnu/libssl.so.1.1",
	"/usr/lib64/libssl.so.3",
	"/usr/lib64/libssl.so.1.1",
	"/lib/libssl.so.3",
	"/usr/lib/libssl.so.3",
};

static void scan_maps(struct tls *t, uint32_t pid)
{
	char path[64], line[4096], full[4200];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/');

		if (!file)
			continue;
		file[strcspn(file, "\n")] = '\0';
		if (!is_libssl(file) || strstr(file, " (deleted)"))
			continue;
		snprintf(full, sizeof(full), "/proc/%u/root%s", pid, file);
		attach(t, full, false);
	}
	fclose(f);
}

void tls_scan_exec(struct tls *t, uint32_t pid)
{
	char full[128];

	scan_maps(t, pid);
	/* Just exec'd, a process has not mapped its libraries yet: the
	 * usual places in its root (a container's image) are attached
	 * now, so that its first SSL_write is seen. */
	for (size_t i = 0; i < sizeof(std_paths) / sizeof(std_paths[0]); i++) {
		snprintf(full, sizeof(full), "/proc/%u/root%s", pid, std_paths[i]);
		if (access(full, R_OK) == 0)
			attach(t, full, false);
	}
	gotls_scan_exec(t->go, pid);
}

static int scan_pid(void *ctx, uint32_t pid)
{
	scan_maps(ctx, pid);
	return 0;
}

void tls_scan_all(struct tls *t)
{
	/* With -p, another process's TLS calls are never traced: its
	 * libraries need not be looked for (the look costs a read of each
	 * process's maps every 5 s), and the usual places are those in
	 * -p's processes' roots. */
	if (t->npids) {
		for (size_t i = 0; i < t->npids; i++)
			tls_scan_exec(t, t->pids[i]);
		return;
	}
	procfs_each_pid(scan_pid, t);
	gotls_scan_all(t->go);
}

struct tls *tls_new(struct probe *p, const char *const *libs, size_t nlibs,
		    const uint32_t *pids, size_t npids, bool verbose)
{
	struct tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->p = p;
	t->verbose = verbose;
	t->pids = pids;
	t->npids = npids;
	if (probe_has_go(p) && !(t->go = gotls_new(p, verbose))) {
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < nlibs; i++)
		attach(t, libs[i], true);
	/* With -p, those in its processes' roots instead (tls_scan_all):
	 * a process that maps the host's libssl traps at each call, traced
	 * or not. */
	for (size_t i = 0; !npids && i < sizeof(std_paths) / sizeof(std_paths[0]); i++)
		if (access(std_paths[i], R_OK) == 0)
			attach(t, std_paths[i], false);
	return t;
}

void tls_free(struct tls *t)
{
	if (t)
		gotls_free(t->go);
	free(t);
}
