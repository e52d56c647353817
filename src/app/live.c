/* live.c -- live tracing: opens and arms the probe, runs the loop with its periodic work, and asks /proc what the probe cannot see. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app.h"
#include "app/timer.h"
#include "capture/container.h"
#include "capture/procfs.h"
#include "capture/tls.h"
#include "core/util.h"
#include "sink/sink.h"
#include "stream/stream.h"

/* Periods of the loop's work. */
#define LIVE_TICK_NS 100000000ULL	  /* holes, idle connections,
					   * output flush */
#define LIVE_TLS_SCAN_NS 5000000000ULL	  /* every process's libssl */
#define LIVE_CGROUP_NS 5000000000ULL	  /* --container's new cgroups */
#define LIVE_SWEEP_EXIT_NS 1000000000ULL  /* kernel entries of exits */
#define LIVE_SWEEP_ALL_NS 10000000000ULL  /* ... of unseen deaths */

/* The TCP sockets open when tracing began, with their endpoints: the
 * probe saw neither their connect nor their accept, and a process that
 * exits soon after can no longer be asked through /proc. */
struct known_sock {
	uint32_t pid;
	int32_t fd;
	struct hs_addr local, remote;
};

static int known_cmp(const void *x, const void *y)
{
	const struct known_sock *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->fd > b->fd) - (a->fd < b->fd);
}

static const struct known_sock *known_find(const struct app *a, uint32_t pid,
					   int32_t fd)
{
	struct known_sock k = { .pid = pid, .fd = fd };

	if (!a->nknown)
		return NULL;
	return bsearch(&k, a->known, a->nknown, sizeof(k), known_cmp);
}

bool app_admit_live(void *ctx, struct conn_info *c, unsigned flags)
{
	struct app *a = ctx;
	uint64_t inode = 0;
	int sock = -1;

	if (flags & HS_F_UNVERIFIED) {
		/* Without the sock tracepoints the probe cannot tell a
		 * socket from a file; an fd that is gone cannot be proven a
		 * socket, and reporting file I/O as HTTP would be worse
		 * than missing a connection. */
		sock = procfs_is_socket(c->pid, c->fd, &inode);
		if (sock != 1) {
			a->stats.not_sockets++;
			probe_ignore(a->probe, c->pid, c->fd, c->conn_id);
			return false;
		}
	}
	if (c->local.family == 0 && c->fd >= 0) {
		const struct known_sock *k = known_find(a, c->pid, c->fd);

		/* The probe saw neither its ESTABLISHED nor its accept or
		 * connect: the socket open under this fd at the start.  Its
		 * records may arrive a poll period late, when /proc shows
		 * the fd closed, or reused by another connection. */
		if (k && c->role == HS_ROLE_UNKNOWN) {
			c->local = k->local;
			c->remote = k->remote;
		} else {
			if (sock < 0)
				sock = procfs_is_socket(c->pid, c->fd, &inode);
			if (sock == 1)
				procfs_tcp_endpoints(c->pid, inode, &c->local, &c->remote);
			if (c->local.family == 0 && k) {
				c->local = k->local;
				c->remote = k->remote;
			}
		}
	}
	snprintf(c->container_id, sizeof(c->container_id), "%s",
		 container_of(a->containers, c->pid, c->cgroup_id));
	if (!app_unix_stream(a, c)) {
		probe_ignore(a->probe, c->pid, c->fd, c->conn_id);
		return false;
	}
	/* A TLS stream not yet tied to its socket (fd -1) has no addresses
	 * to match -P against: the stream asks again once it is tied. */
	if ((c->fd >= 0 && !app_conn_wanted(a->o, c)) ||
	    (a->o->container && strncmp(c->container_id, a->o->container,
					strlen(a->o->container)))) {
		a->stats.filtered++;
		probe_ignore(a->probe, c->pid, c->fd, c->conn_id);
		return false;
	}
	return true;
}

void app_ignore_live(void *ctx, const struct conn_info *c)
{
	struct app *a = ctx;

	probe_ignore(a->probe, c->pid, c->fd, c->conn_id);
}

/* Notes one socket open at the start.  With -P, an unwanted one is also
 * ignored in the kernel: the probe knows nothing of its ports, so every
 * byte of a busy keep-alive connection would reach user space to be
 * dropped there. */
static void note_existing(void *ctx, uint32_t pid, int32_t fd,
			  const struct hs_addr *local, const struct hs_addr *remote)
{
	struct app *a = ctx;
	struct conn_info c = { .local = *local, .remote = *remote };

	if (pid == (uint32_t)getpid())
		return;
	if (a->o->nports && !app_port_wanted(a->o, &c)) {
		probe_ignore_existing(a->probe, pid, fd);
		a->stats.filtered++;
		return;
	}
	if (a->nknown == a->capknown) {
		size_t cap = a->capknown ? 2 * a->capknown : 256;
		struct known_sock *k = realloc(a->known, cap * sizeof(*k));

		if (!k)
			return; /* /proc is still asked while the process lives */
		a->known = k;
		a->capknown = cap;
	}
	a->known[a->nknown++] = (struct known_sock){ pid, fd, *local, *remote };
}

static char *read_probe_file(const char *path)
{
	struct stat sb;
	char *buf = NULL;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		warn("failed to open probe file %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode) || sb.st_size > APP_MAX_PROBE_FILE) {
		warn("failed to read probe file %s: not a regular file of at most 1 MiB", path);
		goto out;
	}
	/* The probe runs in the kernel with our privileges: a file someone
	 * else could have written is someone else's code. */
	if ((sb.st_mode & S_IWOTH) || (sb.st_uid != 0 && sb.st_uid != geteuid())) {
		warn("refusing probe file %s: it is %s; run 'chown root %s && "
		     "chmod o-w %s'", path,
		     (sb.st_mode & S_IWOTH) ? "world-writable" : "not owned by root",
		     path, path);
		goto out;
	}
	buf = malloc(sb.st_size + 1);
	if (!buf)
		goto out;
	n = fread(buf, 1, sb.st_size, f);
	buf[n] = '\0';
out:
	fclose(f);
	return buf;
}

/* --- the loop's periodic work ---------------------------------------- */

/* New processes now, and every process now and then (python loads
 * libssl only on "import ssl"). */
static bool tls_exec_scan(void *ctx, uint64_t now, uint64_t since)
{
	struct app *a = ctx;

	if (!a->tls)
		return false;
	for (size_t i = 0; i < a->nexeced; i++)
		tls_scan_exec(a->tls, a->execed[i]);
	a->nexeced = 0;
	return true;
}

static bool tls_full_scan(void *ctx, uint64_t now, uint64_t since)
{
	struct app *a = ctx;

	if (!a->tls)
		return false;
	tls_scan_all(a->tls);
	return true;
}

/* A restarted container comes back in a new cgroup: let the kernel
 * filter pass that one too. */
static bool cgroup_refresh(void *ctx, uint64_t now, uint64_t since)
{
	struct app *a = ctx;
	size_t n;

	if (!a->ncgroups)
		return false;
	n = container_cgroup_ids(a->o->container, a->cgroups, HS_MAX_CGROUPS);
	probe_add_cgroups(a->probe, a->cgroups, n);
	return true;
}

/* A sweep walks the whole kernel table (two syscalls an entry): once a
 * second at most for exits, and every 10 s for processes that died
 * unseen. */
static bool sweep(void *ctx, uint64_t now, uint64_t since)
{
	struct app *a = ctx;

	if (!a->nexited && since <= LIVE_SWEEP_ALL_NS)
		return false;
	probe_sweep(a->probe, a->exited, a->nexited);
	a->nexited = 0;
	return true;
}

static bool tick(void *ctx, uint64_t now, uint64_t since)
{
	struct app *a = ctx;
	int err;

	stream_tick(a->stream, now);
	sinks_tick(a->sinks, now);
	err = sinks_flush(a->sinks);
	if (err) {
		/* EPIPE: the reader (| head) is gone; ECANCELED: the user
		 * quit (--top's q). */
		if (err != -EPIPE && err != -ECANCELED)
			warn("failed to write output: %s", strerror(-err));
		a->stop = true;
	}
	return true;
}

/* In the order they run at each turn. */
static struct timer timers[] = {
	{ "tls-exec", 0, tls_exec_scan, false, 0 },
	{ "tls-all", LIVE_TLS_SCAN_NS, tls_full_scan, false, 0 },
	{ "cgroups", LIVE_CGROUP_NS, cgroup_refresh, false, 0 },
	{ "sweep", LIVE_SWEEP_EXIT_NS, sweep, false, 0 },
	{ "tick", LIVE_TICK_NS, tick, true, 0 },
};
#define NTIMERS (sizeof(timers) / sizeof(timers[0]))

/* --- start and end --------------------------------------------------- */

/* Opens and attaches the probe (not armed yet).  Returns 0, or -1 after
 * saying why. */
static int live_open(struct app *a)
{
	struct options *o = a->o;
	struct probe_opts po = {
		.pids = o->pids,
		.npids = o->npids,
		.ports = o->ports,
		.nports = o->nports,
		.unix_filter = o->nunix > 0,
		.comm = o->comm,
		.ringbuf_kb = APP_RINGBUF_KB,
		.hooks = o->hooks,
		.tls = !o->no_tls,
		.verbose = o->verbose,
	};
	char *text = NULL;
	int err;

	if (o->container) {
		/* In the kernel when the container's cgroups can be told
		 * apart from the host's; always in user space as well. */
		a->ncgroups = container_cgroup_ids(o->container, a->cgroups, HS_MAX_CGROUPS);
		po.cgroups = a->cgroups;
		po.ncgroups = a->ncgroups;
		a->kernel_cgroups = a->ncgroups > 0;
		if (o->verbose)
			fprintf(stderr, "httpsnoop: --container %s: filtering %s\n", o->container,
				a->ncgroups ? "in the kernel by cgroup" : "in user space");
	}
	if (o->probe_file) {
		char *full;

		text = read_probe_file(o->probe_file);
		if (!text)
			return -1;
		/* A copy of probes/httpsnoop.bpf.c includes event.h. */
		if ((full = probe_source_with_header(text))) {
			free(text);
			text = full;
		}
		po.source = text;
		po.source_name = o->probe_file;
		po.debug_info = true;
	} else {
		po.source = probe_embedded_source;
		po.source_name = "the built-in probe (see --ebpf)";
		po.user_only = true;
		po.cache = !o->no_probe_cache;
	}
	err = probe_open(&a->probe, &po, app_on_record, a);
	free(text);
	if (err)
		return -1;
	if (!o->no_tls && !probe_has_tls(a->probe)) {
		warn("%s has no SSL uprobes (uprobe__SSL_read and the like): "
		     "HTTPS is not traced", po.source_name);
	} else if (!o->no_tls) {
		a->tls = tls_new(a->probe, o->tls_libs, o->ntls_libs, o->pids, o->npids,
				 o->verbose);
		if (!a->tls) {
			probe_close(a->probe);
			a->probe = NULL;
			return -1;
		}
		tls_scan_all(a->tls);
	}
	return 0;
}

/* The reader yields to the programs it traces.  Under SCHED_BATCH a
 * thread that wakes does not preempt the one running on its CPU (the
 * traced server, say): it runs when that one's slice ends, or at once on
 * an idle CPU, and its share of the CPU is what it was.  The ring
 * buffers hold what comes meanwhile.  nginx traced whole at saturation
 * on 2 CPUs: x1.056 [0.979-1.111] of the throughput, none lost (issue
 * 14).  A policy the user chose (chrt) is kept, and
 * HTTPSNOOP_SCHED=normal keeps the default one (=batch is the same as
 * not setting it). */
static void live_sched(const struct options *o)
{
	const struct sched_param sp = { .sched_priority = 0 };
	const char *env = getenv("HTTPSNOOP_SCHED");
	int policy = sched_getscheduler(0);

	if (env && !strcmp(env, "normal")) {
		if (o->verbose)
			fprintf(stderr, "httpsnoop: reading at the default scheduling policy "
					"(HTTPSNOOP_SCHED=normal)\n");
		return;
	}
	if (env && *env && strcmp(env, "batch"))
		warn("HTTPSNOOP_SCHED=%s: expected 'normal' or 'batch'; reading as SCHED_BATCH",
		     env);
	if (policy != SCHED_OTHER) {
		if (o->verbose)
			fprintf(stderr, "httpsnoop: reading at the scheduling policy it was "
					"started with (%s)\n",
				policy == SCHED_FIFO ? "SCHED_FIFO" :
				policy == SCHED_RR ? "SCHED_RR" :
				policy == SCHED_BATCH ? "SCHED_BATCH" :
				policy == SCHED_IDLE ? "SCHED_IDLE" : "another");
		return;
	}
	if (sched_setscheduler(0, SCHED_BATCH, &sp)) {
		if (o->verbose)
			fprintf(stderr, "httpsnoop: reading at the default scheduling policy: "
					"SCHED_BATCH refused: %s\n", strerror(errno));
		return;
	}
	if (o->verbose)
		fprintf(stderr, "httpsnoop: reading as SCHED_BATCH: a wake-up does not "
				"preempt the traced programs\n");
}

/* Gives up privileges and arms the probe.  Returns 0 or -1. */
static int live_arm(struct app *a)
{
	struct options *o = a->o;
	int err;

	/* Everything that needed privileges is open: the maps, the
	 * buffers, the attachments and the output files -- except TLS
	 * libraries found later, which need CAP_SYS_ADMIN (uprobes) and
	 * CAP_SYS_PTRACE (/proc/PID/root): with TLS on, those two stay. */
	err = util_drop_privileges(!o->no_tls);
	if (err)
		warn("failed to drop capabilities: %s (tracing goes on)", strerror(-err));
	if (o->verbose)
		fprintf(stderr, "httpsnoop: using %s\n", probe_features(a->probe));
	live_sched(o);
	/* Last before arming, so that what /proc said is still true. */
	procfs_each_tcp_fd(note_existing, a, HS_MAX_CONNS / 4);
	if (a->nknown)
		qsort(a->known, a->nknown, sizeof(*a->known), known_cmp);
	if (probe_arm(a->probe)) {
		tls_free(a->tls);
		probe_close(a->probe);
		a->tls = NULL;
		a->probe = NULL;
		return -1;
	}
	app_cost_start(a);
	return 0;
}

/* The statistics of a live run: on SIGUSR1, and at the end, after the
 * connections still open were ended (counted before that). */
static void live_stats(struct app *a, bool end)
{
	uint64_t k[HS_STAT_MAX] = { 0 };
	uint64_t g[STAT_G_MAX];

	g[STAT_G_OPEN] = stream_count(a->stream);
	g[STAT_G_KERNEL_TABLE] = probe_conn_count(a->probe);
	if (end)
		stream_close_all(a->stream, util_now_ns(), "tracing stopped before a response");
	sinks_flush(a->sinks);
	probe_stats(a->probe, k);
	app_print_stats(a, k, g, end);
}

int app_run_live(struct app *a)
{
	uint64_t end = 0, now;
	int err = 0;

	if (live_open(a) || live_arm(a))
		return 1;
	if (a->o->duration)
		end = util_now_ns() + a->o->duration * 1000000000ULL;
	fprintf(stderr, "Tracing HTTP... Hit Ctrl-C to end.\n");
	timers_start(timers, NTIMERS, util_now_ns());
	while (!app_exiting) {
		err = probe_poll(a->probe, APP_POLL_MS);
		if (err < 0) {
			warn("failed to read probe records: %s", strerror(-err));
			break;
		}
		now = util_now_ns();
		timers_run(timers, NTIMERS, a, now);
		if (a->stop) {
			err = 0;
			break;
		}
		if (app_want_stats) {
			app_want_stats = 0;
			live_stats(a, false);
		}
		if (end && now >= end)
			break;
	}
	/* What the kernel already wrote still counts. */
	probe_flush(a->probe);
	live_stats(a, true);
	tls_free(a->tls);
	a->tls = NULL;
	probe_close(a->probe);
	a->probe = NULL;
	free(a->known);
	a->known = NULL;
	a->nknown = a->capknown = 0;
	return err < 0 ? 1 : 0;
}
