/* features.c -- what the running kernel offers the probe, tested at start rather than assumed. */
#include "capture/features.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "capture/preflight.h"

static bool have_ringbuf(void)
{
	int fd;

	if (getenv("HTTPSNOOP_FORCE_PERF_BUFFER"))
		return false;
	fd = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "hs_rb_test", 0, 0, 4096, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* Whether the kernel has BPF helper `id`: loads a program that calls it
 * (on a stack buffer of 8 bytes, from address 0) and asks the verifier. */
static bool have_helper(int id)
{
	const struct bpf_insn insns[] = {
		BPF_MOV64_REG(BPF_REG_1, BPF_REG_10),
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = BPF_REG_1, .imm = -8 },
		BPF_MOV64_IMM(BPF_REG_2, 8),
		BPF_MOV64_IMM(BPF_REG_3, 0),
		{ .code = BPF_JMP | BPF_CALL, .imm = id },
		BPF_MOV64_IMM(BPF_REG_0, 0),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bcc_prog_load(BPF_PROG_TYPE_TRACEPOINT, "hs_feature", insns,
			       sizeof(insns), "GPL", 0, 0, NULL, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool have_sock_tp(void)
{
	char path[256];
	const char *dir = preflight_tracefs_dir();

	if (getenv("HTTPSNOOP_FORCE_NO_SOCK_TP") || !dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/sock/sock_recv_length", dir);
	return access(path, F_OK) == 0;
}

void features_detect(struct features *f)
{
	f->sock_tp = have_sock_tp();
	f->ringbuf = have_ringbuf();
	/* Kernels before 5.5 read user memory with plain probe_read. */
	f->read_user_helper = have_helper(BPF_FUNC_probe_read_user)
				      ? BPF_FUNC_probe_read_user
				      : BPF_FUNC_probe_read;
	snprintf(f->desc, sizeof(f->desc), "%s, %s",
		 f->ringbuf ? "ring buffer" : "perf buffer",
		 f->sock_tp ? "sock tracepoints" : "accept/connect tracking + /proc");
}
