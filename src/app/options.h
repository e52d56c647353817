/* options.h -- the command line: every option in one table, which also prints --help's option list. */
#ifndef HS_OPTIONS_H
#define HS_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture/probe.h"
#include "core/redact.h"
#include "prof/filter.h"
#include "sink/sink.h"

/* Limits and defaults of the options (the help text states them). */
#define OPT_MAX_PIDS 1024	   /* -p given at most; the probe's pid
				    * filter table must hold them */
#define OPT_MAX_PORTS 64	   /* -P given at most */
#define OPT_MAX_TLS_LIBS 16	   /* --tls-lib given at most */
#define OPT_MAX_UNIX 16		   /* --unix given at most */
#define OPT_DEFAULT_MAX_BODY 1024  /* -b */
#define OPT_MAX_MAX_BODY 1048576   /* -b at most */
#define OPT_DEFAULT_BODY_LINES 4   /* --body-lines */
#define OPT_MAX_BODY_LINES 1000000 /* --body-lines at most */
#define OPT_MAX_DURATION (365L * 86400) /* -d at most, seconds */
#define OPT_MAX_ROUTES_LIMIT ROUTE_MAX_LIMIT /* --max-routes at most */

struct options {
	uint32_t pids[OPT_MAX_PIDS];
	size_t npids;
	uint16_t ports[OPT_MAX_PORTS];
	size_t nports;
	const char *unix_paths[OPT_MAX_UNIX]; /* --unix: paths, globs or
					       * @names */
	/* realpath(3) of each that names an existing file, else "" (one
	 * longer than sun_path cannot be a socket's name) */
	char unix_real[OPT_MAX_UNIX][HS_UNIX_PATH_MAX + 1];
	size_t nunix;
	const char *comm;
	const char *container; /* id prefix */
	long duration;	       /* seconds, 0: until Ctrl-C */
	const char *probe_file;
	const char *record;
	const char *replay;
	const char *tls_libs[OPT_MAX_TLS_LIBS];
	size_t ntls_libs;
	enum probe_hooks hooks; /* --hooks */
	bool no_tls;
	bool ebpf;
	bool no_probe_cache;
	bool verbose;
	struct sink_config sinks; /* -f, -o, -b, the views (the clock
				   * offset and statistics are set later) */
	struct redact redact;
	struct filter filter;	  /* --method, --path, --host, --status,
				   * --min-latency */
};

/* What options_parse() returns besides 0 and an exit status: --help or
 * --version was printed, and the program is done. */
#define OPTIONS_DONE (-1)

/* Fills o (which must be zeroed) from argv.  Returns 0 to go on,
 * OPTIONS_DONE, or 2 after printing what is wrong and the usage to
 * stderr. */
int options_parse(int argc, char **argv, struct options *o);

/* The usage and --help text. */
void options_usage(FILE *f);

#endif
