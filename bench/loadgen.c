/* loadgen.c -- the benchmarks' HTTP/1.1 client: paced keep-alive load at a fixed rate, or many idle connections held open.
 *
 * Built by bench/run with `cc -O2`; no dependency beyond libc.
 *
 *   loadgen -p PORT [-a ADDR] [-u PATH] [-c CONNS] [-r RATE] [-d SECONDS]
 *           [-n COUNT] [-k REQS_PER_CONN]
 *   loadgen -p PORT --hold -c CONNS [-d SECONDS]
 *
 * Rate mode: CONNS keep-alive connections, each sending one request at a
 * time on its own schedule (RATE/CONNS requests per second, staggered), so
 * the total is RATE requests per second while the server keeps up.  A
 * connection whose response arrives after its next slot sends at once
 * (catching up), so a slow server shows as a lower achieved rate, not as a
 * silently smaller load.  -r 0 sends as fast as the server answers.  The
 * send phase ends after -d seconds or -n requests; responses still due are
 * awaited for up to 2 seconds.  -k closes and reopens a connection after
 * that many requests (connection churn).
 *
 * Hold mode: opens CONNS connections (at most 256 connects in flight), each
 * sends one request and reads the response; when all are done it prints
 * "holding N" on stdout and keeps them open until SIGTERM/SIGINT or -d
 * seconds.
 *
 * Both modes end with one JSON object on stdout: counts, achieved rate,
 * latency percentiles (send to last response byte) and the client's own
 * CPU time.  Responses must be framed by Content-Length (nginx's `return`,
 * static files and the demo's routes are).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR_MAX 4096         /* response head bytes buffered per connection */
#define MAX_CONNS 60000
#define HOLD_INFLIGHT 256    /* connects in flight in hold mode */
#define DRAIN_NS 2000000000ULL
#define LAT_MAX (64u << 20)  /* latency samples kept (enough for 20 min at 50k/s) */

enum state { S_CONNECTING, S_IDLE, S_WAIT_HEAD, S_WAIT_BODY, S_HELD, S_DEAD };

struct conn {
	int fd;
	enum state st;
	uint64_t next_ns;   /* scheduled time of the next request */
	uint64_t sent_ns;   /* when the request in flight was sent */
	uint64_t nreq;      /* requests completed on this connection */
	uint64_t body_left;
	size_t hlen;
	char hdr[HDR_MAX];
};

static volatile sig_atomic_t stop;
static struct sockaddr_in g_addr;
static char g_req[1024];
static size_t g_req_len;
static int g_ep;
static struct conn *g_conns;
static int g_nconns;
static double g_rate;
static uint64_t g_interval_ns; /* per connection */
static uint64_t g_reconnect_every;
static uint64_t g_sent, g_ok, g_errors, g_connects, g_connect_errors, g_bad;
static uint64_t g_bytes;
static uint64_t g_last_ok_ns; /* when the last response completed */
static uint32_t *g_lat;
static size_t g_nlat;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void lat_add(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (g_nlat < LAT_MAX)
		g_lat[g_nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int conn_open(struct conn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT };
	int one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&g_addr, sizeof(g_addr)) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return -e;
	}
	c->fd = fd;
	c->st = S_CONNECTING;
	c->hlen = 0;
	ev.data.ptr = c;
	if (epoll_ctl(g_ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		close(fd);
		c->fd = -1;
		return -e;
	}
	g_connects++;
	return 0;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(g_ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->st = S_DEAD;
}

static int conn_send(struct conn *c, uint64_t now)
{
	ssize_t n = send(c->fd, g_req, g_req_len, MSG_NOSIGNAL);

	if (n != (ssize_t)g_req_len) {
		/* a 40-byte request on an idle socket is never partial */
		g_errors++;
		return -1;
	}
	c->sent_ns = now;
	c->st = S_WAIT_HEAD;
	c->hlen = 0;
	g_sent++;
	return 0;
}

/* Parses the head in c->hdr; returns the bytes of body already buffered
 * beyond the head, or -1 when the head is not complete yet, -2 on error. */
static long head_done(struct conn *c)
{
	char *end = memmem(c->hdr, c->hlen, "\r\n\r\n", 4);
	char *p;
	size_t hl;

	if (!end)
		return c->hlen >= HDR_MAX ? -2 : -1;
	hl = (size_t)(end - c->hdr) + 4;
	end[2] = '\0';
	if (strncmp(c->hdr, "HTTP/1.", 7))
		return -2;
	p = strcasestr(c->hdr, "\ncontent-length:");
	if (!p)
		return -2;
	c->body_left = strtoull(p + 16, NULL, 10);
	return (long)(c->hlen - hl);
}

/* One response is complete. */
static void conn_done(struct conn *c, uint64_t now)
{
	g_ok++;
	g_last_ok_ns = now;
	c->nreq++;
	lat_add(now - c->sent_ns);
	c->st = S_IDLE;
	if (g_interval_ns) {
		c->next_ns += g_interval_ns;
	} else {
		c->next_ns = now;
	}
}

static void conn_read(struct conn *c, uint64_t now)
{
	char buf[65536];

	for (;;) {
		ssize_t n;

		if (c->st == S_WAIT_HEAD || c->st == S_HELD) {
			if (c->st == S_HELD) {
				n = recv(c->fd, buf, sizeof(buf), 0);
				if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
					g_errors++;
					conn_close(c);
				}
				return;
			}
			n = recv(c->fd, c->hdr + c->hlen, HDR_MAX - c->hlen, 0);
			if (n > 0) {
				long extra;

				g_bytes += (uint64_t)n;
				c->hlen += (size_t)n;
				extra = head_done(c);
				if (extra == -1)
					continue;
				if (extra == -2) {
					g_bad++;
					conn_close(c);
					return;
				}
				if ((uint64_t)extra > c->body_left) {
					g_bad++; /* pipelined bytes we never asked for */
					conn_close(c);
					return;
				}
				c->body_left -= (uint64_t)extra;
				c->st = S_WAIT_BODY;
				if (!c->body_left) {
					conn_done(c, now);
					return;
				}
				continue;
			}
		} else if (c->st == S_WAIT_BODY) {
			size_t want = c->body_left < sizeof(buf) ? (size_t)c->body_left : sizeof(buf);

			n = recv(c->fd, buf, want, 0);
			if (n > 0) {
				g_bytes += (uint64_t)n;
				c->body_left -= (uint64_t)n;
				if (!c->body_left) {
					conn_done(c, now);
					return;
				}
				continue;
			}
		} else {
			/* data while idle: unexpected (a close is fine) */
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n > 0) {
				g_bad++;
				conn_close(c);
				return;
			}
		}
		if (n == 0) {
			if (c->st != S_IDLE)
				g_errors++;
			conn_close(c);
			return;
		}
		if (errno == EAGAIN || errno == EINTR)
			return;
		g_errors++;
		conn_close(c);
		return;
	}
}

static void print_summary(const char *mode, uint64_t t0, uint64_t t_end)
{
	struct rusage ru;
	double el = (double)(t_end - t0) / 1e9;
	uint32_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, mx = 0;

	getrusage(RUSAGE_SELF, &ru);
	if (g_nlat) {
		qsort(g_lat, g_nlat, sizeof(*g_lat), cmp_u32);
		p50 = g_lat[g_nlat * 50 / 100];
		p90 = g_lat[g_nlat * 90 / 100];
		p99 = g_lat[g_nlat * 99 / 100];
		p999 = g_lat[g_nlat * 999 / 1000];
		mx = g_lat[g_nlat - 1];
	}
	printf("{\"mode\":\"%s\",\"conns\":%d,\"target_rate\":%.0f,\"sent\":%llu,\"ok\":%llu,"
	       "\"errors\":%llu,\"bad\":%llu,\"connects\":%llu,\"connect_errors\":%llu,"
	       "\"bytes\":%llu,\"elapsed_s\":%.3f,\"rate\":%.1f,"
	       "\"lat_us\":{\"p50\":%u,\"p90\":%u,\"p99\":%u,\"p999\":%u,\"max\":%u},"
	       "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f}\n",
	       mode, g_nconns, g_rate, (unsigned long long)g_sent, (unsigned long long)g_ok,
	       (unsigned long long)g_errors, (unsigned long long)g_bad,
	       (unsigned long long)g_connects, (unsigned long long)g_connect_errors,
	       (unsigned long long)g_bytes, el, el > 0 ? (double)g_ok / el : 0.0,
	       p50, p90, p99, p999, mx,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	fflush(stdout);
}

static void raise_nofile(int want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < (rlim_t)want) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)want ? rl.rlim_max : (rlim_t)want;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* epoll_wait with a nanosecond deadline (0: return at once, UINT64_MAX: 100 ms). */
static int wait_events(struct epoll_event *evs, int max, uint64_t now, uint64_t deadline)
{
	uint64_t d = deadline > now ? deadline - now : 0;
	struct timespec ts;

	if (d > 100000000ULL)
		d = 100000000ULL;
	ts.tv_sec = (time_t)(d / 1000000000ULL);
	ts.tv_nsec = (long)(d % 1000000000ULL);
	{
		static bool no_pwait2;
		int n;

		if (!no_pwait2) {
			n = epoll_pwait2(g_ep, evs, max, &ts, NULL);
			if (n >= 0 || errno != ENOSYS)
				return n;
			no_pwait2 = true;
		}
	}
	return epoll_wait(g_ep, evs, max, d ? (int)((d + 999999) / 1000000) : 0);
}

static int run_rate(double dur, uint64_t count)
{
	struct epoll_event evs[256];
	uint64_t t0 = now_ns(), end = dur > 0 ? t0 + (uint64_t)(dur * 1e9) : UINT64_MAX;
	uint64_t drain_until = 0, t_last = t0;
	bool sending = true;
	int i;

	g_interval_ns = g_rate > 0 ? (uint64_t)(1e9 * g_nconns / g_rate) : 0;
	for (i = 0; i < g_nconns; i++) {
		struct conn *c = &g_conns[i];

		c->next_ns = t0 + (g_interval_ns ? g_interval_ns * (uint64_t)i / (uint64_t)g_nconns : 0);
		if (conn_open(c) < 0) {
			g_connect_errors++;
			c->st = S_DEAD;
		}
	}
	while (!stop) {
		uint64_t now = now_ns(), next = UINT64_MAX;
		int n, busy = 0;

		if (sending && (now >= end || (count && g_sent >= count))) {
			sending = false;
			drain_until = now + DRAIN_NS;
		}
		for (i = 0; i < g_nconns; i++) {
			struct conn *c = &g_conns[i];

			if (c->st == S_WAIT_HEAD || c->st == S_WAIT_BODY || c->st == S_CONNECTING)
				busy++;
			if (!sending)
				continue;
			if (c->st == S_DEAD) {
				/* the server closed it (e.g. keepalive_requests): reopen */
				if (conn_open(c) < 0)
					g_connect_errors++;
				continue;
			}
			if (c->st != S_IDLE)
				continue;
			if (g_reconnect_every && c->nreq >= g_reconnect_every) {
				conn_close(c);
				c->nreq = 0;
				if (conn_open(c) < 0)
					g_connect_errors++;
				continue;
			}
			if (count && g_sent >= count)
				continue;
			if (c->next_ns <= now) {
				if (conn_send(c, now) < 0)
					conn_close(c);
				else
					busy++;
			} else if (c->next_ns < next) {
				next = c->next_ns;
			}
		}
		if (!sending && (!busy || now >= drain_until))
			break;
		n = wait_events(evs, 256, now, next);
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->st == S_CONNECTING) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (!(evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
					continue;
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err) {
					g_connect_errors++;
					conn_close(c);
					continue;
				}
				/* only input from now on */
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
				epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev);
				c->st = S_IDLE;
				if (c->next_ns < now && g_interval_ns && c->next_ns + g_interval_ns * 4 < now)
					c->next_ns = now; /* a reconnect does not owe a burst */
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				conn_read(c, now);
			if (c->st == S_IDLE && sending && c->next_ns <= now && !(count && g_sent >= count)) {
				if (conn_send(c, now) < 0)
					conn_close(c);
			}
			t_last = now;
		}
	}
	(void)t_last;
	print_summary("rate", t0, g_last_ok_ns ? g_last_ok_ns : now_ns());
	return 0;
}

static int run_hold(double dur)
{
	struct epoll_event evs[256];
	uint64_t t0 = now_ns(), t_held = 0, end = 0;
	int opened = 0, inflight = 0, held = 0, failed = 0;

	while (!stop) {
		uint64_t now = now_ns();
		int n, i;

		while (opened < g_nconns && inflight < HOLD_INFLIGHT) {
			struct conn *c = &g_conns[opened++];

			if (conn_open(c) < 0) {
				g_connect_errors++;
				failed++;
				c->st = S_DEAD;
				continue;
			}
			inflight++;
		}
		if (!t_held && held + failed >= g_nconns) {
			t_held = now;
			printf("holding %d\n", held);
			fflush(stdout);
			if (dur > 0)
				end = now + (uint64_t)(dur * 1e9);
		}
		if (end && now >= end)
			break;
		n = wait_events(evs, 256, now, UINT64_MAX);
		now = now_ns();
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (c->st == S_CONNECTING) {
				int err = 0;
				socklen_t len = sizeof(err);

				if (!(evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
					continue;
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err) {
					g_connect_errors++;
					conn_close(c);
					inflight--;
					failed++;
					continue;
				}
				struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
				epoll_ctl(g_ep, EPOLL_CTL_MOD, c->fd, &ev);
				if (conn_send(c, now) < 0) {
					conn_close(c);
					inflight--;
					failed++;
				}
				continue;
			}
			if (c->st == S_DEAD)
				continue;
			{
				enum state before = c->st;

				conn_read(c, now);
				if (before != S_HELD && c->st == S_IDLE) {
					c->st = S_HELD;
					inflight--;
					held++;
				} else if (before != S_HELD && c->st == S_DEAD) {
					inflight--;
					failed++;
				} else if (before == S_HELD && c->st == S_DEAD) {
					held--;
				}
			}
		}
	}
	print_summary("hold", t0, now_ns());
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: loadgen -p PORT [-a ADDR] [-u PATH] [-c CONNS] [-r RATE] [-d SECONDS]\n"
		   "               [-n COUNT] [-k REQS_PER_CONN] [--hold]\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *addr = "127.0.0.1", *path = "/";
	struct sigaction sa = { .sa_handler = on_signal };
	double dur = 0;
	uint64_t count = 0;
	int port = 0, opt, ret;
	bool hold = false;

	g_nconns = 16;
	while ((opt = getopt_long(argc, argv, "a:p:u:c:r:d:n:k:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'u': path = optarg; break;
		case 'c': g_nconns = atoi(optarg); break;
		case 'r': g_rate = atof(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'n': count = strtoull(optarg, NULL, 10); break;
		case 'k': g_reconnect_every = strtoull(optarg, NULL, 10); break;
		case 'H': hold = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (port <= 0 || port > 65535 || g_nconns < 1 || g_nconns > MAX_CONNS || g_rate < 0 ||
	    (!hold && dur <= 0 && !count)) {
		usage(stderr);
		return 2;
	}
	g_addr.sin_family = AF_INET;
	g_addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &g_addr.sin_addr) != 1) {
		fprintf(stderr, "loadgen: bad address %s\n", addr);
		return 2;
	}
	g_req_len = (size_t)snprintf(g_req, sizeof(g_req),
				     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: httpsnoop-bench\r\n\r\n",
				     path, addr, port);
	raise_nofile(g_nconns + 64);
	g_conns = calloc((size_t)g_nconns, sizeof(*g_conns));
	g_lat = malloc(sizeof(*g_lat) * (hold ? (size_t)g_nconns + 1 : LAT_MAX));
	g_ep = epoll_create1(EPOLL_CLOEXEC);
	if (!g_conns || !g_lat || g_ep < 0) {
		fprintf(stderr, "loadgen: failed to allocate: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 0; i < g_nconns; i++)
		g_conns[i].fd = -1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ret = hold ? run_hold(dur) : run_rate(dur, count);
	return ret;
}
