/* main.c -- httpsnoop's entry point: wires the options, the sinks, the stream tracker and the probe or a recording together. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/options.h"
#include "capture/container.h"
#include "capture/probe.h"
#include "capture/record.h"
#include "capture/unixsock.h"
#include "core/util.h"
#include "prof/filter.h"
#include "sink/sink.h"
#include "stream/stream.h"

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		app_want_stats = 1;
	else
		app_exiting = 1;
}

static void signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The recording's clock offset, to show its times as they were. */
static int replay_offset(const char *path, int64_t *offset)
{
	int err = replay_header(path, offset);

	if (err == -EBADMSG)
		warn("failed to replay %s: not an httpsnoop recording of this version", path);
	else if (err)
		warn("failed to open recording %s: %s", path, strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static struct options o;
	struct app a = { .o = &o };
	struct stream_opts so = {
		.max_conns = APP_MAX_CONNS,
		.idle_ns = APP_IDLE_NS,
		.reorder_ns = APP_REORDER_NS,
		.reorder_max = APP_REORDER_MAX,
		.emit = { .txn = app_on_txn, .ws = app_on_ws, .ctx = &a },
		.admit_ctx = &a,
		.stats = &a.stats,
	};
	int64_t offset = util_clock_offset();
	int ret, err;

	ret = options_parse(argc, argv, &o);
	if (ret)
		return ret == OPTIONS_DONE ? 0 : ret;
	if (o.ebpf) {
		fputs(probe_embedded_source, stdout);
		return 0;
	}
	signals_init();
	if (o.replay && replay_offset(o.replay, &offset))
		return 1;
	o.sinks.clock_offset_ns = offset;
	o.sinks.stats = app_read_stats;
	o.sinks.stats_ctx = &a;
	a.sinks = sinks_open(&o.sinks);
	if (!a.sinks)
		return 1;
	if (filter_active(&o.filter))
		sinks_add_filter(a.sinks, filter_txn, &o.filter);
	so.max_body = o.sinks.max_body;
	so.admit = o.replay ? app_admit_replay : app_admit_live;
	so.ignore = o.replay ? NULL : app_ignore_live;
	a.stream = stream_new(&so);
	a.containers = container_cache_new();
	a.unix_socks = unixsock_new();
	if (!a.stream || !a.containers || !a.unix_socks) {
		warn("failed to allocate the stream tracker: %s", strerror(ENOMEM));
		ret = 1;
		goto out;
	}
	if (o.record) {
		a.rec = recorder_open(o.record, offset);
		if (!a.rec) {
			warn("failed to create recording %s: %s", o.record, strerror(errno));
			ret = 1;
			goto out;
		}
	}
	ret = o.replay ? app_run_replay(&a) : app_run_live(&a);
out:
	err = recorder_close(a.rec);
	if (err && !ret) {
		warn("failed to write recording %s: %s", o.record, strerror(-err));
		ret = 1;
	}
	stream_free(a.stream);
	container_cache_free(a.containers);
	unixsock_free(a.unix_socks);
	sinks_close(a.sinks);
	return ret;
}
