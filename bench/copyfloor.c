/* copyfloor.c -- the least a payload tracer must do, as a floor for
 * bench/run's overhead scenario: on every TCP send and receive
 * (sock:sock_send_length, sock:sock_recv_length) it reads the syscall's
 * fd and buffer from the saved user registers, as httpsnoop's socket
 * hooks do, and copies up to CAP - 1 bytes of the payload with a small
 * header (time, pid, tid, fd, length) into a BPF ring buffer, with no
 * wake-up; user space reads the records every 10 ms and counts them.  No
 * connection state, no process filter, no TLS, no parsing, no output.
 * With -r, each CPU writes to a ring buffer of its own (an array of ring
 * buffers, the same 16 MB split between them), which measures what the
 * one ring's lock and shared positions cost when every CPU writes.
 * With -p PID, only that process's I/O is copied (its tgid a constant
 * compiled in): the floor of httpsnoop's -p, where every other
 * process's socket I/O still runs the programs.
 *
 *   copyfloor [-c CAP] [-d SECONDS] [-p PID] [-r]
 *
 * Prints "Tracing" once attached; on SIGINT/SIGTERM (or after SECONDS)
 * prints "records N bytes N" and exits.  Needs root, libbcc,
 * kernel headers, Linux 6.3+ with BTF (x86-64).
 * Build: cc -O2 -o copyfloor copyfloor.c -lbcc -lbcc_bpf */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>

/* The ring buffer's size (BPF_RINGBUF_OUTPUT's 4096 pages), shared or
 * split between the CPUs' (-r). */
#define RING_BYTES (4096 * 4096)

static const char probe[] =
	"#include <uapi/linux/ptrace.h>\n"
	"struct rec { u64 ts; u32 pid, tid; s32 fd; u32 len; u8 dir, pad[7]; char data[CAP]; };\n"
	"struct iov { u64 base, len; };\n"
	"struct mhdr { u64 name; u32 namelen, pad; u64 iov, iovlen; };\n"
	"BPF_RINGBUF_OUTPUT(events, 4096);\n"
	"#ifdef PERCPU\n"
	"BPF_ARRAY_OF_MAPS(rings, \"events\", NCPU);\n"
	"#endif\n"
	"static void *(*cur_task)(void) = (void *)158;\n"
	"static void *(*task_regs)(void *task) = (void *)175;\n"
	"static __always_inline int copy(int family, int proto, int ret, u8 dir)\n"
	"{\n"
	"	struct pt_regs *regs;\n"
	"	struct rec *r;\n"
	"	u64 nr, buf, id;\n"
	"	u32 n;\n"
	"	if (ret <= 0 || proto != 6 || (family != 2 && family != 10))\n"
	"		return 0;\n"
	"#ifdef PID\n"
	"	if (bpf_get_current_pid_tgid() >> 32 != PID)\n"
	"		return 0;\n"
	"#endif\n"
	"	regs = task_regs(cur_task());\n"
	"	if ((regs->cs & 0xffff) != 0x33)\n"
	"		return 0;\n"
	"	nr = regs->orig_ax;\n"
	"	buf = regs->si;\n"
	"	if (nr == 19 || nr == 20) {          /* readv, writev */\n"
	"		struct iov v = {};\n"
	"		bpf_probe_read_user(&v, sizeof(v), (void *)buf);\n"
	"		buf = v.base;\n"
	"	} else if (nr == 46 || nr == 47) {   /* sendmsg, recvmsg */\n"
	"		struct mhdr m = {};\n"
	"		struct iov v = {};\n"
	"		bpf_probe_read_user(&m, sizeof(m), (void *)buf);\n"
	"		bpf_probe_read_user(&v, sizeof(v), (void *)m.iov);\n"
	"		buf = v.base;\n"
	"	} else if (nr > 1 && nr != 44 && nr != 45) {\n"
	"		return 0;                    /* not read, write, sendto, recvfrom */\n"
	"	}\n"
	"#ifdef PERCPU\n"
	"	u32 cpu = bpf_get_smp_processor_id();\n"
	"	void *ring = rings.lookup(&cpu);\n"
	"	if (!ring)\n"
	"		return 0;\n"
	"	r = bpf_ringbuf_reserve(ring, sizeof(*r), 0);\n"
	"#else\n"
	"	r = events.ringbuf_reserve(sizeof(*r));\n"
	"#endif\n"
	"	if (!r)\n"
	"		return 0;\n"
	"	id = bpf_get_current_pid_tgid();\n"
	"	r->ts = bpf_ktime_get_ns();\n"
	"	r->pid = id >> 32;\n"
	"	r->tid = id;\n"
	"	r->fd = regs->di;\n"
	"	r->len = ret;\n"
	"	r->dir = dir;\n"
	"	n = ret < CAP ? ret : CAP - 1;\n"
	"	bpf_probe_read_user(r->data, n & (CAP - 1), (void *)buf);\n"
	"	bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);\n"
	"	return 0;\n"
	"}\n"
	"TRACEPOINT_PROBE(sock, sock_send_length)\n"
	"{ return copy(args->family, args->protocol, args->ret, 1); }\n"
	"TRACEPOINT_PROBE(sock, sock_recv_length)\n"
	"{ return copy(args->family, args->protocol, args->ret, 0); }\n";

struct rec_hdr {
	uint64_t ts;
	uint32_t pid, tid;
	int32_t fd;
	uint32_t len;
};

static volatile sig_atomic_t stop;
static uint64_t records, bytes;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct rec_hdr *h = data;

	(void)ctx;
	if (size >= sizeof(*h)) {
		records++;
		bytes += h->len;
	}
	return 0;
}

static int load(void *mod, const char *fn, const char *cat, const char *ev)
{
	int fd = bcc_func_load(mod, BPF_PROG_TYPE_TRACEPOINT, fn,
			       bpf_function_start(mod, fn), bpf_function_size(mod, fn),
			       bpf_module_license(mod), bpf_module_kern_version(mod),
			       0, NULL, 0, NULL, -1);

	if (fd < 0) {
		fprintf(stderr, "copyfloor: loading %s failed: %s\n", fn, strerror(errno));
		return -1;
	}
	if (bpf_attach_tracepoint(fd, cat, ev) < 0) {
		fprintf(stderr, "copyfloor: attaching to %s:%s failed: %s\n", cat, ev, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned cap = 1024, secs = 0, ncpu = 0, pid = 0;
	char capdef[32], cpudef[32], piddef[32];
	const char *cflags[4] = { capdef };
	int nflags = 1;
	struct ring_buffer *rb;
	void *mod;
	int opt;

	while ((opt = getopt(argc, argv, "c:d:p:r")) != -1) {
		if (opt == 'r')
			ncpu = (unsigned)sysconf(_SC_NPROCESSORS_CONF);
		else if (opt == 'c')
			cap = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'd')
			secs = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'p' && (pid = (unsigned)strtoul(optarg, NULL, 10)) > 0)
			;
		else
			goto usage;
	}
	/* A power of two, so that the verifier sees the copy bounded. */
	if (optind != argc || cap < 16 || cap > 65536 || (cap & (cap - 1)))
		goto usage;
	snprintf(capdef, sizeof(capdef), "-DCAP=%u", cap);
	if (ncpu) {
		snprintf(cpudef, sizeof(cpudef), "-DNCPU=%u", ncpu);
		cflags[nflags++] = "-DPERCPU";
		cflags[nflags++] = cpudef;
	}
	if (pid) {
		snprintf(piddef, sizeof(piddef), "-DPID=%uU", pid);
		cflags[nflags++] = piddef;
	}
	mod = bpf_module_create_c_from_string(probe, 0, cflags, nflags, true, NULL);
	if (!mod) {
		fprintf(stderr, "copyfloor: the probe did not compile\n");
		return 1;
	}
	if (load(mod, "tracepoint__sock__sock_send_length", "sock", "sock_send_length") ||
	    load(mod, "tracepoint__sock__sock_recv_length", "sock", "sock_recv_length"))
		return 1;
	if (ncpu) {
		/* -r: a ring buffer for each CPU, the same 16 MB in all. */
		int outer = bpf_table_fd(mod, "rings");

		rb = NULL;
		for (unsigned i = 0; i < ncpu; i++) {
			int fd = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "ring", 0, 0,
						RING_BYTES / ncpu, 0);

			if (fd < 0 || bpf_update_elem(outer, &i, &fd, 0) ||
			    (rb ? bpf_add_ringbuf(rb, fd, on_record, NULL)
				: !(rb = bpf_new_ringbuf(fd, on_record, NULL)))) {
				fprintf(stderr, "copyfloor: no ring buffer for CPU %u: %s\n", i,
					strerror(errno));
				return 1;
			}
		}
	} else {
		rb = bpf_new_ringbuf(bpf_table_fd(mod, "events"), on_record, NULL);
	}
	if (!rb) {
		fprintf(stderr, "copyfloor: no ring buffer\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (secs) {
		signal(SIGALRM, on_signal);
		alarm(secs);
	}
	printf("Tracing (copy floor: %u bytes a TCP send or receive%s, %s)\n", cap,
	       pid ? " of one process" : "", ncpu ? "a ring buffer per CPU" : "one ring buffer");
	fflush(stdout);
	/* No record wakes the reader (a wake-up per record would cost more
	 * than the copy): it sleeps 10 ms, then takes what has come, as
	 * httpsnoop does between its batched wake-ups. */
	while (!stop) {
		usleep(10000);
		bpf_consume_ringbuf(rb);
	}
	bpf_consume_ringbuf(rb);
	printf("records %llu bytes %llu\n", (unsigned long long)records,
	       (unsigned long long)bytes);
	return 0;
usage:
	fprintf(stderr, "usage: copyfloor [-c CAP (a power of two, 16-65536)] [-d SECONDS] "
		"[-p PID] [-r]\n");
	return 2;
}
