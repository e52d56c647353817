/* top.c -- the top sink (--top): a full-screen view of the busiest endpoints, redrawn every second, with keys for the sort order; ncurses. */
#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "core/util.h"
#include "prof/prof.h"
#include "prof/topview.h"
#include "sink/sink.h"

#define TOP_REFRESH_NS 1000000000ULL /* an interval: one redraw */
#define TOP_ENDPOINTS_PER_ROUTE 4

struct top {
	struct prof *prof;
	struct endpoint_table *t;
	SCREEN *scr;
	bool on;		  /* the screen is ours (between newterm and
				   * endwin) */
	bool quit;		  /* q was pressed */
	enum endpoint_sort sort;
	uint64_t start, last;	  /* first tick, and the interval's start */
	bool drawn;		  /* once: the screen is cleared of what
				   * was printed before the first draw */
	double interval_s;	  /* the last interval's length */
	void (*stats)(void *ctx, struct stats_view *v, uint64_t *kernel, uint64_t *gauges);
	void *stats_ctx;
};

/* For exit() from anywhere: the terminal is given back in any case. */
static struct top *top_active;

static void top_restore(void)
{
	if (top_active && top_active->on) {
		endwin();
		top_active->on = false;
	}
}

static bool top_wanted(const struct sink_config *cfg, const void *arg)
{
	return cfg->top;
}

static void top_close(void *p);

static void *top_open(const struct sink_config *cfg, const void *arg)
{
	struct top *t = calloc(1, sizeof(*t));

	if (!t) {
		warn("failed to allocate --top: %s", strerror(ENOMEM));
		return NULL;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		warn("--top needs a terminal on stdin and stdout; use --summary or --metrics "
		     "without one");
		free(t);
		errno = ENOTTY;
		return NULL;
	}
	t->sort = ES_RATE;
	t->stats = cfg->stats;
	t->stats_ctx = cfg->stats_ctx;
	t->prof = prof_get(cfg->routes, cfg->nroutes, cfg->max_routes);
	t->t = endpoint_table_new(cfg->max_routes * TOP_ENDPOINTS_PER_ROUTE,
				  ENDPOINT_PERCENTILES | ENDPOINT_INTERVAL);
	if (!t->prof || !t->t) {
		warn("failed to allocate --top: %s", strerror(ENOMEM));
		top_close(t);
		errno = ENOMEM;
		return NULL;
	}
	/* UTF-8 ("µs") on the screen; only the character type: numbers are
	 * printed the C way everywhere else. */
	setlocale(LC_CTYPE, "");
	t->scr = newterm(NULL, stdout, stdin);
	if (!t->scr) {
		warn("--top: failed to set up the terminal (TERM=%s)",
		     getenv("TERM") ? getenv("TERM") : "");
		top_close(t);
		errno = ENOTTY;
		return NULL;
	}
	t->on = true;
	top_active = t;
	atexit(top_restore);
	cbreak();
	noecho();
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	erase();
	mvaddstr(0, 0, "httpsnoop top: starting...");
	refresh();
	return t;
}

static void top_txn(void *p, const struct txn *tx)
{
	struct top *t = p;
	struct endpoint_obs o;

	if (prof_observe(t->prof, tx, &o))
		endpoint_record(t->t, &o);
}

/* A line of statistics for the view. */
static void top_status(struct top *t, char *buf, size_t len)
{
	uint64_t kernel[HS_STAT_MAX] = { 0 }, gauges[STAT_G_MAX] = { 0 }, v;
	struct stats_view sv = { 0 };
	size_t o = 0;
	static const char *const shown[] = {
		"transactions", "lost events", "gap bytes", "parse errors", "open connections",
	};

	buf[0] = '\0';
	if (!t->stats)
		return;
	t->stats(t->stats_ctx, &sv, kernel, gauges);
	for (size_t i = 0; i < stats_count && sv.user; i++) {
		for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
			if (strcmp(stats_table[i].name, shown[k]) ||
			    !stats_value(&stats_table[i], &sv, &v))
				continue;
			o += (size_t)snprintf(buf + o, len - o, "%s%s %llu", o ? ", " : "",
					      stats_table[i].name, (unsigned long long)v);
			if (o >= len)
				return;
		}
	}
	if (route_overflow(prof_routes(t->prof)) && o < len)
		snprintf(buf + o, len - o, ", {other} %llu",
			 (unsigned long long)route_overflow(prof_routes(t->prof)));
}

static void top_draw(struct top *t, uint64_t now)
{
	struct topview_opts o = {
		.width = (unsigned)COLS,
		.height = (unsigned)LINES,
		.sort = t->sort,
		.interval_s = t->interval_s > 0 ? t->interval_s : 1,
		.elapsed_s = t->start ? (double)(now - t->start) / 1e9 : 0,
	};
	char clock[16], status[256], *text = NULL, *line, *nl;
	size_t len = 0;
	time_t wall = time(NULL);
	struct tm tm;
	FILE *f;
	int y = 0;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime_r(&wall, &tm));
	top_status(t, status, sizeof(status));
	o.clock = clock;
	o.status = status;
	f = open_memstream(&text, &len);
	if (!f)
		return;
	topview_render(f, t->t, prof_routes(t->prof), &o);
	if (fclose(f)) {
		free(text);
		return;
	}
	erase();
	if (!t->drawn) {
		clearok(curscr, TRUE);
		t->drawn = true;
	}
	for (line = text; line && *line && y < LINES; line = nl ? nl + 1 : NULL, y++) {
		/* the title and the column headings as bars across the
		 * screen, the groups' headings bold */
		bool bar = y == 0 || y == TOPVIEW_HEAD - 1;
		attr_t a = bar ? A_REVERSE : y == TOPVIEW_HEAD - 2 ? A_BOLD : A_NORMAL;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		attron(a);
		mvaddstr(y, 0, line);
		attroff(a);
		if (bar)
			mvchgat(y, 0, -1, A_REVERSE, 0, NULL);
	}
	refresh();
	free(text);
}

static void top_tick(void *p, uint64_t now)
{
	struct top *t = p;
	bool redraw = false;
	int ch, k;

	if (!t->on)
		return;
	if (!t->start) {
		t->start = t->last = now;
		redraw = true;
	}
	while ((ch = getch()) != ERR) {
		if (ch == KEY_RESIZE) {
			redraw = true;
			continue;
		}
		k = topview_key(ch);
		if (k == TOPVIEW_QUIT)
			t->quit = true;
		else if (k != TOPVIEW_NONE && (enum endpoint_sort)k != t->sort)
			t->sort = (enum endpoint_sort)k, redraw = true;
	}
	if (now - t->last >= TOP_REFRESH_NS) {
		t->interval_s = (double)(now - t->last) / 1e9;
		t->last = now;
		endpoint_tick(t->t);
		redraw = true;
	}
	if (redraw)
		top_draw(t, now);
}

static int top_flush(void *p)
{
	struct top *t = p;

	return t->quit ? -ECANCELED : 0;
}

/* At the end the screen goes first, so that the statistics and a
 * summary print on the terminal as it was. */
static void top_report(void *p, bool end)
{
	struct top *t = p;

	if (end)
		top_restore();
	else if (t->on)
		clearok(curscr, TRUE); /* the statistics wrote over it */
}

static void top_close(void *p)
{
	struct top *t = p;

	if (!t)
		return;
	top_restore();
	if (t->scr)
		delscreen(t->scr);
	if (top_active == t)
		top_active = NULL;
	endpoint_table_free(t->t);
	prof_put(t->prof);
	free(t);
}

const struct sink_ops top_sink = {
	.name = "top",
	.wanted = top_wanted,
	.open = top_open,
	.txn = top_txn,
	.tick = top_tick,
	.flush = top_flush,
	.report = top_report,
	.close = top_close,
};
