/* uring_client.c -- test-uring-splice's HTTP/1.1 client: one keep-alive connection whose requests go by write(2)/read(2) or by io_uring (IORING_OP_SEND/RECV), as each argument says.
 *
 * Usage: uring_client PORT MODE:PATH...   MODE w (syscalls) or u (io_uring)
 * Prints "PATH STATUS BODY-BYTES MODE" per response, then "uring-bytes N":
 * the bytes it moved through io_uring, sent and received, which a tracer on
 * the socket-level hooks counts as `no-buffer bytes`.  io_uring is driven
 * by its raw system calls (io_uring(7)), so the test needs no liburing.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define RESP_MAX (1 << 20) /* the largest response the test asks for */

struct ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static unsigned long long uring_bytes;

static int ring_open(struct ring *r)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = syscall(__NR_io_uring_setup, 4, &p);
	if (r->fd < 0)
		return -errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if ((p.features & IORING_FEAT_SINGLE_MMAP) && cq_len > sq_len)
		sq_len = cq_len;
	sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  r->fd, IORING_OFF_SQ_RING);
	if (sq == MAP_FAILED)
		return -errno;
	cq = sq;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (cq == MAP_FAILED)
			return -errno;
	}
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
		       IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		return -errno;
	r->sq_head = (unsigned *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* One operation on fd, submitted and waited for: its result (bytes, or
 * -errno). */
static int ring_io(struct ring *r, int op, int fd, void *buf, unsigned len)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask, head;
	struct io_uring_sqe *sqe = &r->sqes[idx];
	int res;

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = op;
	sqe->fd = fd;
	sqe->addr = (unsigned long)buf;
	sqe->len = len;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS,
		    NULL, 0) < 0)
		return -errno;
	head = *r->cq_head;
	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	if (res > 0)
		uring_bytes += res;
	return res;
}

static int io_send(struct ring *r, int uring, int fd, const char *p, size_t n)
{
	while (n) {
		int k = uring ? ring_io(r, IORING_OP_SEND, fd, (void *)p, n)
			      : (int)write(fd, p, n);

		if (k <= 0)
			return -1;
		p += k;
		n -= k;
	}
	return 0;
}

/* Reads one response with a Content-Length; its status and body size. */
static int io_response(struct ring *r, int uring, int fd, char *buf,
		       int *status, long *body)
{
	size_t have = 0, need = 0;
	char *end = NULL;

	for (;;) {
		int k;

		if (end && have >= need)
			break;
		k = uring ? ring_io(r, IORING_OP_RECV, fd, buf + have,
				    RESP_MAX - have)
			  : (int)read(fd, buf + have, RESP_MAX - have);
		if (k <= 0)
			return -1;
		have += k;
		buf[have < RESP_MAX ? have : RESP_MAX - 1] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "\r\ncontent-length:");

			if (!cl || cl > end || sscanf(buf, "HTTP/1.%*d %d", status) != 1)
				return -1;
			*body = strtol(cl + 17, NULL, 10);
			need = (end + 4 - buf) + *body;
			if (need > RESP_MAX)
				return -1;
		}
	}
	return have == need ? 0 : -1;
}

int main(int argc, char **argv)
{
	static char resp[RESP_MAX];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct ring r;
	int fd, err;

	if (argc < 3) {
		fprintf(stderr, "usage: uring_client PORT MODE:PATH...\n");
		return 2;
	}
	if ((err = ring_open(&r))) {
		fprintf(stderr, "uring_client: io_uring_setup: %s\n", strerror(-err));
		return 3;
	}
	sa.sin_port = htons(atoi(argv[1]));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror("uring_client: connect");
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		int uring = argv[i][0] == 'u', status = 0;
		const char *path = argv[i] + 2;
		char req[512];
		long body = 0;
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				 "User-Agent: uring_client\r\n\r\n", path);

		if (n >= (int)sizeof(req) || io_send(&r, uring, fd, req, n) ||
		    io_response(&r, uring, fd, resp, &status, &body)) {
			fprintf(stderr, "uring_client: %s failed\n", argv[i]);
			return 1;
		}
		printf("%s %d %ld %c\n", path, status, body, argv[i][0]);
	}
	printf("uring-bytes %llu\n", uring_bytes);
	close(fd);
	return 0;
}
