/* options.c -- the command line: every option in one table, which also prints --help's option list. */
#include "app/options.h"

#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "capture/container.h"
#include "capture/probe.h"
#include "core/util.h"
#include "sink/promserve.h"

#ifndef HTTPSNOOP_VERSION
#define HTTPSNOOP_VERSION "dev"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

_Static_assert(OPT_MAX_PIDS <= HS_MAX_PIDS,
	       "-p must fit in the probe's pid filter table");

/* One option.  set() takes its argument (NULL for a flag) and returns
 * NULL, or why the value is bad; without set(), the option's argument
 * is stored at `field` of struct options: as a number in [0, max] in a
 * size_t when max is set, else as the const char *; a flag sets the bool
 * there. */
struct opt {
	const char *name; /* long name, also the name in error messages */
	int key;	  /* its short letter, or a value above 255 */
	const char *arg;  /* the argument's name in --help; NULL: none */
	const char *help; /* --help text; "\n" starts a line under it */
	int col;	  /* --help column of the text, 0: HELP_COL */
	const char *(*set)(struct options *o, const char *arg);
	size_t field;	  /* FIELD(member), without set() */
	long max;	  /* a number's largest value, 0: not a number */
};

#define FIELD(m) offsetof(struct options, m)

#define HELP_COL 23

static const char *set_pid(struct options *o, const char *arg)
{
	long v;

	if (util_parse_long(arg, 1, 0x7fffffff, &v))
		return "expected a process id";
	if (o->npids == OPT_MAX_PIDS)
		return "too many -p";
	o->pids[o->npids++] = v;
	return NULL;
}

static const char *set_comm(struct options *o, const char *arg)
{
	if (!*arg || strlen(arg) > HS_COMM_LEN - 1)
		return "expected 1 to 15 characters (the kernel's comm)";
	o->comm = arg;
	return NULL;
}

static const char *set_port(struct options *o, const char *arg)
{
	long v;

	if (util_parse_long(arg, 1, 65535, &v))
		return "expected 1-65535";
	if (o->nports == OPT_MAX_PORTS)
		return "too many -P";
	o->ports[o->nports++] = v;
	return NULL;
}

static const char *set_unix(struct options *o, const char *arg)
{
	size_t n = strlen(arg);

	/* unix(7): sun_path holds 108 bytes; an abstract name is '@' and
	 * up to 107 more. */
	if (!n || n > HS_UNIX_PATH_MAX || (arg[0] != '/' && arg[0] != '@'))
		return "expected an absolute path (a glob may match several) or @name, "
		       "at most " STR(HS_UNIX_PATH_MAX) " bytes";
	if (o->nunix == OPT_MAX_UNIX)
		return "too many --unix";
	o->unix_paths[o->nunix] = arg;
	/* The path the server bound may be spelled otherwise (/var/run is
	 * /run): the real path matches too. */
	if (arg[0] == '/' && !strpbrk(arg, "*?[")) {
		char real[PATH_MAX];

		if (realpath(arg, real) && strlen(real) <= HS_UNIX_PATH_MAX)
			strcpy(o->unix_real[o->nunix], real);
	}
	o->nunix++;
	return NULL;
}

static const char *set_container(struct options *o, const char *arg)
{
	if (!*arg || strlen(arg) > CONTAINER_ID_LEN ||
	    strspn(arg, "0123456789abcdef") != strlen(arg))
		return "expected a container id or a prefix of one (hex)";
	o->container = arg;
	return NULL;
}

static const char *set_output(struct options *o, const char *arg)
{
	o->sinks.output = arg;
	o->sinks.stream = true;
	return NULL;
}

static const char *set_format(struct options *o, const char *arg)
{
	o->sinks.stream = true;
	if (!strcmp(arg, "text"))
		o->sinks.format = SINK_TEXT;
	else if (!strcmp(arg, "json"))
		o->sinks.format = SINK_JSON;
	else
		return "expected text or json";
	return NULL;
}

static const char *set_duration(struct options *o, const char *arg)
{
	if (util_parse_long(arg, 1, OPT_MAX_DURATION, &o->duration))
		return "expected seconds, at least 1";
	return NULL;
}

static const char *set_tls_lib(struct options *o, const char *arg)
{
	if (!*arg || o->ntls_libs == OPT_MAX_TLS_LIBS)
		return "empty, or too many --tls-lib";
	o->tls_libs[o->ntls_libs++] = arg;
	return NULL;
}

static const char *set_hooks(struct options *o, const char *arg)
{
	if (!strcmp(arg, "auto"))
		o->hooks = PROBE_HOOKS_AUTO;
	else if (!strcmp(arg, "sock"))
		o->hooks = PROBE_HOOKS_SOCK;
	else if (!strcmp(arg, "syscall"))
		o->hooks = PROBE_HOOKS_SYSCALL;
	else
		return "expected auto, sock or syscall";
	return NULL;
}

static const char *set_redact_header(struct options *o, const char *arg)
{
	if (!*arg || redact_add_header(&o->redact, arg))
		return "empty, or too many names";
	return NULL;
}

static const char *set_redact_query(struct options *o, const char *arg)
{
	if (!*arg || redact_add_query(&o->redact, arg))
		return "empty, or too many names";
	return NULL;
}

static const char *set_metrics(struct options *o, const char *arg)
{
	o->sinks.metrics = arg;
	return promserve_parse(arg, &o->sinks.metrics_addr, &o->sinks.metrics_addr_len);
}

/* Checked here, against the ones before it, so that a bad pattern is a
 * usage error. */
static const char *set_route(struct options *o, const char *arg)
{
	struct route_table *t;
	const char *why = NULL;

	if (o->sinks.nroutes == ROUTE_PATTERNS_MAX)
		return "too many --route (" ROUTE_PATTERNS_MAX_STR " at most)";
	t = route_table_new(0);
	if (!t)
		return "out of memory";
	for (size_t i = 0; i < o->sinks.nroutes && !why; i++)
		why = route_add_pattern(t, o->sinks.routes[i]);
	why = why ? why : route_add_pattern(t, arg);
	route_table_free(t);
	if (!why)
		o->sinks.routes[o->sinks.nroutes++] = arg;
	return why;
}

static const char *set_max_routes(struct options *o, const char *arg)
{
	long v;

	if (util_parse_long(arg, 1, OPT_MAX_ROUTES_LIMIT, &v))
		return "expected 1-" STR(OPT_MAX_ROUTES_LIMIT);
	o->sinks.max_routes = (size_t)v;
	return NULL;
}

static const char *set_method(struct options *o, const char *arg)
{
	return filter_add_method(&o->filter, arg);
}

static const char *set_path(struct options *o, const char *arg)
{
	return filter_add_path(&o->filter, arg);
}

static const char *set_host(struct options *o, const char *arg)
{
	return filter_add_host(&o->filter, arg);
}

static const char *set_status(struct options *o, const char *arg)
{
	return filter_add_status(&o->filter, arg);
}

static const char *set_min_latency(struct options *o, const char *arg)
{
	return filter_set_min_latency(&o->filter, arg);
}

/* --help and --version: the parser's own. */
enum { KEY_HELP = 'h', KEY_VERSION = 'V' };

/* In --help's order, which is also the short options' order. */
static const struct opt opts[] = {
	{ .name = "pid", .key = 'p', .arg = "PID", .set = set_pid,
	  .help = "trace only this process (repeatable, up to " STR(OPT_MAX_PIDS) ")" },
	{ .name = "comm", .key = 'c', .arg = "COMM", .set = set_comm,
	  .help = "trace only tasks whose command name is COMM" },
	{ .name = "port", .key = 'P', .arg = "PORT", .set = set_port,
	  .help = "trace only connections with this local or remote port\n"
		  "(repeatable, up to " STR(OPT_MAX_PORTS) ")" },
	{ .name = "unix", .key = 280, .arg = "PATH", .set = set_unix,
	  .help = "trace only Unix sockets with this path (the server's,\n"
		  "on both sides), a glob of paths, or @name for an\n"
		  "abstract one (repeatable, up to " STR(OPT_MAX_UNIX) ").  With -P,\n"
		  "a connection either of them keeps is traced" },
	{ .name = "container", .key = 256, .arg = "ID", .set = set_container,
	  .help = "trace only processes in this container (id or prefix,\n"
		  "as docker/podman ps show it)" },
	{ .name = "output", .key = 'o', .arg = "FILE", .set = set_output,
	  .help = "write transactions to FILE (default: stdout)" },
	{ .name = "format", .key = 'f', .arg = "FMT", .set = set_format,
	  .help = "text (default) or json (JSON Lines, a line per record)" },
	{ .name = "max-body", .key = 'b', .arg = "N", .field = FIELD(sinks.max_body),
	  .max = OPT_MAX_MAX_BODY,
	  .help = "body preview bytes, 0-" STR(OPT_MAX_MAX_BODY) " (default "
		  STR(OPT_DEFAULT_MAX_BODY) ")" },
	{ .name = "body-lines", .key = 266, .arg = "N", .field = FIELD(sinks.body_lines),
	  .max = OPT_MAX_BODY_LINES,
	  .help = "text output: body lines shown, 0 for all (default "
		  STR(OPT_DEFAULT_BODY_LINES) ");\nJSON keeps the whole preview" },
	{ .name = "duration", .key = 'd', .arg = "SECS", .set = set_duration,
	  .help = "stop after SECS seconds (default: until Ctrl-C)" },
	{ .name = "probe", .key = 257, .arg = "FILE", .field = FIELD(probe_file),
	  .help = "compile FILE instead of the built-in probe (start from\n"
		  "'httpsnoop --ebpf > FILE'); no rebuild needed" },
	{ .name = "ebpf", .key = 258, .field = FIELD(ebpf),
	  .help = "print the built-in probe source and exit" },
	{ .name = "no-probe-cache", .key = 282, .field = FIELD(no_probe_cache),
	  .help = "compile the built-in probe even when a compiled copy\n"
		  "for this kernel and build is kept in " PROBE_CACHE_DIR "\n"
		  "(it is then not kept either)" },
	{ .name = "record", .key = 259, .arg = "FILE", .field = FIELD(record),
	  .help = "also save the raw probe records to FILE" },
	{ .name = "replay", .key = 260, .arg = "FILE", .field = FIELD(replay),
	  .help = "decode a --record file instead of tracing (no root)" },
	{ .name = "no-tls", .key = 261, .field = FIELD(no_tls),
	  .help = "do not read TLS plaintext (by default, uprobes on\n"
		  "OpenSSL's SSL_read/SSL_write and on Go's crypto/tls\n"
		  "-- Go 1.17+ on x86-64 -- show HTTPS like HTTP)" },
	{ .name = "tls-lib", .key = 262, .arg = "PATH", .set = set_tls_lib,
	  .help = "also attach to this OpenSSL build (repeatable), e.g.\n"
		  "a statically linked binary" },
	{ .name = "no-redact", .key = 263, .field = FIELD(redact.off),
	  .help = "show credentials: by default the values of\n"
		  "Authorization, Proxy-Authorization, Cookie, Set-Cookie\n"
		  "and X-Api-Key are replaced by '[redacted N bytes]'" },
	{ .name = "redact-header", .key = 264, .arg = "NAME", .set = set_redact_header,
	  .col = 28, .help = "redact this header too (repeatable)" },
	{ .name = "redact-query", .key = 265, .arg = "NAME", .set = set_redact_query,
	  .col = 28, .help = "redact this query parameter's value (repeatable)" },
	{ .name = "hooks", .key = 281, .arg = "HOW", .set = set_hooks,
	  .help = "how the probe sees socket I/O: sock (one program per\n"
		  "socket send or receive; Linux 6.3+ with BTF, x86-64),\n"
		  "syscall (enter and exit of each I/O syscall), or auto\n"
		  "(the default: sock where the kernel has it; -v says)" },
	{ .name = "verbose", .key = 'v', .field = FIELD(verbose),
	  .help = "say which kernel features are in use" },
	{ .name = "method", .key = 268, .arg = "M", .set = set_method,
	  .help = "show only these methods (repeatable, or GET,POST)" },
	{ .name = "path", .key = 269, .arg = "GLOB", .set = set_path,
	  .help = "show only paths (without query) matching GLOB, e.g.\n"
		  "'/api/*' (fnmatch: * and ? match '/' too)" },
	{ .name = "host", .key = 270, .arg = "GLOB", .set = set_host,
	  .help = "show only Host headers matching GLOB (no case; the port\n"
		  "counts only when GLOB has one)" },
	{ .name = "status", .key = 271, .arg = "SPEC", .set = set_status,
	  .help = "show only these statuses: 404, 5xx, 400-499, lists" },
	{ .name = "min-latency", .key = 272, .arg = "D", .set = set_min_latency,
	  .help = "show only latencies of at least D: 250us, 100ms, 2s" },
	{ .name = "summary", .key = 273, .field = FIELD(sinks.summary),
	  .help = "at the end and on SIGUSR1, a table of endpoints: counts,\n"
		  "statuses (gRPC: OK and not), latency percentiles, bytes" },
	{ .name = "summary-json", .key = 274, .arg = "FILE", .field = FIELD(sinks.summary_json),
	  .col = 28, .help = "that table as JSON, at the end" },
	{ .name = "top", .key = 275, .field = FIELD(sinks.top),
	  .help = "a live view of the busiest endpoints (keys: r rate,\n"
		  "p p99, e errors, t total time, q quit)" },
	{ .name = "metrics", .key = 276, .arg = "[ADDR:]PORT", .set = set_metrics,
	  .col = 30, .help = "serve Prometheus metrics at /metrics: http_* and,\n"
		  "for gRPC, rpc_* (on 127.0.0.1 unless ADDR is given)" },
	{ .name = "har", .key = 277, .arg = "FILE", .field = FIELD(sinks.har),
	  .help = "write transactions as a HAR 1.2 file (DevTools)" },
	{ .name = "route", .key = 278, .arg = "PATTERN", .set = set_route,
	  .help = "name a route, e.g. /orders/{id}/items (repeatable);\n"
		  "other paths have ids as {id}" },
	{ .name = "max-routes", .key = 279, .arg = "N", .set = set_max_routes,
	  .help = "routes kept, then {other} (default " STR(ROUTE_MAX_DEFAULT) ")" },
	{ .name = "help", .key = KEY_HELP, .help = "show this help" },
	{ .name = "version", .key = KEY_VERSION, .help = "show the version" },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/* One option's lines of --help. */
static void usage_opt(FILE *f, const struct opt *op)
{
	int col = op->col ? op->col : HELP_COL, n;
	const char *p = op->help, *nl;

	if (op->key < 256)
		n = fprintf(f, "  -%c, --%s", op->key, op->name);
	else
		n = fprintf(f, "      --%s", op->name);
	if (op->arg)
		n += fprintf(f, " %s", op->arg);
	fprintf(f, "%*s", col - n > 1 ? col - n : 1, "");
	while ((nl = strchr(p, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - p), p, HELP_COL, "");
		p = nl + 1;
	}
	fprintf(f, "%s\n", p);
}

void options_usage(FILE *f)
{
	fputs("Usage: httpsnoop [-p PID]... [-c COMM] [-P PORT]... [--unix PATH]...\n"
	      "                 [--container ID] [-o FILE] [-f text|json]\n"
	      "                 [-b BYTES] [--body-lines N] [-d SECONDS] [--probe FILE]\n"
	      "                 [--ebpf] [--no-probe-cache] [-v] [-h] [-V]\n"
	      "                 [--record FILE | --replay FILE] [--no-tls] [--tls-lib PATH]...\n"
	      "                 [--no-redact] [--hooks auto|sock|syscall]\n"
	      "                 [--redact-header NAME]... [--redact-query NAME]...\n"
	      "                 [--method M] [--path GLOB] [--host GLOB] [--status SPEC]\n"
	      "                 [--min-latency D] [--summary] [--summary-json FILE] [--top]\n"
	      "                 [--metrics [ADDR:]PORT] [--har FILE] [--route PATTERN]...\n"
	      "                 [--max-routes N]\n"
	      "\n"
	      "Trace HTTP/1.x and HTTP/2 transactions of any process on this host, as they\n"
	      "cross its TCP and Unix sockets: method, URL, status, headers, body preview,\n"
	      "latency and framing anomalies; HTTP/2 from its preface, an h2c upgrade or\n"
	      "midway; gRPC calls with their status and messages; the WebSocket messages\n"
	      "that follow an upgrade.  Per-endpoint latency tables, a live top view,\n"
	      "Prometheus metrics and HAR files.  Needs root (eBPF), except with --replay.\n"
	      "\n"
	      "Options:\n", f);
	for (size_t i = 0; i < NOPTS; i++)
		usage_opt(f, &opts[i]);
	fputs("\n"
	      "Examples:\n"
	      "  httpsnoop                        # every HTTP transaction on this host\n"
	      "  httpsnoop -p 1234                # only process 1234\n"
	      "  httpsnoop -c nginx -P 8080       # nginx, on port 8080\n"
	      "  httpsnoop --container 3f2a9c     # one container's processes\n"
	      "  httpsnoop --unix /run/podman/podman.sock  # the container engine's API\n"
	      "  httpsnoop -f json -o trace.jsonl # JSON Lines to a file\n"
	      "  httpsnoop -d 10 --record t.rec   # 10 seconds, keeping the raw records\n"
	      "  httpsnoop --replay t.rec -f json # decode them again, without root\n"
	      "  httpsnoop --ebpf > my.c && vi my.c && httpsnoop --probe my.c\n"
	      "  httpsnoop --summary -d 30        # which endpoints are slow, after 30 s\n"
	      "  httpsnoop --top -c nginx         # nginx's endpoints, live\n"
	      "  httpsnoop --metrics 9464         # Prometheus scrapes 127.0.0.1:9464\n"
	      "  httpsnoop --har t.har --path '/api/*'  # API calls, for DevTools\n"
	      "  httpsnoop --status 5xx,404 --min-latency 100ms  # failing or slow ones\n"
	      "\n"
	      "The views (--summary, --top, --metrics, --har) replace the stream of\n"
	      "transactions on stdout; -o or -f brings it back.  The display filters\n"
	      "(--method, --path, --host, --status, --min-latency; ANDed) choose what is\n"
	      "written and summarised, not what --metrics counts.\n"
	      "\n"
	      "Statistics (events, transactions, lost events, gap bytes, open connections,\n"
	      "what tracing cost a transaction in httpsnoop's CPU and in its probe, ...)\n"
	      "go to stderr when tracing ends, and at once on SIGUSR1 (kill -USR1 PID)\n"
	      "while it runs.  The probe's time needs sysctl kernel.bpf_stats_enabled=1.\n", f);
}

static int bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "httpsnoop: invalid %s '%s': %s\n\n", opt, val, why);
	options_usage(stderr);
	return 2;
}

static int bad_combination(const char *why)
{
	fprintf(stderr, "httpsnoop: %s\n\n", why);
	options_usage(stderr);
	return 2;
}

/* What no single option can check. */
static int options_check(const struct options *o)
{
	if (o->redact.off)
		fprintf(stderr, "httpsnoop: warning: --no-redact: credentials "
			"(Authorization, Cookie, ...) will be written as they are\n");
	if (o->no_tls && o->ntls_libs)
		return bad_combination("--no-tls and --tls-lib contradict each other");
	if (o->container && o->replay)
		return bad_combination("--container needs live tracing: a recording does not "
				       "say which container a process was in");
	if (o->record && o->replay)
		return bad_combination("--record and --replay cannot be combined");
	if ((o->sinks.top || o->sinks.metrics) && o->replay)
		return bad_combination("--top and --metrics need live tracing; --summary, "
				       "--summary-json and --har work on a --replay");
	if (o->sinks.top && o->sinks.stream &&
	    (!o->sinks.output || !strcmp(o->sinks.output, "-")))
		return bad_combination("--top takes the terminal: write transactions with -o FILE");
	return 0;
}

/* An option without a setter: its field takes the argument. */
static const char *set_field(struct options *o, const struct opt *op,
			     const char *arg)
{
	static char why[32];
	char *at = (char *)o + op->field;
	long v;

	if (op->max) {
		if (util_parse_long(arg, 0, op->max, &v)) {
			snprintf(why, sizeof(why), "expected 0-%ld", op->max);
			return why;
		}
		*(size_t *)at = v;
	} else if (op->arg) {
		*(const char **)at = arg;
	} else {
		*(bool *)at = true;
	}
	return NULL;
}

/* getopt_long's tables, made from opts. */
static void getopt_tables(struct option *lo, char *so)
{
	for (size_t i = 0; i < NOPTS; i++) {
		lo[i] = (struct option){ opts[i].name,
					 opts[i].arg ? required_argument : no_argument,
					 NULL, opts[i].key };
		if (opts[i].key >= 256)
			continue;
		*so++ = (char)opts[i].key;
		if (opts[i].arg)
			*so++ = ':';
	}
	lo[NOPTS] = (struct option){ 0 };
	*so = '\0';
}

int options_parse(int argc, char **argv, struct options *o)
{
	struct option lo[NOPTS + 1];
	char so[2 * NOPTS + 1];
	const struct opt *op;
	const char *why;
	int c;

	o->sinks.max_body = OPT_DEFAULT_MAX_BODY;
	o->sinks.body_lines = OPT_DEFAULT_BODY_LINES;
	o->sinks.format = SINK_TEXT;
	o->sinks.max_routes = ROUTE_MAX_DEFAULT;
	redact_init(&o->redact);
	getopt_tables(lo, so);
	while ((c = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (c == KEY_HELP) {
			options_usage(stdout);
			return OPTIONS_DONE;
		}
		if (c == KEY_VERSION) {
			printf("httpsnoop %s\n", HTTPSNOOP_VERSION);
			return OPTIONS_DONE;
		}
		for (op = opts; op < opts + NOPTS && op->key != c; op++)
			;
		if (op == opts + NOPTS) {
			options_usage(stderr);
			return 2;
		}
		why = op->set ? op->set(o, optarg) : set_field(o, op, optarg);
		if (why)
			return bad_value(op->name, optarg, why);
	}
	if (optind < argc) {
		fprintf(stderr, "httpsnoop: unexpected argument '%s'\n\n", argv[optind]);
		options_usage(stderr);
		return 2;
	}
	return options_check(o);
}
