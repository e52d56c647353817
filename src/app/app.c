/* app.c -- what live tracing and replay share: each record's bookkeeping, each transaction's way to the sinks, -P, the statistics, and the replay itself. */
#include "app/app.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "capture/container.h"
#include "capture/record.h"
#include "capture/unixsock.h"
#include "core/redact.h"
#include "core/util.h"
#include "sink/sink.h"
#include "stream/stream.h"

volatile sig_atomic_t app_exiting, app_want_stats;

/* The process at the other end of a Unix connection, when the other
 * end's record came after this end's was completed (both ends traced:
 * the server reads the request after the client sent it, and may even
 * accept it after, when the kernel did not name the peer yet).  Only
 * what the records noted is asked, so that a replay answers the same. */
static void unix_late_peer(struct app *a, struct conn_info *c)
{
	char comm[UNIXSOCK_COMM_LEN];
	uint32_t pid;

	if (unixsock_noted(a->unix_socks, c->unx->peer_ino, c->pid, &pid, comm) &&
	    unixsock_noted_peer(a->unix_socks, c->unx->ino, c->pid, &pid, comm))
		return;
	c->peer_pid = pid;
	snprintf(c->peer_comm, sizeof(c->peer_comm), "%s", comm);
}

void app_on_txn(void *ctx, struct txn *t)
{
	struct app *a = ctx;

	if (t->conn.unx && !t->conn.peer_pid && a->unix_socks)
		unix_late_peer(a, &t->conn);
	redact_txn(&a->o->redact, t);
	sinks_txn(a->sinks, t);
}

void app_on_ws(void *ctx, struct ws_msg *m)
{
	struct app *a = ctx;

	sinks_ws(a->sinks, m);
}

/* A process in a short-lived container (curl in podman run) may be gone,
 * and its cgroup too, by the time its connection's first record is read:
 * its container is looked up at exec, while it runs, and cached. */
static void note_exec(struct app *a, const struct hs_event *ev)
{
	if (a->tls && a->nexeced < APP_PENDING_MAX)
		a->execed[a->nexeced++] = ev->tgid;
	if (a->containers) {
		const char *id = container_of(a->containers, ev->tgid, ev->cgroup_id);
		uint64_t cg = ev->cgroup_id;

		if (a->kernel_cgroups && a->probe &&
		    !strncmp(id, a->o->container, strlen(a->o->container)))
			probe_add_cgroups(a->probe, &cg, 1);
	}
}

/* A Unix connection's names: completed now in a live run, while its ends
 * are open (the probe woke us for it), into *buf; the socket is noted as
 * this process's for its peer's lookups, live and in a replay alike.
 * Returns the record to go on with. */
static const void *unix_record(struct app *a, const struct hs_event *ev,
			       struct hs_unix_record *buf)
{
	struct hs_unix *p = &buf->u;
	char comm[HS_COMM_LEN + 1];

	memcpy(buf, ev, sizeof(*buf));
	if (a->probe)
		unixsock_complete(a->unix_socks, ev->tgid, ev->fd, p);
	memcpy(comm, ev->comm, HS_COMM_LEN);
	comm[HS_COMM_LEN] = '\0';
	if (p->resolved) {
		unixsock_note(a->unix_socks, p->ino, ev->tgid, comm);
		unixsock_note_peer(a->unix_socks, p->peer_ino, ev->tgid, comm);
	}
	return buf;
}

void app_on_record(void *ctx, const void *rec, size_t len)
{
	struct app *a = ctx;
	const struct hs_event *ev = rec;
	bool whole = len >= sizeof(*ev);
	struct hs_unix_record unx;
	size_t open;

	if (whole && ev->type == HS_EV_UNIX && len == sizeof(unx) && a->unix_socks) {
		rec = unix_record(a, ev, &unx);
		ev = rec;
	}
	if (a->rec)
		recorder_write(a->rec, rec, len);
	if (whole) {
		if (ev->type == HS_EV_EXEC)
			note_exec(a, ev);
		if (ev->type == HS_EV_EXIT && a->containers)
			container_forget(a->containers, ev->tgid);
		if (ev->ts_ns > a->last_ts)
			a->last_ts = ev->ts_ns;
	}
	open = stream_count(a->stream);
	stream_feed(a->stream, rec, len);
	/* A process that exits closes its sockets without close(2): its
	 * kernel entries are swept, in batches (one walk of the table a
	 * second at most), when it had connections here.  Its other
	 * entries (non-HTTP) wait for the sweep every 10 s: walking 10,000
	 * entries for each short-lived process took 15% of a CPU at 300
	 * exits/s. */
	if (whole && ev->type == HS_EV_EXIT && a->probe &&
	    stream_count(a->stream) < open && a->nexited < APP_PENDING_MAX)
		a->exited[a->nexited++] = ev->tgid;
}

bool app_unix_stream(struct app *a, const struct conn_info *c)
{
	if (!c->unx || !c->unx->type || c->unx->type == SOCK_STREAM)
		return true;
	a->stats.unix_not_stream++;
	return false;
}

bool app_admit_replay(void *ctx, struct conn_info *c, unsigned flags)
{
	struct app *a = ctx;

	(void)flags;
	if (!app_unix_stream(a, c))
		return false;
	if (!app_conn_wanted(a->o, c)) {
		a->stats.filtered++;
		return false;
	}
	return true;
}

/* The CPU this process has used, user and system, in us (its threads
 * included, the compiler's child not); false when unknown. */
static bool cpu_used_us(uint64_t *us)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return false;
	*us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
	      (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	return true;
}

void app_cost_start(struct app *a)
{
	uint64_t ns = 0, runs = 0;

	memset(a->cost0, 0, sizeof(a->cost0));
	cpu_used_us(&a->cost0[STAT_C_CPU_US]);
	if (a->probe)
		probe_run_time(a->probe, &ns, &runs);
	a->cost0[STAT_C_PROBE_US] = ns;
	a->cost0[STAT_C_PROBE_RUNS] = runs;
	a->cost_started = true;
}

/* now - then, or 0 if a count went back (never, but no wrap shown). */
static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* Reads what tracing has cost since app_cost_start() into a->cost;
 * returns the bits (1 << enum stat_cost) of those known. */
static unsigned cost_read(struct app *a)
{
	uint64_t *c = a->cost, *c0 = a->cost0, us, ns, runs;
	unsigned known = 0;

	if (!a->cost_started || !a->probe)
		return 0;
	if (cpu_used_us(&us)) {
		c[STAT_C_CPU_US] = since(us, c0[STAT_C_CPU_US]);
		known |= 1u << STAT_C_CPU_US;
	}
	if (!probe_run_time(a->probe, &ns, &runs)) {
		/* counted only while the kernel kept statistics */
		c[STAT_C_PROBE_US] = since(ns, c0[STAT_C_PROBE_US]) / 1000;
		c[STAT_C_PROBE_RUNS] = since(runs, c0[STAT_C_PROBE_RUNS]);
		known |= 1u << STAT_C_PROBE_US | 1u << STAT_C_PROBE_RUNS;
	}
	return known;
}

void app_print_stats(struct app *a, const uint64_t *kernel,
		     const uint64_t *gauges, bool end)
{
	struct stats_view v = { &a->stats, kernel, gauges, a->cost, cost_read(a) };
	double n = (double)a->stats.txns + (double)a->stats.ws_messages;

	sinks_report(a->sinks, end);
	stats_print(stderr, &v);
	if (!(v.cost_known & 1u << STAT_C_CPU_US) || !n)
		return;
	/* What a transaction (or WebSocket message) cost, on average: what
	 * a user weighing the tracer's overhead wants, without dividing. */
	fprintf(stderr, "  %-*s %.2f us of httpsnoop's CPU", STATS_NAME_MAX, "per transaction",
		(double)a->cost[STAT_C_CPU_US] / n);
	if (v.cost_known & 1u << STAT_C_PROBE_US)
		fprintf(stderr, ", %.2f us in its probe", (double)a->cost[STAT_C_PROBE_US] / n);
	else
		fputs(" (its probe's time: sysctl kernel.bpf_stats_enabled=1)", stderr);
	fputc('\n', stderr);
}

void app_read_stats(void *ctx, struct stats_view *v, uint64_t *kernel,
		    uint64_t *gauges)
{
	struct app *a = ctx;

	*v = (struct stats_view){ &a->stats, NULL, NULL, NULL, 0 };
	if (!a->probe)
		return;
	if (!probe_stats(a->probe, kernel))
		v->kernel = kernel;
	gauges[STAT_G_OPEN] = stream_count(a->stream);
	gauges[STAT_G_KERNEL_TABLE] = probe_conn_count(a->probe);
	v->gauges = gauges;
	v->cost = a->cost;
	v->cost_known = cost_read(a);
}

static int on_replay_record(void *ctx, const void *rec, size_t len)
{
	struct app *a = ctx;

	app_on_record(ctx, rec, len);
	stream_tick(a->stream, a->last_ts);
	return app_exiting;
}

int app_run_replay(struct app *a)
{
	int64_t offset = 0;
	long bad_at = 0;
	int err;

	err = replay_file(a->o->replay, on_replay_record, a, &offset, &bad_at);
	if (err == -EBADMSG)
		warn("failed to replay %s: not an httpsnoop recording of this version, or damaged at byte %ld",
		     a->o->replay, bad_at);
	else if (err)
		warn("failed to replay %s: %s", a->o->replay, strerror(-err));
	stream_close_all(a->stream, a->last_ts, "recording ended");
	sinks_flush(a->sinks);
	app_print_stats(a, NULL, NULL, true);
	return err ? 1 : 0;
}
