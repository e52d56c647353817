/* procfs.c -- what /proc says about a traced process's fd: is it a socket, and between which addresses. */
#include "procfs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int procfs_is_socket(uint32_t pid, int32_t fd, uint64_t *inode)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%u/fd/%d", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	if (sscanf(link, "socket:[%" SCNu64 "]", inode) == 1)
		return 1;
	return 0;
}

/* /proc/net/tcp prints addresses as the hex of the in-memory words, so
 * each 32-bit group is in host order. */
static int parse_hex_addr(const char *s, struct hs_addr *a, int family)
{
	unsigned words[4], port;

	if (family == AF_INET) {
		if (sscanf(s, "%8X:%X", &words[0], &port) != 2)
			return -EINVAL;
		memcpy(a->addr, &words[0], 4);
	} else {
		if (sscanf(s, "%8X%8X%8X%8X:%X", &words[0], &words[1], &words[2],
			   &words[3], &port) != 5)
			return -EINVAL;
		memcpy(a->addr, words, 16);
	}
	a->family = family;
	a->port = port;
	return 0;
}

static int scan(const char *path, int family, uint64_t inode,
		struct hs_addr *local, struct hs_addr *remote)
{
	char line[512], l[64], r[64];
	uint64_t ino;
	FILE *f = fopen(path, "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %63s %*s %*s %*s %*s %*s %*s %" SCNu64,
			   l, r, &ino) != 3 || ino != inode)
			continue;
		if (parse_hex_addr(l, local, family) == 0 &&
		    parse_hex_addr(r, remote, family) == 0)
			err = 0;
		break;
	}
	fclose(f);
	return err;
}

int procfs_tcp_endpoints(uint32_t pid, uint64_t inode, struct hs_addr *local,
			 struct hs_addr *remote)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%u/net/tcp", pid);
	if (scan(path, AF_INET, inode, local, remote) == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/net/tcp6", pid);
	return scan(path, AF_INET6, inode, local, remote);
}
