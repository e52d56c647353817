/* preflight.c -- what must hold before the probe can load (privileges, tracefs, kernel headers), each failure said with what to do. */
#include "capture/preflight.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "core/util.h"

static bool is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

const char *preflight_tracefs_dir(void)
{
	if (is_dir("/sys/kernel/tracing/events/syscalls"))
		return "/sys/kernel/tracing";
	if (is_dir("/sys/kernel/debug/tracing/events/syscalls"))
		return "/sys/kernel/debug/tracing";
	return NULL;
}

static int check_privileges(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return 0; /* cannot tell: let the kernel decide */
#define HAS(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
	/* BCC creates maps and loads programs (CAP_BPF, or CAP_SYS_ADMIN
	 * before 5.8), opens tracepoint perf events (CAP_PERFMON), and
	 * reads kernel memory for its helpers (CAP_SYS_ADMIN on kernels
	 * without CAP_BPF); CAP_SYS_ADMIN alone covers all of it. */
	if (HAS(CAP_SYS_ADMIN) || (HAS(CAP_BPF) && HAS(CAP_PERFMON))) {
		/* The capabilities may be there and bpf() still refused: a
		 * container's seccomp profile allows it only with
		 * CAP_SYS_ADMIN. */
		int fd = bcc_create_map(BPF_MAP_TYPE_ARRAY, "hs_check", 4, 4, 1, 0);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (errno != EPERM && errno != EACCES)
			return 0;
		warn("the kernel refused bpf() (%s) although the capabilities are "
		     "there: in a container, its seccomp profile allows bpf() only "
		     "with CAP_SYS_ADMIN -- add --cap-add SYS_ADMIN (or run "
		     "--privileged)", strerror(errno));
		return -EPERM;
	}
	warn("not enough privileges to load eBPF programs: run as root (sudo "
	     "httpsnoop ...), or grant CAP_SYS_ADMIN, CAP_BPF, CAP_PERFMON "
	     "and CAP_SYS_RESOURCE (in a container: --cap-add SYS_ADMIN,BPF,"
	     "PERFMON,SYS_RESOURCE)");
#undef HAS
	return -EPERM;
}

static int check_tracefs(void)
{
	if (preflight_tracefs_dir())
		return 0;
	/* Mounting it ourselves is what the user would do next. */
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    preflight_tracefs_dir())
		return 0;
	warn("tracefs is not mounted and could not be mounted (%s): run "
	     "'mount -t tracefs tracefs /sys/kernel/tracing' (in a container: "
	     "mount the host's /sys/kernel/tracing or /sys/kernel/debug)",
	     strerror(errno));
	return -ENOENT;
}

static int check_headers(void)
{
	struct utsname u;
	char path[512];

	if (getenv("BCC_KERNEL_SOURCE") || access("/sys/kernel/kheaders.tar.xz", R_OK) == 0)
		return 0;
	uname(&u);
	snprintf(path, sizeof(path), "/lib/modules/%s/build/include", u.release);
	if (is_dir(path))
		return 0;
	warn("kernel headers not found for %s (no /lib/modules/%s/build): "
	     "install linux-headers-%s, or run scripts/setup, which links the "
	     "distribution's headers (in a container: mount the host's "
	     "/lib/modules and /usr/src read-only)",
	     u.release, u.release, u.release);
	return -ENOENT;
}

int preflight_check(void)
{
	int err;

	if ((err = check_privileges()) || (err = check_tracefs()) ||
	    (err = check_headers()))
		return err;
	return 0;
}
