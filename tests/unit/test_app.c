/* test_app.c -- unit test of the command line's tables: options (values taken and refused, --help in step with what is accepted), the periodic timers, and the statistics table (every counter named once).
 *
 * Exits 0 only if every check passed, printing each failure to stderr;
 * an argument runs only the parts whose name contains it.
 */
#include <fcntl.h>
#include <getopt.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/filter.h"
#include "app/options.h"
#include "app/timer.h"
#include "core/stats.h"
#include "harness.h"

/* ---- options ---------------------------------------------------------- */

/* Parses the words of line (split at spaces) into o, with what it prints
 * to stdout and stderr sent to /dev/null. */
static int parse(const char *line, struct options *o)
{
	char buf[512], *argv[32], *save = NULL;
	int argc = 0, ret, out = dup(1), err = dup(2);
	FILE *null = fopen("/dev/null", "w");

	snprintf(buf, sizeof(buf), "httpsnoop %s", line);
	for (char *w = strtok_r(buf, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	memset(o, 0, sizeof(*o));
	optind = 0; /* glibc: start getopt over */
	fflush(stdout);
	dup2(fileno(null), 1);
	dup2(fileno(null), 2);
	ret = options_parse(argc, argv, o);
	fflush(stdout);
	fflush(stderr);
	dup2(out, 1);
	dup2(err, 2);
	close(out);
	close(err);
	fclose(null);
	return ret;
}

static void test_values(void)
{
	static const struct {
		const char *args;
		int ret;
	} t[] = {
		{ "", 0 }, { "-p 1 -p 2147483647", 0 }, { "-p 0", 2 }, { "-p abc", 2 },
		{ "-p -5", 2 }, { "-p 99999999999", 2 }, { "-P 1 -P 65535", 0 },
		{ "-P 0", 2 }, { "-P 65536", 2 }, { "-P 80x", 2 }, { "-c nginx", 0 },
		{ "-c 0123456789abcdef", 2 }, { "-f json", 0 }, { "-f text", 0 },
		{ "-f xml", 2 }, { "-f", 2 }, { "-b 0", 0 }, { "-b 1048576", 0 },
		{ "-b 1048577", 2 }, { "-b -1", 2 }, { "-b 1k", 2 }, { "-d 1", 0 },
		{ "-d 0", 2 }, { "-d 1.5", 2 }, { "--container 3f2a", 0 },
		{ "--container 3F2A", 2 }, { "--container xyz", 2 },
		{ "--tls-lib /x --tls-lib /y", 0 }, { "--no-tls --tls-lib /x", 2 },
		{ "--record a --replay b", 2 }, { "--container ab --replay b", 2 },
		{ "--no-redact", 0 }, { "--redact-header X-Token --redact-query key", 0 },
		{ "--hooks sock", 0 }, { "--hooks syscall", 0 }, { "--hooks auto", 0 },
		{ "--hooks=syscall", 0 }, { "--hooks kprobe", 2 }, { "--hooks", 2 },
		{ "--hooks=", 2 },
		{ "--no-such-option", 2 }, { "-Z", 2 }, { "stray", 2 },
		{ "--help", OPTIONS_DONE }, { "-V", OPTIONS_DONE }, { "--vers", OPTIONS_DONE },
		{ "--pid=5 --port=80 --max-body=7", 0 },
		{ "--body-lines 0", 0 }, { "--body-lines 1000000", 0 },
		{ "--body-lines -1", 2 }, { "--body-lines 1000001", 2 }, { "--body-lines x", 2 },
		/* the profiler's views and the display filters */
		{ "--summary --summary-json s.json --har h.har", 0 }, { "--top", 0 },
		{ "--metrics 9464", 0 }, { "--metrics 0.0.0.0:9464", 0 },
		{ "--metrics [::1]:9464", 0 }, { "--metrics 0", 2 }, { "--metrics :80", 2 },
		{ "--metrics x:y", 2 }, { "--top --replay r", 2 }, { "--metrics 1 --replay r", 2 },
		{ "--summary --har h --replay r", 0 }, { "--top -f json", 2 },
		{ "--top -o f", 0 }, { "--top -o -", 2 },
		{ "--route /a/{id} --route /a/new", 0 }, { "--route a/{id}", 2 },
		{ "--route /a/{id --route /b", 2 }, { "--route /a/{x} --route /a/{y}", 2 },
		{ "--max-routes 1", 0 }, { "--max-routes 0", 2 }, { "--max-routes 1000001", 2 },
		{ "--method GET,POST --method M-SEARCH", 0 }, { "--method G/T", 2 },
		{ "--method ,", 2 }, { "--path /api/* --path /x", 0 }, { "--path=", 2 },
		{ "--host *.example.com", 0 }, { "--host=", 2 }, { "--status 404,5xx,400-499", 0 },
		{ "--status 6", 2 }, { "--status 500-400", 2 }, { "--min-latency 250us", 0 },
		{ "--min-latency 1m30s", 0 }, { "--min-latency 5", 2 }, { "--min-latency 1d", 2 },
		{ "--unix /run/podman/podman.sock", 0 }, { "--unix @containerd-shim", 0 },
		{ "--unix /run/*.sock --unix /var/run/docker.sock", 0 },
		{ "--unix podman.sock", 2 }, { "--unix ./x.sock", 2 }, { "--unix", 2 },
		{ "--unix /" "0123456789012345678901234567890123456789012345678901234567890123456789"
		  "0123456789012345678901234567890123456", 0 },
		{ "--unix /" "0123456789012345678901234567890123456789012345678901234567890123456789"
		  "01234567890123456789012345678901234567", 2 },
		{ "--unix=/1 --unix=/2 --unix=/3 --unix=/4 --unix=/5 --unix=/6 --unix=/7 "
		  "--unix=/8 --unix=/9 --unix=/10 --unix=/11 --unix=/12 --unix=/13 "
		  "--unix=/14 --unix=/15 --unix=/16", 0 },
		{ "--unix=/1 --unix=/2 --unix=/3 --unix=/4 --unix=/5 --unix=/6 --unix=/7 "
		  "--unix=/8 --unix=/9 --unix=/10 --unix=/11 --unix=/12 --unix=/13 "
		  "--unix=/14 --unix=/15 --unix=/16 --unix=/17", 2 },
	};
	struct options o;

	section("option values");

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = parse(t[i].args, &o);

		CHECK(r == t[i].ret, "\"%s\": returned %d, expected %d", t[i].args, r, t[i].ret);
	}
	CHECK(parse("--body-lines 7", &o) == 0 && o.sinks.body_lines == 7,
	      "--body-lines 7: %zu", o.sinks.body_lines);
	CHECK(parse("", &o) == 0 && o.sinks.body_lines == OPT_DEFAULT_BODY_LINES &&
		      o.sinks.max_body == OPT_DEFAULT_MAX_BODY &&
		      o.sinks.format == SINK_TEXT && !o.sinks.output && o.redact.nheaders == 5,
	      "defaults: max_body %zu, format %d", o.sinks.max_body, (int)o.sinks.format);
	CHECK(parse("-p 7 -p 8 -P 443 -c curl -o f -f json -b 9 -d 3 -v", &o) == 0 &&
		      o.npids == 2 && o.pids[1] == 8 && o.nports == 1 && o.ports[0] == 443 &&
		      !strcmp(o.comm, "curl") && !strcmp(o.sinks.output, "f") &&
		      o.sinks.format == SINK_JSON && o.sinks.max_body == 9 && o.duration == 3 &&
		      o.verbose,
	      "values not taken");
	CHECK(parse("--summary --route /a/{id} --max-routes 7 --status 5xx -f json", &o) == 0 &&
		      o.sinks.summary && o.sinks.nroutes == 1 && o.sinks.max_routes == 7 &&
		      o.filter.by_status && o.sinks.stream,
	      "profiler options not taken");
	CHECK(parse("--top", &o) == 0 && o.sinks.top && !o.sinks.stream &&
		      o.sinks.max_routes == ROUTE_MAX_DEFAULT,
	      "--top: stream %d", o.sinks.stream);
	CHECK(parse("--redact-header X-Token --redact-query key --no-redact", &o) == 0 &&
		      o.redact.nheaders == 6 && o.redact.nquery == 1 && o.redact.off,
	      "redaction options not taken");
	family_end("-");
}

/* A value for the argument --help shows after an option's name. */
static const char *placeholder_value(const char *after)
{
	static const char *const v[][2] = {
		{ " PID ", " 1" }, { " COMM ", " x" }, { " PORT ", " 80" },
		{ " ID ", " ab" }, { " FILE ", " f" }, { " FMT ", " json" },
		{ " N ", " 1" }, { " SECS ", " 1" }, { " PATH ", " /x" },
		{ " NAME ", " X" }, { " HOW ", " syscall" }, { " M ", " GET" }, { " GLOB ", " /x" },
		{ " SPEC ", " 5xx" }, { " D ", " 1ms" }, { " [ADDR:]PORT ", " 9464" },
		{ " PATTERN ", " /a/{id}" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strncmp(after, v[i][0], strlen(v[i][0])))
			return v[i][1];
	return "";
}

/* Every option --help lists is accepted, every line fits 80 columns, and
 * each accepted long option (getopt_long's table is made from the same
 * table) shows in --help. */
static void test_help(void)
{
	char *text = NULL, *line, *save = NULL;
	size_t len = 0, listed = 0;
	FILE *f = open_memstream(&text, &len);
	struct options o;

	section("--help");

	options_usage(f);
	fclose(f);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[64], args[96];

		CHECK(strlen(line) <= 80, "help line over 80 columns: %s", line);
		if (sscanf(line, " %*[-a-zA-Z], --%63[a-z-]", name) != 1 &&
		    sscanf(line, " --%63[a-z-]", name) != 1)
			continue;
		listed++;
		/* its argument's placeholder, if it shows one, stands for
		 * a value of this kind */
		snprintf(args, sizeof(args), "--%s%s", name,
			 placeholder_value(strstr(line, name) + strlen(name)));
		CHECK(parse(args, &o) != 2, "--help lists --%s, which is refused (%s)", name, args);
	}
	CHECK(listed > 10, "--help: only %zu options found in it", listed);
	free(text);
	family_end("-");
}

/* ---- timers ----------------------------------------------------------- */

static int runs[3];
static bool ready = true;

static bool count0(void *ctx, uint64_t now, uint64_t since)
{
	runs[0]++;
	return true;
}

static bool count1(void *ctx, uint64_t now, uint64_t since)
{
	runs[1]++;
	return true;
}

/* Not ready: asked again at every turn until it is. */
static bool count2(void *ctx, uint64_t now, uint64_t since)
{
	if (!ready)
		return false;
	runs[2]++;
	return true;
}

static void test_timers(void)
{
	struct timer t[] = {
		{ "every turn", 0, count0, false, 0 },
		{ "100, at start", 100, count1, true, 0 },
		{ "100", 100, count2, false, 0 },
	};

	section("timers");

	timers_start(t, 3, 1000);
	timers_run(t, 3, NULL, 1000);
	CHECK(runs[0] == 1 && runs[1] == 1 && runs[2] == 0, "first turn: %d %d %d",
	      runs[0], runs[1], runs[2]);
	timers_run(t, 3, NULL, 1100);
	CHECK(runs[1] == 1 && runs[2] == 0, "at exactly one period: %d %d", runs[1], runs[2]);
	ready = false;
	timers_run(t, 3, NULL, 1101);
	CHECK(runs[0] == 3 && runs[1] == 2 && runs[2] == 0, "past one period: %d %d %d",
	      runs[0], runs[1], runs[2]);
	ready = true;
	timers_run(t, 3, NULL, 1102);
	CHECK(runs[2] == 1, "not ready, then ready: %d runs", runs[2]);
	timers_run(t, 3, NULL, 1150);
	CHECK(runs[1] == 2 && runs[2] == 1, "within the period: %d %d", runs[1], runs[2]);
	timers_run(t, 3, NULL, 1203);
	CHECK(runs[1] == 3 && runs[2] == 2, "a period after their last runs: %d %d",
	      runs[1], runs[2]);
	family_end("-");
}

/* ---- statistics --------------------------------------------------------- */

/* Each counter of struct stats is in the table once, and every name fits
 * the printed column. */
static void test_stats(void)
{
	bool seen[sizeof(struct stats) / sizeof(uint64_t)] = { false };
	struct stats s = { 0 };
	uint64_t k[HS_STAT_MAX] = { 0 }, g[STAT_G_MAX] = { 0 }, c[STAT_C_MAX] = { 7, 8, 9 }, v;
	struct stats_view full = { &s, k, g, c, (1u << STAT_C_MAX) - 1 },
			  replay = { &s, NULL, NULL, NULL, 0 },
			  no_bpf_stats = { &s, k, g, c, 1u << STAT_C_CPU_US };
	size_t user = 0, shown = 0, costs = 0;

	section("statistics table");

	for (size_t i = 0; i < stats_count; i++) {
		const struct stat_desc *d = &stats_table[i];

		CHECK(strlen(d->name) <= STATS_NAME_MAX, "name too long: %s", d->name);
		CHECK(d->help && *d->help, "%s: no description", d->name);
		if (d->src == STAT_COST) {
			/* known or left out, by its bit */
			costs++;
			CHECK(d->at < STAT_C_MAX, "%s: cost %u", d->name, d->at);
			CHECK(stats_value(d, &full, &v) && v == c[d->at], "%s: value", d->name);
			CHECK(!stats_value(d, &replay, &v), "%s: shown in a replay", d->name);
			CHECK(stats_value(d, &no_bpf_stats, &v) == (d->at == STAT_C_CPU_US),
			      "%s: shown though unknown, or not though known", d->name);
		}
		if (d->src != STAT_USER)
			continue;
		CHECK(d->at % sizeof(uint64_t) == 0 && d->at < sizeof(s), "%s: offset %u",
		      d->name, d->at);
		CHECK(!seen[d->at / 8], "%s: a counter named twice", d->name);
		seen[d->at / 8] = true;
		user++;
		((uint64_t *)&s)[d->at / 8] = 1000 + i;
		CHECK(stats_value(d, &replay, &v) && v == 1000 + i, "%s: value", d->name);
	}
	CHECK(user == sizeof(s) / sizeof(uint64_t), "%zu of %zu counters in the table", user,
	      sizeof(s) / sizeof(uint64_t));
	for (size_t i = 0; i < stats_count; i++)
		shown += stats_value(&stats_table[i], &full, &v);
	CHECK(shown == stats_count, "a live run shows %zu of %zu", shown, stats_count);
	CHECK(costs == STAT_C_MAX, "%zu of %d costs in the table", costs, STAT_C_MAX);
	family_end("-");
}

/* ---- -P and --unix: which connections a run keeps -------------------- */

/* A connection: "tcp:PORT" (local port), or "unix:LOCAL|REMOTE" names
 * (resolved), or "unix?" (names unknown). */
static void mkconn(struct conn_info *c, struct hs_unix *u, const char *spec)
{
	memset(c, 0, sizeof(*c));
	memset(u, 0, sizeof(*u));
	if (!strncmp(spec, "tcp:", 4)) {
		c->local.family = c->remote.family = AF_INET;
		c->local.port = (uint16_t)atoi(spec + 4);
		c->remote.port = 55555;
		return;
	}
	c->local.family = c->remote.family = AF_UNIX;
	if (!strcmp(spec, "unix?"))
		return;
	const char *bar = strchr(spec, '|');

	u->resolved = 1;
	u->local_len = (uint8_t)(bar - spec - 5);
	memcpy(u->local, spec + 5, u->local_len);
	u->remote_len = (uint8_t)strlen(bar + 1);
	memcpy(u->remote, bar + 1, u->remote_len);
	c->unx = u;
}

static void test_conn_filter(void)
{
	static const struct {
		const char *args, *conn;
		bool want;
	} t[] = {
		/* no filter: everything */
		{ "", "tcp:80", true }, { "", "unix:/run/a.sock|", true }, { "", "unix?", true },
		/* -P: TCP on its ports, no Unix socket */
		{ "-P 80", "tcp:80", true }, { "-P 80", "tcp:81", false },
		{ "-P 80", "unix:/run/a.sock|", false },
		/* --unix: its paths, on a server's (local) or client's (remote)
		 * side, and no TCP */
		{ "--unix /run/a.sock", "unix:/run/a.sock|", true },
		{ "--unix /run/a.sock", "unix:|/run/a.sock", true },
		{ "--unix /run/a.sock", "unix:/run/b.sock|", false },
		{ "--unix /run/a.sock", "unix:/run/a.sockx|", false },
		{ "--unix /run/a.sock", "unix:/run/a|", false },
		{ "--unix /run/a.sock", "unix:|", false },
		{ "--unix /run/a.sock", "unix?", false },
		{ "--unix /run/a.sock", "tcp:80", false },
		/* globs, as the shell matches paths */
		{ "--unix /run/*.sock", "unix:/run/b.sock|", true },
		{ "--unix /run/*.sock", "unix:/run/podman/podman.sock|", false },
		{ "--unix /run/*/*.sock", "unix:|/run/podman/podman.sock", true },
		{ "--unix /run/?.sock", "unix:/run/ab.sock|", false },
		{ "--unix /run/[ab].sock", "unix:/run/b.sock|", true },
		/* abstract names */
		{ "--unix @shim", "unix:@shim|", true }, { "--unix @shim", "unix:/shim|", false },
		{ "--unix @shim*", "unix:|@shim-1234", true },
		/* several, and with -P */
		{ "--unix /x.sock --unix /run/a.sock", "unix:/run/a.sock|", true },
		{ "--unix /run/a.sock -P 80", "tcp:80", true },
		{ "--unix /run/a.sock -P 80", "tcp:81", false },
		{ "--unix /run/a.sock -P 80", "unix:/run/a.sock|", true },
		{ "--unix /run/a.sock -P 80", "unix:/run/c.sock|", false },
	};
	struct options o;
	struct conn_info c;
	struct hs_unix u;
	char dir[] = "/tmp/test_app.XXXXXX", link[64], real[64], args[160];

	section("-P and --unix");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (parse(t[i].args, &o)) {
			CHECK(0, "\"%s\" refused", t[i].args);
			continue;
		}
		mkconn(&c, &u, t[i].conn);
		CHECK(app_conn_wanted(&o, &c) == t[i].want, "\"%s\" on %s: %s, expected %s",
		      t[i].args, t[i].conn, t[i].want ? "dropped" : "kept",
		      t[i].want ? "kept" : "dropped");
	}
	/* a path spelled through a symlink matches the server's real one */
	if (!mkdtemp(dir))
		exit(2);
	snprintf(real, sizeof(real), "%s/real.sock", dir);
	snprintf(link, sizeof(link), "%s/link.sock", dir);
	if (close(creat(real, 0600)) || symlink(real, link))
		exit(2);
	snprintf(args, sizeof(args), "--unix %s", link);
	snprintf(u.local, sizeof(u.local), "%s", real);
	CHECK(parse(args, &o) == 0, "%s refused", args);
	mkconn(&c, &u, "unix?");
	u.resolved = 1;
	u.local_len = (uint8_t)strlen(real);
	memcpy(u.local, real, u.local_len);
	c.unx = &u;
	CHECK(app_conn_wanted(&o, &c), "--unix through a symlink does not match the real path");
	/* ... and the other way: a server that bound the symlinked path,
	 * asked for by its real path (live only: a replay has the names) */
	snprintf(args, sizeof(args), "--unix %s", real);
	CHECK(parse(args, &o) == 0, "%s refused", args);
	u.local_len = (uint8_t)strlen(link);
	memcpy(u.local, link, u.local_len);
	CHECK(app_conn_wanted(&o, &c), "a name through a symlink does not match the real path");
	snprintf(args, sizeof(args), "--unix %s --replay %s/rec", real, dir);
	CHECK(parse(args, &o) == 0 && !app_conn_wanted(&o, &c),
	      "a replay looked at the file system");
	unlink(link);
	unlink(real);
	rmdir(dir);
	family_end("-");
}

static const struct harness_test tests[] = {
	{ "option values", test_values },
	{ "-P and --unix", test_conn_filter },
	{ "--help", test_help },
	{ "timers", test_timers },
	{ "statistics table", test_stats },
};

int main(int argc, char **argv)
{
	return harness_main("test_app", argc, argv, NULL, 0, tests,
			    sizeof(tests) / sizeof(tests[0]));
}
