/* test_promserve.c -- unit test of the /metrics endpoint: address parsing, pages handed over by a loop thread, a busy loop, the loopback bind, other paths and methods. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sink/promserve.h"

#include "check.h"

static const struct {
	const char *arg;
	int family; /* 0: refused */
	const char *addr;
	int port;
} listens[] = {
	{ "9464", AF_INET, "127.0.0.1", 9464 },
	{ "0.0.0.0:9464", AF_INET, "0.0.0.0", 9464 },
	{ "127.0.0.5:1", AF_INET, "127.0.0.5", 1 },
	{ "[::1]:65535", AF_INET6, "::1", 65535 },
	{ "[::]:80", AF_INET6, "::", 80 },
	{ "", 0, NULL, 0 },
	{ "0", 0, NULL, 0 },
	{ "65536", 0, NULL, 0 },
	{ "-1", 0, NULL, 0 },
	{ "abc", 0, NULL, 0 },
	{ ":9464", 0, NULL, 0 },
	{ "127.0.0.1:", 0, NULL, 0 },
	{ "[::1]", 0, NULL, 0 },
	{ "127.0.0.1:http", 0, NULL, 0 },
	{ "no.such.host.invalid:9464", 0, NULL, 0 },
	{ "[]:9464", 0, NULL, 0 },
};

static void test_parse(void)
{
	for (size_t i = 0; i < sizeof(listens) / sizeof(listens[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		char buf[64] = "";
		const char *why = promserve_parse(listens[i].arg, &ss, &len);
		int port = 0;

		if (!listens[i].family) {
			CHECK(why != NULL, "'%s' accepted", listens[i].arg);
			continue;
		}
		CHECK(!why && ss.ss_family == listens[i].family, "'%s': %s", listens[i].arg,
		      why ? why : "wrong family");
		if (why)
			continue;
		if (ss.ss_family == AF_INET) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, sizeof(buf));
			port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		} else {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, sizeof(buf));
			port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		}
		CHECK(!strcmp(buf, listens[i].addr) && port == listens[i].port, "'%s' -> %s port %d",
		      listens[i].arg, buf, port);
	}
	{
		struct sockaddr_storage ss;
		socklen_t len;

		/* /etc/hosts names it, so no network is needed */
		CHECK(promserve_parse("localhost:9464", &ss, &len) == NULL, "localhost");
	}
}

/* One request; returns the status, the body in body (malloc()ed) and
 * the Content-Type in type. */
static int http(const char *addr, uint16_t port, const char *req, char **body, char *type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	char *buf = NULL, *p;
	size_t len = 0, cap = 0;
	ssize_t n;

	*body = NULL;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		status = -errno;
		close(fd);
		return status;
	}
	if (write(fd, req, strlen(req)) < 0)
		abort();
	do {
		if (len + 65536 > cap)
			buf = realloc(buf, cap = (len + 65536) * 2);
		n = read(fd, buf + len, cap - len - 1);
		len += n > 0 ? (size_t)n : 0;
	} while (n > 0);
	close(fd);
	buf[len] = '\0';
	sscanf(buf, "HTTP/1.%*d %d", &status);
	p = strcasestr(buf, "\r\nContent-Type: ");
	if (p && type)
		sscanf(p + 16, "%127[^\r]", type);
	p = strstr(buf, "\r\n\r\n");
	*body = strdup(p ? p + 4 : "");
	free(buf);
	return status;
}

struct loop {
	struct promserve *s;
	atomic_bool stop, paused;
	atomic_int pages;
};

/* The event loop's part: a page whenever one is wanted. */
static void *loop_run(void *arg)
{
	struct loop *l = arg;
	struct timespec ms = { 0, 1000000 };

	while (!atomic_load(&l->stop)) {
		if (!atomic_load(&l->paused) && promserve_wanted(l->s)) {
			char *page;
			int n = atomic_fetch_add(&l->pages, 1) + 1;

			if (asprintf(&page, "# TYPE httpsnoop_page_total counter\nhttpsnoop_page_total %d\n", n) < 0)
				abort();
			promserve_publish(l->s, page, strlen(page));
		}
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static void test_serve(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct loop l = { 0 };
	pthread_t th;
	uint16_t port;
	char *body, type[128] = "", want[64];
	int st, last = 0;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr); /* port 0: any */
	l.s = promserve_bind((struct sockaddr_storage *)&sa, sizeof(sa));
	CHECK(l.s != NULL, "bind: %s", strerror(errno));
	if (!l.s)
		return;
	port = promserve_port(l.s);
	CHECK(port != 0, "port");
	CHECK(promserve_run(l.s) == 0 && promserve_run(l.s) == 0, "run, twice");

	/* no loop yet: no page, after the wait */
	atomic_store(&l.paused, true);
	pthread_create(&th, NULL, loop_run, &l);
	st = http("127.0.0.1", port, "GET /metrics HTTP/1.0\r\n\r\n", &body, NULL);
	CHECK(st == 503, "before any page: %d", st);
	free(body);
	atomic_store(&l.paused, false);

	/* each scrape gets a page newer than the last one's (the loop may
	 * publish one more on its own while the flag of the first scrape
	 * is still up) */
	for (int i = 1; i <= 3; i++) {
		const char *p;
		int page = 0, before = atomic_load(&l.pages);

		st = http("127.0.0.1", port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			  &body, type);
		p = strstr(body, "\nhttpsnoop_page_total ");
		if (p)
			page = atoi(p + 22);
		CHECK(st == 200 && page > before && page > last, "scrape %d: %d, page %d after %d/%d", i,
		      st, page, before, last);
		last = page;
		CHECK(!strcmp(type, "text/plain; version=0.0.4; charset=utf-8"), "type '%s'", type);
		free(body);
	}
	CHECK(promserve_scrapes(l.s) == 4 && promserve_stale(l.s) == 1, "counts %llu %llu",
	      (unsigned long long)promserve_scrapes(l.s), (unsigned long long)promserve_stale(l.s));

	/* a busy loop: the last page, after the wait */
	atomic_store(&l.paused, true);
	st = http("127.0.0.1", port, "GET /metrics HTTP/1.0\r\n\r\n", &body, NULL);
	snprintf(want, sizeof(want), "httpsnoop_page_total %d\n", atomic_load(&l.pages));
	CHECK(st == 200 && strstr(body, want), "stale page: %d %s", st, body);
	CHECK(promserve_stale(l.s) == 2, "stale counted");
	free(body);
	atomic_store(&l.paused, false);

	/* other paths and methods */
	st = http("127.0.0.1", port, "GET / HTTP/1.0\r\n\r\n", &body, NULL);
	CHECK(st == 200 && strstr(body, "/metrics"), "index %d", st);
	free(body);
	st = http("127.0.0.1", port, "GET /metricsx HTTP/1.0\r\n\r\n", &body, NULL);
	CHECK(st == 404, "404: %d", st);
	free(body);
	st = http("127.0.0.1", port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", &body, NULL);
	CHECK(st == 405, "405: %d", st);
	free(body);
	st = http("127.0.0.1", port, "HEAD /metrics HTTP/1.0\r\n\r\n", &body, NULL);
	CHECK(st == 200 && !*body, "HEAD: %d '%s'", st, body);
	free(body);

	/* bound to 127.0.0.1 only: another loopback address is refused */
	st = http("127.0.0.2", port, "GET /metrics HTTP/1.0\r\n\r\n", &body, NULL);
	CHECK(st == -ECONNREFUSED, "127.0.0.2: %d", st);
	free(body);

	/* the port is taken */
	sa.sin_port = htons(port);
	errno = 0;
	CHECK(promserve_bind((struct sockaddr_storage *)&sa, sizeof(sa)) == NULL && errno == EADDRINUSE,
	      "second bind: %s", strerror(errno));

	atomic_store(&l.stop, true);
	pthread_join(th, NULL);
	promserve_stop(l.s);
	promserve_stop(NULL);
}

int main(void)
{
	test_parse();
	test_serve();
	return check_result("test_promserve");
}
