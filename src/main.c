/* main.c -- httpsnoop's command line: wires the probe, the stream tracker, the HTTP layer and the output together. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture/container.h"
#include "sink/output.h"
#include "capture/probe.h"
#include "capture/procfs.h"
#include "capture/record.h"
#include "core/redact.h"
#include "core/stats.h"
#include "stream/stream.h"
#include "capture/tls.h"
#include "core/util.h"

#ifndef HTTPSNOOP_VERSION
#define HTTPSNOOP_VERSION "dev"
#endif

#define MAX_PIDS HS_MAX_PIDS
#define MAX_PORTS 64
#define MAX_TLS_LIBS 16
#define MAX_PROBE_FILE (1 << 20)

struct options {
	uint32_t pids[MAX_PIDS];
	size_t npids;
	uint16_t ports[MAX_PORTS];
	size_t nports;
	const char *comm;
	const char *container; /* id prefix */
	const char *output;
	enum output_format format;
	long max_body;
	long duration;
	const char *probe_file;
	const char *record;
	const char *replay;
	const char *tls_libs[MAX_TLS_LIBS];
	size_t ntls_libs;
	bool no_tls;
	bool ebpf;
	bool verbose;
	struct redact redact;
};

struct app {
	struct options *o;
	struct stats stats;
	struct stream *stream;
	struct output *out;
	struct probe *probe;
	struct recorder *rec;
	struct container_cache *containers;
	uint64_t last_ts; /* newest record time, the replay's clock */
	uint32_t exited[256]; /* processes whose kernel entries await a sweep */
	size_t nexited;
	struct tls *tls;
	bool kernel_cgroups; /* --container is filtered in the kernel */
	uint32_t execed[256]; /* processes to look at for TLS libraries */
	size_t nexeced;
};

static volatile sig_atomic_t exiting, want_stats;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_stats = 1;
	else
		exiting = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: httpsnoop [-p PID]... [-c COMM] [-P PORT]... [--container ID]\n"
"                 [-o FILE] [-f text|json]\n"
"                 [-b BYTES] [-d SECONDS] [--probe FILE] [--ebpf] [-v] [-h] [-V]\n"
"                 [--record FILE | --replay FILE] [--no-tls] [--tls-lib PATH]...\n"
"                 [--no-redact]\n"
"                 [--redact-header NAME]... [--redact-query NAME]...\n"
"\n"
"Trace HTTP/1.x transactions of any process on this host, as they cross its\n"
"sockets: method, URL, status, headers, body preview and latency.  Needs root\n"
"(eBPF), except with --replay.\n"
"\n"
"Options:\n"
"  -p, --pid PID        trace only this process (repeatable, up to %d)\n"
"  -c, --comm COMM      trace only tasks whose command name is COMM\n"
"  -P, --port PORT      trace only connections with this local or remote port\n"
"                       (repeatable, up to %d)\n"
"      --container ID   trace only processes in this container (id or prefix,\n"
"                       as docker/podman ps show it)\n"
"  -o, --output FILE    write transactions to FILE (default: stdout)\n"
"  -f, --format FMT     text (default) or json (JSON Lines, one per transaction)\n"
"  -b, --max-body N     body preview bytes, 0-1048576 (default 1024)\n"
"  -d, --duration SECS  stop after SECS seconds (default: until Ctrl-C)\n"
"      --probe FILE     compile FILE instead of the built-in probe (start from\n"
"                       'httpsnoop --ebpf > FILE'); no rebuild needed\n"
"      --ebpf           print the built-in probe source and exit\n"
"      --record FILE    also save the raw probe records to FILE\n"
"      --replay FILE    decode a --record file instead of tracing (no root)\n"
"      --no-tls         do not read TLS plaintext (by default, uprobes on\n"
"                       OpenSSL's SSL_read/SSL_write show HTTPS like HTTP)\n"
"      --tls-lib PATH   also attach to this OpenSSL build (repeatable), e.g.\n"
"                       a statically linked binary\n"
"      --no-redact      show credentials: by default the values of\n"
"                       Authorization, Proxy-Authorization, Cookie, Set-Cookie\n"
"                       and X-Api-Key are replaced by '[redacted N bytes]'\n"
"      --redact-header NAME  redact this header too (repeatable)\n"
"      --redact-query NAME   redact this query parameter's value (repeatable)\n"
"  -v, --verbose        say which kernel features are in use\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Examples:\n"
"  httpsnoop                        # every HTTP transaction on this host\n"
"  httpsnoop -p 1234                # only process 1234\n"
"  httpsnoop -c nginx -P 8080       # nginx, on port 8080\n"
"  httpsnoop --container 3f2a9c     # one container's processes\n"
"  httpsnoop -f json -o trace.jsonl # JSON Lines to a file\n"
"  httpsnoop -d 10 --record t.rec   # 10 seconds, keeping the raw records\n"
"  httpsnoop --replay t.rec -f json # decode them again, without root\n"
"  httpsnoop --ebpf > my.c && vi my.c && httpsnoop --probe my.c\n"
"\n"
"Statistics (events, transactions, lost events, gap bytes, open connections,\n"
"...) go to stderr when tracing ends, and at once on SIGUSR1\n"
"(kill -USR1 PID) while it runs.\n",
		MAX_PIDS, MAX_PORTS);
}

static int bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "httpsnoop: invalid %s '%s': %s\n\n", opt, val, why);
	usage(stderr);
	return 2;
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CONTAINER = 255, OPT_PROBE = 256, OPT_EBPF, OPT_RECORD, OPT_REPLAY, OPT_NO_REDACT,
	       OPT_REDACT_HEADER, OPT_REDACT_QUERY, OPT_NO_TLS, OPT_TLS_LIB };
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "comm", required_argument, NULL, 'c' },
		{ "port", required_argument, NULL, 'P' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "duration", required_argument, NULL, 'd' },
		{ "container", required_argument, NULL, OPT_CONTAINER },
		{ "probe", required_argument, NULL, OPT_PROBE },
		{ "ebpf", no_argument, NULL, OPT_EBPF },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "no-redact", no_argument, NULL, OPT_NO_REDACT },
		{ "no-tls", no_argument, NULL, OPT_NO_TLS },
		{ "tls-lib", required_argument, NULL, OPT_TLS_LIB },
		{ "redact-header", required_argument, NULL, OPT_REDACT_HEADER },
		{ "redact-query", required_argument, NULL, OPT_REDACT_QUERY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	long v;
	int c;

	o->max_body = 1024;
	o->format = OUTPUT_TEXT;
	redact_init(&o->redact);
	while ((c = getopt_long(argc, argv, "p:c:P:o:f:b:d:vhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (util_parse_long(optarg, 1, 0x7fffffff, &v))
				return bad_value("pid", optarg, "expected a process id");
			if (o->npids == MAX_PIDS)
				return bad_value("pid", optarg, "too many -p");
			o->pids[o->npids++] = v;
			break;
		case 'c':
			if (!*optarg || strlen(optarg) > HS_COMM_LEN - 1)
				return bad_value("comm", optarg, "expected 1 to 15 characters (the kernel's comm)");
			o->comm = optarg;
			break;
		case 'P':
			if (util_parse_long(optarg, 1, 65535, &v))
				return bad_value("port", optarg, "expected 1-65535");
			if (o->nports == MAX_PORTS)
				return bad_value("port", optarg, "too many -P");
			o->ports[o->nports++] = v;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				o->format = OUTPUT_TEXT;
			else if (!strcmp(optarg, "json"))
				o->format = OUTPUT_JSON;
			else
				return bad_value("format", optarg, "expected text or json");
			break;
		case 'b':
			if (util_parse_long(optarg, 0, 1 << 20, &o->max_body))
				return bad_value("max-body", optarg, "expected 0-1048576");
			break;
		case 'd':
			if (util_parse_long(optarg, 1, 365L * 86400, &o->duration))
				return bad_value("duration", optarg, "expected seconds, at least 1");
			break;
		case OPT_CONTAINER:
			if (!*optarg || strlen(optarg) > CONTAINER_ID_LEN ||
			    strspn(optarg, "0123456789abcdef") != strlen(optarg))
				return bad_value("container", optarg,
						 "expected a container id or a prefix of one (hex)");
			o->container = optarg;
			break;
		case OPT_PROBE:
			o->probe_file = optarg;
			break;
		case OPT_EBPF:
			o->ebpf = true;
			break;
		case OPT_RECORD:
			o->record = optarg;
			break;
		case OPT_REPLAY:
			o->replay = optarg;
			break;
		case OPT_NO_TLS:
			o->no_tls = true;
			break;
		case OPT_TLS_LIB:
			if (!*optarg || o->ntls_libs == MAX_TLS_LIBS)
				return bad_value("tls-lib", optarg, "empty, or too many --tls-lib");
			o->tls_libs[o->ntls_libs++] = optarg;
			break;
		case OPT_NO_REDACT:
			o->redact.off = true;
			break;
		case OPT_REDACT_HEADER:
			if (!*optarg || redact_add_header(&o->redact, optarg))
				return bad_value("redact-header", optarg, "empty, or too many names");
			break;
		case OPT_REDACT_QUERY:
			if (!*optarg || redact_add_query(&o->redact, optarg))
				return bad_value("redact-query", optarg, "empty, or too many names");
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("httpsnoop %s\n", HTTPSNOOP_VERSION);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "httpsnoop: unexpected argument '%s'\n\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (o->redact.off)
		fprintf(stderr, "httpsnoop: warning: --no-redact: credentials "
			"(Authorization, Cookie, ...) will be written as they are\n");
	if (o->no_tls && o->ntls_libs) {
		fprintf(stderr, "httpsnoop: --no-tls and --tls-lib contradict each other\n\n");
		usage(stderr);
		return 2;
	}
	if (o->container && o->replay) {
		fprintf(stderr, "httpsnoop: --container needs live tracing: a recording does not say which container a process was in\n\n");
		usage(stderr);
		return 2;
	}
	if (o->record && o->replay) {
		fprintf(stderr, "httpsnoop: --record and --replay cannot be combined\n\n");
		usage(stderr);
		return 2;
	}
	return 0;
}

static void emit_txn(void *ctx, struct txn *t)
{
	struct app *a = ctx;

	redact_txn(&a->o->redact, t);
	output_txn(a->out, t);
}

/* With -P, one known endpoint on a wanted port is enough.  A connection
 * whose ports nobody could tell (opened before tracing, and its socket
 * gone before /proc was asked) is not shown: the user asked for one
 * port, not for everything unknown. */
static bool port_wanted(const struct options *o, const struct conn_info *c)
{
	if (!o->nports)
		return true;
	for (size_t i = 0; i < o->nports; i++)
		if ((c->local.family && c->local.port == o->ports[i]) ||
		    (c->remote.family && c->remote.port == o->ports[i]))
			return true;
	return false;
}

/* Live tracing: /proc answers what the probe could not see. */
static bool admit_live(void *ctx, struct conn_info *c, unsigned flags)
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
	if (c->local.family == 0) {
		if (sock < 0)
			sock = procfs_is_socket(c->pid, c->fd, &inode);
		if (sock == 1)
			procfs_tcp_endpoints(c->pid, inode, &c->local, &c->remote);
	}
	snprintf(c->container_id, sizeof(c->container_id), "%s",
		 container_of(a->containers, c->pid, c->cgroup_id));
	if (!port_wanted(a->o, c) ||
	    (a->o->container && strncmp(c->container_id, a->o->container,
					strlen(a->o->container)))) {
		a->stats.filtered++;
		probe_ignore(a->probe, c->pid, c->fd, c->conn_id);
		return false;
	}
	return true;
}

/* -P and the connections open before tracing began: the probe knows
 * nothing of their ports, so without this every byte of a busy unwanted
 * keep-alive connection would reach user space to be dropped there. */
static void ignore_existing(void *ctx, uint32_t pid, int32_t fd,
			    const struct hs_addr *local, const struct hs_addr *remote)
{
	struct app *a = ctx;
	struct conn_info c = { .local = *local, .remote = *remote };

	if (pid != (uint32_t)getpid() && !port_wanted(a->o, &c)) {
		probe_ignore_existing(a->probe, pid, fd);
		a->stats.filtered++;
	}
}

static bool admit_replay(void *ctx, struct conn_info *c, unsigned flags)
{
	struct app *a = ctx;

	(void)flags;
	if (!port_wanted(a->o, c)) {
		a->stats.filtered++;
		return false;
	}
	return true;
}

static void on_record(void *ctx, const void *rec, size_t len)
{
	struct app *a = ctx;
	const struct hs_event *ev = rec;
	size_t open;

	if (a->rec)
		recorder_write(a->rec, rec, len);
	if (len >= sizeof(*ev)) {
		if (ev->type == HS_EV_EXEC && a->tls &&
		    a->nexeced < sizeof(a->execed) / sizeof(a->execed[0]))
			a->execed[a->nexeced++] = ev->tgid;
		/* A process in a short-lived container (curl in podman
		 * run) may be gone, and its cgroup too, by the time its
		 * connection's first record is read: its container is
		 * looked up now, while it runs, and cached. */
		if (ev->type == HS_EV_EXEC && a->containers) {
			const char *id = container_of(a->containers, ev->tgid, ev->cgroup_id);
			uint64_t cg = ev->cgroup_id;

			if (a->kernel_cgroups && a->probe &&
			    !strncmp(id, a->o->container, strlen(a->o->container)))
				probe_add_cgroups(a->probe, &cg, 1);
		}
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
	if (len >= sizeof(*ev) && ev->type == HS_EV_EXIT && a->probe &&
	    stream_count(a->stream) < open &&
	    a->nexited < sizeof(a->exited) / sizeof(a->exited[0]))
		a->exited[a->nexited++] = ev->tgid;
}

static int on_replay_record(void *ctx, const void *rec, size_t len)
{
	struct app *a = ctx;

	on_record(ctx, rec, len);
	stream_tick(a->stream, a->last_ts);
	return exiting;
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
	if (fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode) || sb.st_size > MAX_PROBE_FILE) {
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

/* k: the probe's counters, or NULL for a replay.  open: connections in
 * user space and in the kernel's table at that moment. */
static void print_stats(struct app *a, const uint64_t *k, const size_t *open)
{
	const struct stats *s = &a->stats;

	fprintf(stderr,
		"\nhttpsnoop statistics:\n"
		"  transactions        %llu\n"
		"  unpaired requests   %llu\n"
		"  unpaired responses  %llu\n"
		"  parse errors        %llu\n"
		"  events              %llu\n"
		"  bytes               %llu\n"
		"  connections         %llu\n"
		"  upgraded            %llu\n"
		"  gap bytes           %llu\n"
		"  resync bytes        %llu\n"
		"  reorder overflows   %llu\n"
		"  evicted connections %llu\n"
		"  not sockets         %llu\n"
		"  filtered            %llu\n"
		"  bad records         %llu\n",
		(unsigned long long)s->txns, (unsigned long long)s->unpaired_reqs,
		(unsigned long long)s->unpaired_resps, (unsigned long long)s->parse_errors,
		(unsigned long long)s->events, (unsigned long long)s->bytes,
		(unsigned long long)s->conns, (unsigned long long)s->upgrades,
		(unsigned long long)s->gap_bytes, (unsigned long long)s->resync_bytes,
		(unsigned long long)s->reorder_overflow, (unsigned long long)s->conns_evicted,
		(unsigned long long)s->not_sockets, (unsigned long long)s->filtered,
		(unsigned long long)s->bad_records);
	if (!k)
		return;
	fprintf(stderr,
		"  lost events         %llu\n"
		"  lost bytes          %llu\n"
		"  kernel gap bytes    %llu\n"
		"  conn table full     %llu\n"
		"  unreadable buffers  %llu\n"
		"  non-HTTP bytes      %llu\n"
		"  TLS without socket  %llu\n"
		"  kernel records      %llu\n",
		(unsigned long long)k[HS_STAT_LOST], (unsigned long long)k[HS_STAT_LOST_BYTES],
		(unsigned long long)k[HS_STAT_GAP_BYTES], (unsigned long long)k[HS_STAT_CONN_FULL],
		(unsigned long long)k[HS_STAT_READ_FAIL], (unsigned long long)k[HS_STAT_NON_HTTP_BYTES],
		(unsigned long long)k[HS_STAT_TLS_NO_FD], (unsigned long long)k[HS_STAT_EVENTS]);
	if (open)
		fprintf(stderr,
			"  open connections    %zu\n"
			"  kernel table        %zu\n",
			open[0], open[1]);
}

/* The statistics of a live run: at exit, and on SIGUSR1. */
static void print_live_stats(struct app *a, const size_t *open)
{
	uint64_t k[HS_STAT_MAX] = { 0 };

	probe_stats(a->probe, k);
	print_stats(a, k, open);
}

static int run_replay(struct app *a)
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
	return err ? 1 : 0;
}

static int run_live(struct app *a)
{
	struct options *o = a->o;
	struct probe_opts po = {
		.pids = o->pids,
		.npids = o->npids,
		.ports = o->ports,
		.nports = o->nports,
		.comm = o->comm,
		.ringbuf_kb = 16384,
		.tls = !o->no_tls,
		.verbose = o->verbose,
	};
	uint64_t cgroups[HS_MAX_CGROUPS];
	size_t open[2];
	char *text = NULL;
	uint64_t end = 0, last_tick = 0, last_sweep = util_now_ns(), last_scan = last_sweep;
	uint64_t last_cg = last_sweep;
	int err;

	if (o->container) {
		/* In the kernel when the container's cgroups can be told
		 * apart from the host's; always in user space as well. */
		po.cgroups = cgroups;
		po.ncgroups = container_cgroup_ids(o->container, cgroups, HS_MAX_CGROUPS);
		a->kernel_cgroups = po.ncgroups > 0;
		if (o->verbose)
			fprintf(stderr, "httpsnoop: --container %s: filtering %s\n", o->container,
				po.ncgroups ? "in the kernel by cgroup" : "in user space");
	}
	if (o->probe_file) {
		text = read_probe_file(o->probe_file);
		if (!text)
			return 1;
		po.source = text;
		po.source_name = o->probe_file;
	} else {
		po.source = probe_embedded_source;
		po.source_name = "the built-in probe (see --ebpf)";
		po.user_only = true;
	}
	err = probe_open(&a->probe, &po, on_record, a);
	free(text);
	if (err)
		return 1;
	if (!o->no_tls && !probe_has_tls(a->probe))
		warn("%s has no SSL uprobes (uprobe__SSL_read and the like): "
		     "HTTPS is not traced", po.source_name);
	else if (!o->no_tls) {
		a->tls = tls_new(a->probe, o->tls_libs, o->ntls_libs, o->verbose);
		if (!a->tls) {
			probe_close(a->probe);
			return 1;
		}
		tls_scan_all(a->tls);
	}
	/* Everything that needed privileges is open: the maps, the
	 * buffers, the attachments and the output files -- except TLS
	 * libraries found later, which need CAP_SYS_ADMIN (uprobes) and
	 * CAP_SYS_PTRACE (/proc/PID/root): with TLS on, those two stay. */
	err = util_drop_privileges(!o->no_tls);
	if (err)
		warn("failed to drop capabilities: %s (tracing goes on)", strerror(-err));
	if (o->verbose)
		fprintf(stderr, "httpsnoop: using %s\n", probe_features(a->probe));
	/* Last before arming, so that what /proc said is still true. */
	if (o->nports)
		procfs_each_tcp_fd(ignore_existing, a, HS_MAX_CONNS / 4);
	if (probe_arm(a->probe)) {
		tls_free(a->tls);
		probe_close(a->probe);
		return 1;
	}
	if (o->duration)
		end = util_now_ns() + o->duration * 1000000000ULL;
	fprintf(stderr, "Tracing HTTP... Hit Ctrl-C to end.\n");
	while (!exiting) {
		uint64_t now;

		err = probe_poll(a->probe, 100);
		if (err < 0) {
			warn("failed to read probe records: %s", strerror(-err));
			break;
		}
		now = util_now_ns();
		if (a->tls) {
			/* New processes now, and every process now and then
			 * (python loads libssl only on "import ssl"). */
			for (size_t i = 0; i < a->nexeced; i++)
				tls_scan_exec(a->tls, a->execed[i]);
			a->nexeced = 0;
			if (now - last_scan > 5000000000ULL) {
				tls_scan_all(a->tls);
				last_scan = now;
			}
		}
		if (po.ncgroups && now - last_cg > 5000000000ULL) {
			/* A restarted container comes back in a new cgroup:
			 * let the kernel filter pass that one too. */
			size_t n = container_cgroup_ids(o->container, cgroups, HS_MAX_CGROUPS);

			probe_add_cgroups(a->probe, cgroups, n);
			last_cg = now;
		}
		/* A sweep walks the whole kernel table (two syscalls an
		 * entry): once a second at most for exits, and every 10 s
		 * for processes that died unseen. */
		if ((a->nexited && now - last_sweep > 1000000000ULL) ||
		    now - last_sweep > 10000000000ULL) {
			probe_sweep(a->probe, a->exited, a->nexited);
			a->nexited = 0;
			last_sweep = now;
		}
		if (now - last_tick > 100000000ULL) {
			stream_tick(a->stream, now);
			err = output_flush(a->out);
			if (err) {
				/* EPIPE: the reader (| head) is gone. */
				if (err != -EPIPE)
					warn("failed to write output: %s", strerror(-err));
				err = 0;
				break;
			}
			last_tick = now;
		}
		if (want_stats) {
			want_stats = 0;
			open[0] = stream_count(a->stream);
			open[1] = probe_conn_count(a->probe);
			output_flush(a->out);
			print_live_stats(a, open);
		}
		if (end && now >= end)
			break;
	}
	/* What the kernel already wrote still counts. */
	probe_flush(a->probe);
	open[0] = stream_count(a->stream);
	open[1] = probe_conn_count(a->probe);
	stream_close_all(a->stream, util_now_ns(), "tracing stopped before a response");
	output_flush(a->out);
	print_live_stats(a, open);
	tls_free(a->tls);
	a->tls = NULL;
	probe_close(a->probe);
	a->probe = NULL;
	return err < 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct options o;
	struct app a = { .o = &o };
	struct sigaction sa = { .sa_handler = on_signal };
	struct output_opts oo;
	struct stream_opts so = {
		.max_conns = 65536,
		.idle_ns = 300ULL * 1000000000ULL,
		.reorder_ns = 200ULL * 1000000ULL,
		.reorder_max = 64,
		.emit = emit_txn,
		.emit_ctx = &a,
		.admit_ctx = &a,
		.stats = &a.stats,
	};
	int64_t offset = util_clock_offset();
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret;
	if (o.ebpf) {
		fputs(probe_embedded_source, stdout);
		return 0;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.replay && (ret = replay_header(o.replay, &offset))) {
		if (ret == -EBADMSG)
			warn("failed to replay %s: not an httpsnoop recording of this version", o.replay);
		else
			warn("failed to open recording %s: %s", o.replay, strerror(-ret));
		return 1;
	}
	so.max_body = o.max_body;
	so.admit = o.replay ? admit_replay : admit_live;
	oo = (struct output_opts){ .format = o.format, .max_body = o.max_body,
				   .clock_offset_ns = offset };
	a.out = output_open(o.output, &oo);
	if (!a.out) {
		warn("failed to open output %s: %s", o.output, strerror(errno));
		return 1;
	}
	a.stream = stream_new(&so);
	a.containers = container_cache_new();
	if (!a.stream || !a.containers) {
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
	if (o.replay) {
		ret = run_replay(&a);
		output_flush(a.out);
		print_stats(&a, NULL, NULL);
	} else {
		ret = run_live(&a);
	}
out:
	if (recorder_close(a.rec) && !ret) {
		warn("failed to write recording %s: %s", o.record, strerror(errno));
		ret = 1;
	}
	stream_free(a.stream);
	container_cache_free(a.containers);
	output_close(a.out);
	return ret;
}
