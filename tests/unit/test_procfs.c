/* test_procfs.c -- unit test of procfs: the endpoints /proc gives for real sockets made here (TCP over IPv4 and IPv6 loopback, listening, closed under their fd, Unix), and that a socket it cannot find leaves them untouched.
 *
 * Runs as any user, on loopback only.  Exits 0 only if every check
 * passes, printing each failure to stderr.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/procfs.h"
#include "check.h"
#include "event.h"

/* The address a socket's own getsockname/getpeername reports, as an
 * hs_addr: the ground truth /proc must agree with. */
static int own_addr(int fd, int peer, struct hs_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(out, 0, sizeof(*out));
	if ((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	out->family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		out->port = ntohs(in->sin_port);
		memcpy(out->addr, &in->sin_addr, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		out->port = ntohs(in6->sin6_port);
		memcpy(out->addr, &in6->sin6_addr, 16);
	}
	return 0;
}

/* A connected pair on loopback: *lfd listens, *cfd connected, *afd
 * accepted.  0 or -errno. */
static int tcp_pair(int family, int *lfd, int *cfd, int *afd)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in)
					  : sizeof(struct sockaddr_in6);

	*lfd = *cfd = *afd = -1;
	ss.ss_family = family;
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if ((*lfd = socket(family, SOCK_STREAM, 0)) < 0 ||
	    bind(*lfd, (struct sockaddr *)&ss, len) || listen(*lfd, 1) ||
	    getsockname(*lfd, (struct sockaddr *)&ss, &len) ||
	    (*cfd = socket(family, SOCK_STREAM, 0)) < 0 ||
	    connect(*cfd, (struct sockaddr *)&ss, len) ||
	    (*afd = accept(*lfd, NULL, NULL)) < 0)
		return -errno;
	return 0;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static const struct hs_addr sentinel = { .family = 0x7777, .port = 4242 };

/* Looks fd up as /proc says and checks the answer: found with the
 * socket's own addresses (want_found), or -ENOENT with local and remote
 * as they were. */
static void check_fd(const char *what, int fd, int want_found)
{
	struct hs_addr local = sentinel, remote = sentinel, l, r;
	uint64_t inode = 0;
	int err;

	CHECK(procfs_is_socket(getpid(), fd, &inode) == 1 && inode != 0,
	      "%s: fd %d is not seen as a socket", what, fd);
	err = procfs_tcp_endpoints(getpid(), inode, &local, &remote);
	if (!want_found) {
		CHECK(err == -ENOENT, "%s: found (%d), expected -ENOENT", what, err);
		CHECK(!memcmp(&local, &sentinel, sizeof(local)) &&
		      !memcmp(&remote, &sentinel, sizeof(remote)),
		      "%s: not found, yet local/remote were overwritten (%u:%u)", what,
		      local.family, local.port);
		return;
	}
	CHECK(err == 0, "%s: not found (%d)", what, err);
	if (own_addr(fd, 0, &l)) {
		CHECK(0, "%s: getsockname: %s", what, strerror(errno));
		return;
	}
	if (own_addr(fd, 1, &r)) /* a listener has no peer: 0.0.0.0:0 */
		r = (struct hs_addr){ .family = l.family };
	CHECK(!memcmp(&local, &l, sizeof(l)), "%s: local %u:%u, the socket says %u:%u",
	      what, local.family, local.port, l.family, l.port);
	CHECK(!memcmp(&remote, &r, sizeof(r)), "%s: remote %u:%u, the socket says %u:%u",
	      what, remote.family, remote.port, r.family, r.port);
}

static void test_endpoints(void)
{
	const int families[] = { AF_INET, AF_INET6 };

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		int fds[3], err = tcp_pair(families[i], &fds[0], &fds[1], &fds[2]);
		const char *v = families[i] == AF_INET ? "IPv4" : "IPv6";
		char what[64];

		if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT) {
			printf("skip %s: no loopback for it here\n", v);
			close_all(fds, 3);
			continue;
		}
		CHECK(err == 0, "%s: no connected pair: %s", v, strerror(-err));
		if (err) {
			close_all(fds, 3);
			continue;
		}
		snprintf(what, sizeof(what), "%s listener", v);
		check_fd(what, fds[0], 1);
		snprintf(what, sizeof(what), "%s client", v);
		check_fd(what, fds[1], 1);
		snprintf(what, sizeof(what), "%s accepted", v);
		check_fd(what, fds[2], 1);
		close_all(fds, 3);
	}
}

/* Sockets open under an fd that no TCP table lists: the lookup must fail
 * and leave the caller's addresses alone, whatever the tables hold. */
static void test_not_listed(void)
{
	int fds[5], sv[2], err = tcp_pair(AF_INET, &fds[0], &fds[1], &fds[2]);

	CHECK(err == 0, "no connected pair: %s", strerror(-err));
	/* never connected: TCP_CLOSE, in no hash table */
	fds[3] = socket(AF_INET6, SOCK_STREAM, 0);
	fds[4] = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(fds[4] >= 0, "socket: %s", strerror(errno));
	if (fds[4] >= 0)
		check_fd("unconnected IPv4 socket", fds[4], 0);
	if (fds[3] >= 0)
		check_fd("unconnected IPv6 socket", fds[3], 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s", strerror(errno));
	check_fd("Unix socket", sv[0], 0);
	close(sv[0]);
	close(sv[1]);
	/* a connection shut down both ways with its fd still open: the
	 * side that sent the first FIN goes to TIME_WAIT once it has the
	 * other (listed without an inode), and its fd's socket is
	 * TCP_CLOSE */
	if (fds[1] >= 0 && fds[2] >= 0) {
		char c;

		shutdown(fds[1], SHUT_WR);
		CHECK(read(fds[2], &c, 1) == 0, "no EOF on the accepted side");
		shutdown(fds[2], SHUT_WR);
		CHECK(read(fds[1], &c, 1) == 0, "no EOF on the client side");
		check_fd("client closed both ways, fd open", fds[1], 0);
	}
	close_all(fds, 5);
}

int main(void)
{
	test_endpoints();
	test_not_listed();
	return check_result("test_procfs");
}
