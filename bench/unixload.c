/* unixload.c -- a busy Unix stream socket that carries no HTTP (D-Bus, X11 and journald are such sockets on real hosts), for bench/run's unix scenario.
 *
 *   unixload [-d SECONDS] [-s BYTES] [-m pingpong|stream] [-n NAME]
 *
 * A server (a forked child) listens on the abstract name @NAME (default
 * @hs-bench-unixload-PID) and the client connects to it, as a D-Bus
 * client does.  Then, for SECONDS (default 5):
 *   pingpong  the client writes BYTES (default 64), the server reads them
 *             and writes them back, the client reads them: a call and
 *             its answer, 4 syscalls;
 *   stream    the client writes BYTES at a time, the server reads BYTES
 *             at a time: a log or display stream, no waiting for answers.
 * Messages start with "PING", which no protocol inference takes for HTTP.
 *
 * Ends with one JSON line: the I/O syscalls made by both sides, the
 * seconds, I/O per second, and the CPU time (user, sys) of both processes,
 * with the CPU nanoseconds per I/O syscall: the figure a tracer's per-I/O
 * cost adds to.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSG 65536

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double tv_s(struct timeval tv)
{
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: unixload [-d SECONDS] [-s BYTES] [-m pingpong|stream] [-n NAME]\n");
	exit(2);
}

/* Reads exactly n bytes (a stream socket may split them); returns the
 * read(2) calls made, 0 at EOF, -1 on error. */
static long read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	long calls = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		calls++;
		if (r == 0)
			return 0;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)r;
	}
	return calls;
}

static long write_full(int fd, const char *buf, size_t n)
{
	size_t put = 0;
	long calls = 0;

	while (put < n) {
		ssize_t r = write(fd, buf + put, n - put);

		calls++;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		put += (size_t)r;
	}
	return calls;
}

/* The server: one connection, until EOF; writes its I/O count to report. */
static void serve(int lfd, size_t size, bool pingpong, int report)
{
	static char buf[MAX_MSG];
	long ios = 0, r, w;
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		_exit(1);
	for (;;) {
		r = read_full(c, buf, size);
		if (r <= 0)
			break;
		ios += r;
		if (pingpong) {
			w = write_full(c, buf, size);
			if (w < 0)
				break;
			ios += w;
		}
	}
	ios++; /* the read that saw EOF */
	if (write(report, &ios, sizeof(ios)) != sizeof(ios))
		_exit(1);
	_exit(0);
}

int main(int argc, char **argv)
{
	static char buf[MAX_MSG];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	double secs = 5, t0, t1, end;
	size_t size = 64;
	bool pingpong = true;
	char name[100] = "";
	long ios = 0, server_ios = 0, msgs = 0, r;
	struct rusage self, child;
	socklen_t len;
	int lfd, fd, rep[2], st, opt;
	pid_t pid;

	while ((opt = getopt(argc, argv, "d:s:m:n:")) != -1) {
		switch (opt) {
		case 'd':
			secs = atof(optarg);
			if (secs <= 0)
				usage();
			break;
		case 's':
			size = strtoul(optarg, NULL, 10);
			if (size < 8 || size > MAX_MSG)
				usage();
			break;
		case 'm':
			if (!strcmp(optarg, "pingpong"))
				pingpong = true;
			else if (!strcmp(optarg, "stream"))
				pingpong = false;
			else
				usage();
			break;
		case 'n':
			snprintf(name, sizeof(name), "%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (!name[0])
		snprintf(name, sizeof(name), "hs-bench-unixload-%d", (int)getpid());
	/* Abstract: sun_path[0] is NUL and the length counts the name only. */
	memcpy(sa.sun_path + 1, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, len) || listen(lfd, 1) ||
	    pipe(rep)) {
		perror("unixload: listen");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("unixload: fork");
		return 1;
	}
	if (pid == 0) {
		close(rep[0]);
		serve(lfd, size, pingpong, rep[1]);
	}
	close(rep[1]);
	close(lfd);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len)) {
		perror("unixload: connect");
		return 1;
	}
	memset(buf, 'x', size);
	memcpy(buf, "PING", 4);
	t0 = now_s();
	end = t0 + secs;
	/* The clock is read every 256 messages: it is not free either. */
	while ((msgs & 255) || now_s() < end) {
		r = write_full(fd, buf, size);
		if (r < 0) {
			perror("unixload: write");
			return 1;
		}
		ios += r;
		if (pingpong) {
			r = read_full(fd, buf, size);
			if (r <= 0) {
				fprintf(stderr, "unixload: the server went away\n");
				return 1;
			}
			ios += r;
		}
		msgs++;
	}
	t1 = now_s();
	close(fd);
	if (read(rep[0], &server_ios, sizeof(server_ios)) != sizeof(server_ios) ||
	    waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "unixload: the server failed\n");
		return 1;
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &child);
	ios += server_ios;
	{
		double user = tv_s(self.ru_utime) + tv_s(child.ru_utime);
		double sys = tv_s(self.ru_stime) + tv_s(child.ru_stime);

		printf("{\"mode\":\"%s\",\"msg_bytes\":%zu,\"messages\":%ld,\"ios\":%ld,"
		       "\"seconds\":%.3f,\"ios_per_s\":%.0f,\"cpu_user_s\":%.3f,"
		       "\"cpu_sys_s\":%.3f,\"cpu_ns_per_io\":%.1f,\"wall_ns_per_io\":%.1f}\n",
		       pingpong ? "pingpong" : "stream", size, msgs, ios, t1 - t0,
		       ios / (t1 - t0), user, sys, (user + sys) * 1e9 / ios,
		       (t1 - t0) * 1e9 / ios);
	}
	return 0;
}
