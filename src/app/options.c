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

#ifndef HTTPSNOOP_VERSION
#define HTTPSNOOP_VERSION "dev"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

_Static_assert(OPT_MAX_PIDS <= HS_MAX_PIDS,
	       "-p must fit in the probe's pid filter table");

/* One option.  set() takes its argument (NULL for a flag) and returns
 * NULL, or why the value is bad; without set(), the option's argument
 * is stored in the const char * at `field` of struct options, or a flag
 * sets the bool there. */
struct opt {
	const char *name; /* long name, also the name in error messages */
	int key;	  /* its short letter, or a value above 255 */
	const char *arg;  /* the argument's name in --help; NULL: none */
	const char *help; /* --help text; "\n" starts a line under it */
	int col;	  /* --help column of the text, 0: HELP_COL */
	const char *(*set)(struct options *o, const char *arg);
	size_t field;	  /* FIELD(member), without set() */
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

static const char *set_format(struct options *o, const char *arg)
{
	if (!strcmp(arg, "text"))
		o->sinks.format = SINK_TEXT;
	else if (!strcmp(arg, "json"))
		o->sinks.format = SINK_JSON;
	else
		return "expected text or json";
	return NULL;
}

static const char *set_max_body(struct options *o, const char *arg)
{
	long v;

	if (util_parse_long(arg, 0, OPT_MAX_MAX_BODY, &v))
		return "expected 0-" STR(OPT_MAX_MAX_BODY);
	o->sinks.max_body = v;
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

/* --help and --version: the parser's own. */
enum { KEY_HELP = 'h', KEY_VERSION = 'V' };

/* In --help's order, which is also the short options' order. */
static const struct opt opts[] = {
	{ "pid", 'p', "PID", "trace only this process (repeatable, up to "
	  STR(OPT_MAX_PIDS) ")", 0, set_pid, 0 },
	{ "comm", 'c', "COMM", "trace only tasks whose command name is COMM",
	  0, set_comm, 0 },
	{ "port", 'P', "PORT", "trace only connections with this local or remote port\n"
	  "(repeatable, up to " STR(OPT_MAX_PORTS) ")", 0, set_port, 0 },
	{ "unix", 266, "PATH", "trace only Unix sockets with this path (the server's,\n"
	  "on both sides), a glob of paths, or @name for an\n"
	  "abstract one (repeatable, up to " STR(OPT_MAX_UNIX) ").  With -P,\n"
	  "the connections either keeps", 0, set_unix, 0 },
	{ "container", 256, "ID", "trace only processes in this container (id or prefix,\n"
	  "as docker/podman ps show it)", 0, set_container, 0 },
	{ "output", 'o', "FILE", "write transactions to FILE (default: stdout)",
	  0, NULL, FIELD(sinks.output) },
	{ "format", 'f', "FMT", "text (default) or json (JSON Lines, one per transaction)",
	  0, set_format, 0 },
	{ "max-body", 'b', "N", "body preview bytes, 0-" STR(OPT_MAX_MAX_BODY)
	  " (default " STR(OPT_DEFAULT_MAX_BODY) ")", 0, set_max_body, 0 },
	{ "duration", 'd', "SECS", "stop after SECS seconds (default: until Ctrl-C)",
	  0, set_duration, 0 },
	{ "probe", 257, "FILE", "compile FILE instead of the built-in probe (start from\n"
	  "'httpsnoop --ebpf > FILE'); no rebuild needed", 0, NULL, FIELD(probe_file) },
	{ "ebpf", 258, NULL, "print the built-in probe source and exit",
	  0, NULL, FIELD(ebpf) },
	{ "record", 259, "FILE", "also save the raw probe records to FILE",
	  0, NULL, FIELD(record) },
	{ "replay", 260, "FILE", "decode a --record file instead of tracing (no root)",
	  0, NULL, FIELD(replay) },
	{ "no-tls", 261, NULL, "do not read TLS plaintext (by default, uprobes on\n"
	  "OpenSSL's SSL_read/SSL_write show HTTPS like HTTP)", 0, NULL, FIELD(no_tls) },
	{ "tls-lib", 262, "PATH", "also attach to this OpenSSL build (repeatable), e.g.\n"
	  "a statically linked binary", 0, set_tls_lib, 0 },
	{ "no-redact", 263, NULL, "show credentials: by default the values of\n"
	  "Authorization, Proxy-Authorization, Cookie, Set-Cookie\n"
	  "and X-Api-Key are replaced by '[redacted N bytes]'", 0, NULL, FIELD(redact.off) },
	{ "redact-header", 264, "NAME", "redact this header too (repeatable)",
	  28, set_redact_header, 0 },
	{ "redact-query", 265, "NAME", "redact this query parameter's value (repeatable)",
	  28, set_redact_query, 0 },
	{ "verbose", 'v', NULL, "say which kernel features are in use",
	  0, NULL, FIELD(verbose) },
	{ "help", KEY_HELP, NULL, "show this help", 0, NULL, 0 },
	{ "version", KEY_VERSION, NULL, "show the version", 0, NULL, 0 },
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
	      "                 [-b BYTES] [-d SECONDS] [--probe FILE] [--ebpf] [-v] [-h] [-V]\n"
	      "                 [--record FILE | --replay FILE] [--no-tls] [--tls-lib PATH]...\n"
	      "                 [--no-redact]\n"
	      "                 [--redact-header NAME]... [--redact-query NAME]...\n"
	      "\n"
	      "Trace HTTP/1.x transactions of any process on this host, as they cross its\n"
	      "TCP and Unix sockets: method, URL, status, headers, body preview and\n"
	      "latency.  Needs root (eBPF), except with --replay.\n"
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
	      "\n"
	      "Statistics (events, transactions, lost events, gap bytes, open connections,\n"
	      "...) go to stderr when tracing ends, and at once on SIGUSR1\n"
	      "(kill -USR1 PID) while it runs.\n", f);
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
	return 0;
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
	o->sinks.format = SINK_TEXT;
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
		why = op->set ? op->set(o, optarg) : NULL;
		if (why)
			return bad_value(op->name, optarg, why);
		if (!op->set && op->arg)
			*(const char **)((char *)o + op->field) = optarg;
		else if (!op->set)
			*(bool *)((char *)o + op->field) = true;
	}
	if (optind < argc) {
		fprintf(stderr, "httpsnoop: unexpected argument '%s'\n\n", argv[optind]);
		options_usage(stderr);
		return 2;
	}
	return options_check(o);
}
