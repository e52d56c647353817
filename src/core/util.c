/* util.c -- error reporting and checked number parsing shared by all modules. */
#include "core/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>


void util_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("httpsnoop: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int util_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int64_t util_clock_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000LL +
	       ((int64_t)r.tv_nsec - m.tv_nsec);
}

int util_drop_privileges(bool keep_uprobes)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };
	/* /proc/PID/fd is mode 0500 and owned by the process's user: root
	 * needs CAP_DAC_READ_SEARCH to look in, and CAP_SYS_PTRACE to
	 * read the links. */
	uint32_t keep = 1u << CAP_SYS_PTRACE | 1u << CAP_DAC_READ_SEARCH;

	if (keep_uprobes)
		keep |= 1u << CAP_SYS_ADMIN;
	/* A container may never have granted some of these: asking to keep
	 * a capability we lack makes capset fail, so keep what we have. */
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	keep &= data[0].permitted;
	memset(data, 0, sizeof(data));
	/* Bounding set first (needs CAP_SETPCAP, which we still hold). */
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (c >= 32 || !(keep & (1u << c)))
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	data[0].effective = data[0].permitted = keep;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}
