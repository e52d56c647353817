/* promserve.h -- the /metrics HTTP endpoint (libmicrohttpd, its own thread), fed with pages rendered by the event loop. */
#ifndef HS_PROMSERVE_H
#define HS_PROMSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

/* The tables belong to the event loop, which never waits for the
 * server: a scrape asks for a fresh page (promserve_wanted() turns
 * true), and the loop renders one when it next looks (after each batch
 * of records) and hands it over with promserve_publish().  A scrape
 * waits for that up to PROMSERVE_WAIT_MS, then gets the last page
 * published (a busy loop makes it older, never late), or 503 if there
 * is none yet. */
#define PROMSERVE_WAIT_MS 2000
#define PROMSERVE_CONNECTIONS 16 /* at once; more are refused */
#define PROMSERVE_TIMEOUT_S 10	 /* idle connections are closed */

struct promserve;

/* Parses --metrics's "[ADDR:]PORT": "9464" (127.0.0.1), "0.0.0.0:9464",
 * "[::1]:9464", "localhost:9464".  Returns NULL, or what is wrong. */
const char *promserve_parse(const char *arg, struct sockaddr_storage *ss, socklen_t *len);

/* Binds and listens on ss (while httpsnoop still has its privileges: a
 * port below 1024).  NULL with errno set (EADDRINUSE, EACCES...) on
 * failure.  Connections wait in the backlog until promserve_run(). */
struct promserve *promserve_bind(const struct sockaddr_storage *ss, socklen_t len);

/* Starts serving GET /metrics in a thread of its own, with all signals
 * blocked.  Call it once the privileges are dropped: capabilities are
 * per thread, and the thread takes the caller's.  Returns 0 (also when
 * it already runs) or -errno. */
int promserve_run(struct promserve *s);

/* The port bound (for a request of port 0). */
uint16_t promserve_port(const struct promserve *s);

/* Whether a scrape waits for a page: one atomic load, for the loop to
 * call often. */
bool promserve_wanted(struct promserve *s);

/* Hands a rendered page over (s owns it now, malloc()ed) and wakes the
 * scrapes waiting.  Responses share it (no copy); the page before is
 * freed once the last response sending it is done. */
void promserve_publish(struct promserve *s, char *page, size_t len);

/* Scrapes answered, and those answered with an older page than they
 * asked for (the loop was busy). */
uint64_t promserve_scrapes(struct promserve *s);
uint64_t promserve_stale(struct promserve *s);

/* Stops the thread and frees s; accepts NULL. */
void promserve_stop(struct promserve *s);

#endif
