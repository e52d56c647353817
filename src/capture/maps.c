/* maps.c -- the probe's tables as user space uses them: filters, arming, ignoring, sweeping and counters (probe.h's functions for them). */
#include "capture/maps.h"
#include "capture/probe_impl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "core/util.h"

int maps_add(struct maps *m, const char *name, int fd)
{
	if (m->n == MAPS_MAX)
		return -E2BIG;
	snprintf(m->t[m->n].name, MAPS_NAME_LEN, "%s", name);
	m->t[m->n++].fd = fd;
	return 0;
}

int maps_fd(const struct maps *m, const char *name)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->t[i].name, name))
			return m->t[i].fd;
	return -1;
}

/* Puts each of the n keys (of key_size bytes) into table `name`. */
static int fill(struct maps *m, const char *name, const void *keys,
		size_t n, size_t key_size)
{
	int fd = maps_fd(m, name);
	uint8_t one = 1;

	for (size_t i = 0; i < n; i++)
		if (fd < 0 || bpf_update_elem(fd, (char *)keys + i * key_size, &one, 0))
			return -EIO;
	return 0;
}

int maps_ready(struct maps *m, const struct probe_opts *o)
{
	uint32_t one = 1, self = getpid();

	m->conns_fd = maps_fd(m, "hs_conns");
	/* hs_armed[1]: httpsnoop itself, never traced (a probe of an older
	 * version has one entry, and HS_SELF_TGID instead). */
	if (bpf_update_elem(maps_fd(m, "hs_armed"), &one, &self, 0) && o->cache) {
		warn("failed to tell the probe httpsnoop's own pid: %s", strerror(errno));
		return -EIO;
	}
	if (fill(m, "hs_pids", o->pids, o->npids, sizeof(*o->pids)) ||
	    fill(m, "hs_cgroups", o->cgroups, o->ncgroups, sizeof(*o->cgroups)) ||
	    fill(m, "hs_ports", o->ports, o->nports, sizeof(*o->ports)))
		return -EIO;
	return 0;
}

int probe_arm(struct probe *p)
{
	struct maps *m = &p->maps;
	uint32_t zero = 0, one = 1;

	if (bpf_update_elem(maps_fd(m, "hs_armed"), &zero, &one, 0)) {
		warn("failed to arm the probe: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

int probe_stats(struct probe *p, uint64_t out[HS_STAT_MAX])
{
	int fd = maps_fd(&p->maps, "hs_stats");
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	uint64_t *vals = calloc(ncpu > 0 ? ncpu : 1, sizeof(uint64_t));

	memset(out, 0, sizeof(uint64_t) * HS_STAT_MAX);
	if (!vals)
		return -ENOMEM;
	for (uint32_t k = 0; k < HS_STAT_MAX; k++) {
		if (bpf_lookup_elem(fd, &k, vals))
			continue;
		for (long c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	out[HS_STAT_LOST] += buffer_lost(p->buf);
	free(vals);
	return 0;
}

void probe_add_cgroups(struct probe *p, const uint64_t *ids, size_t n)
{
	int fd = maps_fd(&p->maps, "hs_cgroups");
	uint8_t one = 1;

	for (size_t i = 0; fd >= 0 && i < n; i++)
		bpf_update_elem(fd, (void *)&ids[i], &one, 0);
}

void probe_ignore_existing(struct probe *p, uint32_t tgid, int32_t fd)
{
	struct hs_conn_key key = { .tgid = tgid, .fd = fd };
	struct hs_conn c = { .proto = HS_P_IGNORE };

	/* Before arming: the probe has made no entry yet. */
	bpf_update_elem(p->maps.conns_fd, &key, &c, BPF_NOEXIST);
}

void probe_ignore(struct probe *p, uint32_t tgid, int32_t fd, uint64_t conn_id)
{
	int cfd = p->maps.conns_fd;
	/* The connection is the socket's entry or, for TLS, its plaintext
	 * entry; the id tells which.  (One keyed by its SSL object cannot
	 * be found from the fd: its records keep coming, to be dropped
	 * here.) */
	struct hs_conn_key keys[2] = { { .tgid = tgid, .fd = fd },
				       { .tgid = tgid, .fd = fd | HS_TLS_FD } };
	struct hs_conn c;

	for (int i = 0; i < 2 && fd >= 0; i++) {
		if (bpf_lookup_elem(cfd, &keys[i], &c) || c.id != conn_id)
			continue;
		c.proto = HS_P_IGNORE;
		bpf_update_elem(cfd, &keys[i], &c, BPF_EXIST);
		return;
	}
}

static bool listed(const uint32_t *tgids, size_t n, uint32_t tgid)
{
	for (size_t i = 0; i < n; i++)
		if (tgids[i] == tgid)
			return true;
	return false;
}

size_t probe_sweep(struct probe *p, const uint32_t *tgids, size_t n)
{
	int cfd = p->maps.conns_fd;
	struct hs_conn_key key, next, *prev = NULL;
	uint32_t alive = 0, dead = 0;
	size_t dropped = 0;
	bool more;

	/* Deleting the current key would restart the walk, so each entry
	 * is dropped one step later. */
	do {
		more = bpf_get_next_key(cfd, prev, &next) == 0;
		if (prev) {
			uint32_t t = prev->tgid;
			bool gone = listed(tgids, n, t) || t == dead;

			if (!gone && t != alive) {
				gone = kill(t, 0) && errno == ESRCH;
				if (gone)
					dead = t;
				else
					alive = t;
			}
			if (gone && bpf_delete_elem(cfd, prev) == 0)
				dropped++;
		}
		key = next;
		prev = &key;
	} while (more);
	return dropped;
}

size_t probe_conn_count(struct probe *p)
{
	struct hs_conn_key key, next, *prev = NULL;
	size_t n = 0;

	while (bpf_get_next_key(p->maps.conns_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

void maps_close(struct maps *m)
{
	for (int i = 0; i < m->n; i++)
		close(m->t[i].fd);
	m->n = 0;
}
