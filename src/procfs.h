/* procfs.h -- what /proc says about a traced process's fd: is it a socket, and between which addresses. */
#ifndef HS_PROCFS_H
#define HS_PROCFS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/types.h>

#include "event.h"

/* 1 if /proc/PID/fd/FD is a socket, 0 if it is something else, -errno if
 * it cannot be told (the process or fd is gone). */
int procfs_is_socket(uint32_t pid, int32_t fd, uint64_t *inode);

/* Finds the TCP endpoints of socket `inode` in /proc/PID/net/tcp{,6}.
 * Returns 0 and fills local/remote, or -ENOENT. */
int procfs_tcp_endpoints(uint32_t pid, uint64_t inode, struct hs_addr *local,
			 struct hs_addr *remote);

#endif
