/* promserve.c -- the /metrics HTTP endpoint (libmicrohttpd, its own thread), fed with pages rendered by the event loop. */
#include "sink/promserve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/util.h"
#include "prof/prom.h"

/* A page is shared by the server and the responses still being sent
 * (no copy of a page of megabytes for each scrape): the last reference
 * frees it. */
struct promserve_page {
	atomic_uint refs;
	size_t len;
	char *buf; /* malloc()ed by the loop */
};

struct promserve {
	int fd;		  /* the listening socket until the daemon has it */
	struct MHD_Daemon *d;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct promserve_page *page; /* the last one published; under mu */
	uint64_t gen;	  /* pages published; under mu */
	atomic_bool wanted;
	_Atomic uint64_t scrapes, stale;
};

const char *promserve_parse(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *port = arg, *colon = strrchr(arg, ':');
	struct addrinfo hints = { 0 }, *ai = NULL;
	long p;

	snprintf(host, sizeof(host), "127.0.0.1");
	if (colon) {
		size_t n = (size_t)(colon - arg);

		port = colon + 1;
		if (n >= 2 && arg[0] == '[' && arg[n - 1] == ']') {
			arg++;
			n -= 2;
		}
		if (!n || n >= sizeof(host))
			goto bad;
		memcpy(host, arg, n);
		host[n] = '\0';
	}
	if (util_parse_long(port, 1, 65535, &p))
		goto bad;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &ai) || !ai)
		return "the address does not resolve";
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return NULL;
bad:
	return "expected [ADDR:]PORT with a port of 1-65535, e.g. 9464 (127.0.0.1), "
	       "0.0.0.0:9464 or [::1]:9464";
}

static void promserve_unref(void *cls)
{
	struct promserve_page *p = cls;

	if (p && atomic_fetch_sub(&p->refs, 1) == 1) {
		free(p->buf);
		free(p);
	}
}

/* A reply with a static body, or a page's (page not NULL: a reference
 * is taken for the response). */
static enum MHD_Result promserve_reply(struct MHD_Connection *c, unsigned code,
				       const char *type, const char *body, size_t len,
				       struct promserve_page *page)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (page) {
		atomic_fetch_add(&page->refs, 1);
		r = MHD_create_response_from_buffer_with_free_callback_cls(
			page->len, page->buf, promserve_unref, page);
		if (!r)
			promserve_unref(page);
	} else {
		r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* Waits (under mu) for a page newer than gen, up to PROMSERVE_WAIT_MS;
 * returns whether one came. */
static bool promserve_wait(struct promserve *s, uint64_t gen)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PROMSERVE_WAIT_MS / 1000;
	until.tv_nsec += (PROMSERVE_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (s->gen <= gen)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT)
			return s->gen > gen;
	return true;
}

static enum MHD_Result promserve_handle(void *cls, struct MHD_Connection *c,
					const char *url, const char *method,
					const char *version, const char *upload,
					size_t *upload_len, void **state)
{
	static const char index[] = "httpsnoop: the metrics are at /metrics\n";
	static const char busy[] = "httpsnoop: no metrics yet, try again\n";
	struct promserve *s = cls;
	enum MHD_Result ret;
	bool fresh;

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return promserve_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "", 0, NULL);
	if (!strcmp(url, "/"))
		return promserve_reply(c, MHD_HTTP_OK, "text/plain", index, sizeof(index) - 1, NULL);
	if (strcmp(url, "/metrics"))
		return promserve_reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "", 0, NULL);
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->wanted, true);
	fresh = promserve_wait(s, s->gen);
	atomic_fetch_add(&s->scrapes, 1);
	if (!fresh)
		atomic_fetch_add(&s->stale, 1);
	if (s->page)
		ret = promserve_reply(c, MHD_HTTP_OK, PROM_CONTENT_TYPE, NULL, 0, s->page);
	else
		ret = promserve_reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", busy,
				      sizeof(busy) - 1, NULL);
	pthread_mutex_unlock(&s->mu);
	return ret;
}

struct promserve *promserve_bind(const struct sockaddr_storage *ss, socklen_t len)
{
	struct promserve *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int one = 1, err;

	if (!s)
		return NULL;
	s->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s->fd, (const struct sockaddr *)ss, len) ||
	    listen(s->fd, PROMSERVE_CONNECTIONS)) {
		err = errno;
		if (s->fd >= 0)
			close(s->fd);
		free(s);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	return s;
}

int promserve_run(struct promserve *s)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	sigset_t all, old;
	int err;

	if (s->d)
		return 0;
	/* The thread inherits this mask (signals stay with the event loop)
	 * and the credentials (started after they were dropped). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	errno = 0;
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, promserve_handle, s,
				MHD_OPTION_LISTEN_SOCKET, s->fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)PROMSERVE_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)PROMSERVE_TIMEOUT_S,
				MHD_OPTION_END);
	err = errno ? errno : ENOMEM;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!s->d)
		return -err;
	return 0;
}

uint16_t promserve_port(const struct promserve *s)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(s->fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port :
						((struct sockaddr_in *)&ss)->sin_port);
}

bool promserve_wanted(struct promserve *s)
{
	return atomic_load_explicit(&s->wanted, memory_order_relaxed);
}

void promserve_publish(struct promserve *s, char *buf, size_t len)
{
	struct promserve_page *p = malloc(sizeof(*p)), *old;

	if (!p) {
		free(buf); /* the scrape gets the last page */
		return;
	}
	atomic_init(&p->refs, 1);
	p->buf = buf;
	p->len = len;
	pthread_mutex_lock(&s->mu);
	old = s->page;
	s->page = p;
	s->gen++;
	atomic_store(&s->wanted, false);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	promserve_unref(old);
}

uint64_t promserve_scrapes(struct promserve *s)
{
	return atomic_load(&s->scrapes);
}

uint64_t promserve_stale(struct promserve *s)
{
	return atomic_load(&s->stale);
}

void promserve_stop(struct promserve *s)
{
	if (!s)
		return;
	if (s->d)
		MHD_stop_daemon(s->d);
	close(s->fd); /* the daemon leaves a socket it was given open */
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	promserve_unref(s->page);
	free(s);
}
