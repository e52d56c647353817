/* container.c -- which container a process runs in: the id in /proc/PID/cgroup, cached per process. */
#include "capture/container.h"

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "capture/procfs.h"
#include "core/util.h"

#define CACHE_SLOTS 4096 /* power of two; a collision just re-reads /proc */

struct slot {
	uint32_t pid; /* 0 = empty */
	char id[CONTAINER_ID_LEN + 1];
};

/* cgroup id -> container id, for processes gone before their first
 * lookup; cgroup ids are never reused while the cgroup exists. */
struct cgslot {
	uint64_t cgroup_id; /* 0 = empty */
	char id[CONTAINER_ID_LEN + 1];
};

struct container_cache {
	struct slot slots[CACHE_SLOTS];
	struct cgslot cgslots[CACHE_SLOTS];
};

/* A run of exactly 64 hex digits in [s, end), bounded by non-hex bytes. */
static const char *find_id(const char *s, const char *end)
{
	for (const char *p = s; p + CONTAINER_ID_LEN <= end; p++) {
		size_t n = 0;

		if (p > s && isxdigit((unsigned char)p[-1]))
			continue;
		while (p + n < end && isxdigit((unsigned char)p[n]))
			n++;
		if (n == CONTAINER_ID_LEN)
			return p;
		p += n;
	}
	return NULL;
}

/* The id in the deepest path component that holds one. */
static const char *line_id(const char *path, const char *end)
{
	const char *comp_end = end;

	while (comp_end > path) {
		const char *comp = comp_end;
		const char *id;

		while (comp > path && comp[-1] != '/')
			comp--;
		/* libpod-conmon-ID.scope holds podman's monitor, which is
		 * not in the container. */
		if (!memmem(comp, comp_end - comp, "conmon", 6) &&
		    (id = find_id(comp, comp_end)))
			return id;
		comp_end = comp > path ? comp - 1 : path;
	}
	return NULL;
}

int container_parse_cgroup(const char *text, char out[CONTAINER_ID_LEN + 1])
{
	const char *best = NULL;

	for (const char *line = text; *line;) {
		const char *eol = strchr(line, '\n');
		const char *path, *id;

		if (!eol)
			eol = line + strlen(line);
		/* hierarchy-ID:controllers:path */
		path = memchr(line, ':', eol - line);
		path = path ? memchr(path + 1, ':', eol - path - 1) : NULL;
		if (path && (id = line_id(path + 1, eol))) {
			/* The v2 line ("0::") wins over v1 controllers. */
			if (!best || !strncmp(line, "0::", 3))
				best = id;
		}
		line = *eol ? eol + 1 : eol;
	}
	if (!best)
		return 0;
	memcpy(out, best, CONTAINER_ID_LEN);
	out[CONTAINER_ID_LEN] = '\0';
	return 1;
}

static int read_cgroup(uint32_t pid, char *buf, size_t size)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

struct container_cache *container_cache_new(void)
{
	return calloc(1, sizeof(struct container_cache));
}

void container_cache_free(struct container_cache *c)
{
	free(c);
}

static const char *cgroup2_root(void);

/* Finds the directory whose inode is cgroup_id under the cgroup v2 root
 * (bounded walk) and takes the container id from its path. */
static void id_of_cgroup(uint64_t cgroup_id, char out[CONTAINER_ID_LEN + 1])
{
	const char *root = cgroup2_root();
	char stack[64][512];
	int depth = 0, visited = 0;

	out[0] = '\0';
	if (!root)
		return;
	snprintf(stack[depth++], sizeof(stack[0]), "%s", root);
	while (depth && visited < 20000) {
		char dir[512];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "%s", stack[--depth]);
		if (!(d = opendir(dir)))
			continue;
		while ((de = readdir(d))) {
			char path[1024];
			struct stat sb;

			if (de->d_type != DT_DIR || de->d_name[0] == '.')
				continue;
			visited++;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (stat(path, &sb))
				continue;
			if (sb.st_ino == cgroup_id) {
				char line[1100];

				snprintf(line, sizeof(line), "0::%s\n", path + strlen(root));
				container_parse_cgroup(line, out);
				closedir(d);
				return;
			}
			if (depth < 64 && strlen(path) < sizeof(stack[0]))
				snprintf(stack[depth++], sizeof(stack[0]), "%s", path);
		}
		closedir(d);
	}
}

static struct slot *slot_of(struct container_cache *c, uint32_t pid)
{
	return &c->slots[util_hash64(pid) & (CACHE_SLOTS - 1)];
}

const char *container_of(struct container_cache *c, uint32_t pid,
			 uint64_t cgroup_id)
{
	struct slot *s = slot_of(c, pid);
	struct cgslot *g;
	char buf[4096];

	if (s->pid == pid && pid)
		return s->id;
	s->pid = pid;
	s->id[0] = '\0';
	if (read_cgroup(pid, buf, sizeof(buf)) == 0) {
		container_parse_cgroup(buf, s->id);
		if (cgroup_id > 1) {
			/* For its neighbours that exit unseen. */
			g = &c->cgslots[util_hash64(cgroup_id) & (CACHE_SLOTS - 1)];
			g->cgroup_id = cgroup_id;
			memcpy(g->id, s->id, sizeof(g->id));
		}
		return s->id;
	}
	s->pid = 0; /* gone, or not readable: do not cache by pid */
	if (cgroup_id <= 1)
		return s->id; /* the root cgroup: the host */
	g = &c->cgslots[util_hash64(cgroup_id) & (CACHE_SLOTS - 1)];
	if (g->cgroup_id != cgroup_id) {
		g->cgroup_id = cgroup_id;
		id_of_cgroup(cgroup_id, g->id);
	}
	return g->id;
}

void container_forget(struct container_cache *c, uint32_t pid)
{
	struct slot *s = slot_of(c, pid);

	if (s->pid == pid)
		s->pid = 0;
}

/* Where the cgroup v2 hierarchy is mounted, or NULL. */
static const char *cgroup2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct stat sb;
	char path[64];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", roots[i]);
		if (stat(path, &sb) == 0 &&
		    (i == 0 || stat("/sys/fs/cgroup/cgroup.controllers", &sb) == 0))
			return roots[i];
	}
	return NULL;
}

/* container_cgroup_ids' walk over the processes. */
struct cg_walk {
	const char *root, *prefix;
	size_t plen;
	uint64_t *ids;
	size_t n, max;
};

/* Adds pid's cgroup v2 id when pid is in the container.  Returns 1 to
 * stop: the table is full, or the container's processes sit in the v2
 * root, which they share with the host (n is then 0). */
static int cg_of_pid(void *ctx, uint32_t pid)
{
	struct cg_walk *w = ctx;
	char buf[4096], id[CONTAINER_ID_LEN + 1], path[4096 + 64];
	const char *v2;
	struct stat sb;

	if (read_cgroup(pid, buf, sizeof(buf)) ||
	    !container_parse_cgroup(buf, id) || strncmp(id, w->prefix, w->plen))
		return 0;
	v2 = strstr(buf, "0::");
	if (!v2 || (v2 != buf && v2[-1] != '\n'))
		return 0;
	v2 += 3;
	if (v2[0] == '/' && (v2[1] == '\n' || v2[1] == '\0')) {
		w->n = 0;
		return 1;
	}
	snprintf(path, sizeof(path), "%s%.*s", w->root, (int)strcspn(v2, "\n"), v2);
	if (stat(path, &sb))
		return 0;
	for (size_t i = 0; i < w->n; i++)
		if (w->ids[i] == sb.st_ino)
			return 0;
	w->ids[w->n++] = sb.st_ino;
	return w->n >= w->max;
}

size_t container_cgroup_ids(const char *prefix, uint64_t *ids, size_t max)
{
	struct cg_walk w = { .root = cgroup2_root(), .prefix = prefix,
			     .plen = strlen(prefix), .ids = ids, .max = max };

	if (!w.root || !max || procfs_each_pid(cg_of_pid, &w) < 0)
		return 0;
	return w.n;
}
