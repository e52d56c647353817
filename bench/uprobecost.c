/* uprobecost.c -- what one uprobe costs the calling process on this
 * machine, the floor under every TLS figure of bench/run's https
 * scenario: httpsnoop reads OpenSSL's plaintext through an entry and a
 * return probe on each SSL_read/SSL_write, and each traps into the
 * kernel whether its program then does anything or not.
 *
 * It calls a function of its own in a loop, bare and then with a BPF
 * program that returns at once attached the way httpsnoop attaches its
 * OpenSSL programs (BCC's bpf_attach_uprobe: a perf event of the uprobe
 * PMU, every process): at the function's entry alone, at its entry and
 * its return, and at an entry the kernel cannot emulate.  The first
 * instruction of the first two is a push of a register, which the kernel
 * emulates, as at the places sslbin.c picks in libssl; the third opens
 * with lea, which it must single-step out of line, as it would at
 * OpenSSL 3.0's exported SSL_read.  The configurations are interleaved
 * for ROUNDS rounds; the medians are printed.
 *
 *   uprobecost [-n CALLS] [-r ROUNDS]
 *
 * Prints one JSON object: ns a call for each configuration (the bare
 * loop's own cost included: "bare" says what it is), each round's too.
 * Needs root and libbcc_bpf; x86-64.
 * Build: cc -O2 -o uprobecost uprobecost.c -lbcc_bpf */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <linux/bpf.h>

#ifndef __x86_64__
int main(void)
{
	fprintf(stderr, "uprobecost: x86-64 only\n");
	return 1;
}
#else

/* push %rbp opens the first (emulated), lea the second (single-stepped). */
__asm__(".text\n"
	".globl uc_push\n.type uc_push, @function\n"
	"uc_push:\n\tpush %rbp\n\tmov %rsp, %rbp\n\tlea 1(%rdi), %eax\n\tpop %rbp\n\tret\n"
	".size uc_push, .-uc_push\n"
	".globl uc_lea\n.type uc_lea, @function\n"
	"uc_lea:\n\tlea 1(%rdi), %eax\n\tret\n"
	".size uc_lea, .-uc_lea\n");
int uc_push(int);
int uc_lea(int);

enum { C_BARE, C_ENTRY, C_BOTH, C_STEP, C_N };
static const char *const names[C_N] = { "bare", "entry", "entry_return", "single_step" };

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* ns a call of f, over n calls. */
static double run(int (*volatile f)(int), long n)
{
	double t0 = now_ns();
	int s = 0;

	for (long i = 0; i < n; i++)
		s = f(s);
	if (s != (int)n)
		fprintf(stderr, "uprobecost: the loop went wrong\n");
	return (now_ns() - t0) / n;
}

/* The file offset of code at addr in this executable (path), from our
 * maps; -1 if not found. */
static long file_offset(const void *addr, char *path)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	unsigned long lo, hi, off;
	long r = -1;

	if (!f)
		return -1;
	if (!realpath("/proc/self/exe", path))
		path[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %lx", &lo, &hi, &off) != 3)
			continue;
		if ((unsigned long)addr >= lo && (unsigned long)addr < hi) {
			r = (long)((unsigned long)addr - lo + off);
			break;
		}
	}
	fclose(f);
	return path[0] ? r : -1;
}

static int attach(int prog, const char *path, long off, int ret, char *ev, int k)
{
	int fd;

	snprintf(ev, 64, "hs_uc_%d_%d", getpid(), k);
	fd = bpf_attach_uprobe(prog, ret ? BPF_PROBE_RETURN : BPF_PROBE_ENTRY, ev, path,
			       (uint64_t)off, -1, 0);
	if (fd < 0)
		fprintf(stderr, "uprobecost: attaching to %s+%#lx: %s\n", path, off, strerror(errno));
	return fd;
}

static void detach(int fd, const char *ev)
{
	bpf_close_perf_event_fd(fd);
	bpf_detach_uprobe(ev);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	/* r0 = 0; exit */
	static const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	long calls = 200000, off_push, off_lea;
	int rounds = 5, opt, prog;
	char path[PATH_MAX];
	double ns[C_N][64];

	while ((opt = getopt(argc, argv, "n:r:")) != -1) {
		if (opt == 'n' && atol(optarg) > 0)
			calls = atol(optarg);
		else if (opt == 'r' && atoi(optarg) > 0 && atoi(optarg) <= 64)
			rounds = atoi(optarg);
		else {
			fprintf(stderr, "usage: uprobecost [-n CALLS] [-r ROUNDS (1-64)]\n");
			return 2;
		}
	}
	off_push = file_offset((const void *)uc_push, path);
	off_lea = file_offset((const void *)uc_lea, path);
	if (off_push < 0 || off_lea < 0) {
		fprintf(stderr, "uprobecost: cannot find my own code in /proc/self/maps\n");
		return 1;
	}
	prog = bcc_prog_load(BPF_PROG_TYPE_KPROBE, "uc_nop", insns, sizeof(insns), "GPL", 0, 0,
			     NULL, 0);
	if (prog < 0) {
		fprintf(stderr, "uprobecost: loading a BPF program: %s (root?)\n", strerror(errno));
		return 1;
	}
	for (int r = 0; r < rounds; r++) {
		for (int c = 0; c < C_N; c++) {
			char ev[2][64];
			int fd[2] = { -1, -1 };
			/* a single step costs tens of µs here: fewer calls */
			long n = c == C_STEP ? calls / 20 + 1 : calls;

			if (c == C_ENTRY || c == C_BOTH)
				fd[0] = attach(prog, path, off_push, 0, ev[0], 0);
			if (c == C_BOTH)
				fd[1] = attach(prog, path, off_push, 1, ev[1], 1);
			if (c == C_STEP)
				fd[0] = attach(prog, path, off_lea, 0, ev[0], 0);
			if ((c != C_BARE && fd[0] < 0) || (c == C_BOTH && fd[1] < 0))
				return 1;
			ns[c][r] = run(c == C_STEP ? uc_lea : uc_push, n);
			for (int k = 0; k < 2; k++)
				if (fd[k] >= 0)
					detach(fd[k], ev[k]);
		}
	}
	printf("{\"calls\":%ld,\"rounds\":%d", calls, rounds);
	for (int c = 0; c < C_N; c++) {
		double s[64];

		printf(",\"%s_rounds\":[", names[c]);
		for (int r = 0; r < rounds; r++)
			printf("%s%.1f", r ? "," : "", ns[c][r]);
		printf("]");
		memcpy(s, ns[c], rounds * sizeof(double));
		qsort(s, rounds, sizeof(double), cmp);
		printf(",\"%s_ns\":%.1f", names[c], s[rounds / 2]);
	}
	printf("}\n");
	return 0;
}
#endif
