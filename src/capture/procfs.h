/* procfs.h -- what /proc says about processes: the one walk over them, and about a traced process's fd: is it a socket, and between which addresses. */
#ifndef HS_PROCFS_H
#define HS_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "event.h"

/* Parses a whole decimal number, as /proc names processes and fds:
 * true and *out set, or false (not a number, or past UINT32_MAX). */
bool procfs_parse_id(const char *s, uint32_t *out);

/* Called for each process; a non-zero return stops the walk. */
typedef int (*procfs_pid_fn)(void *ctx, uint32_t pid);

/* Calls fn for every process in /proc, in directory order.  Returns what
 * the last call returned (0 when the walk went through), or -errno when
 * /proc cannot be read. */
int procfs_each_pid(procfs_pid_fn fn, void *ctx);

/* 1 if /proc/PID/fd/FD is a socket, 0 if it is something else, -errno if
 * it cannot be told (the process or fd is gone). */
int procfs_is_socket(uint32_t pid, int32_t fd, uint64_t *inode);

/* Called for each socket fd of a process, with the socket's inode; a
 * non-zero return stops the walk. */
typedef int (*procfs_sock_fn)(void *ctx, uint32_t pid, int32_t fd,
			      uint64_t inode);

/* Calls fn for every socket among process pid's fds.  Returns what the
 * last call returned, 0 when the process is gone. */
int procfs_each_socket(uint32_t pid, procfs_sock_fn fn, void *ctx);

/* Finds the TCP endpoints of socket `inode` in /proc/PID/net/tcp{,6}.
 * Returns 0 and fills local/remote, or -errno (-ENOENT: not there, a
 * socket closed under its fd among them) and leaves them untouched. */
int procfs_tcp_endpoints(uint32_t pid, uint64_t inode, struct hs_addr *local,
			 struct hs_addr *remote);

/* Called for each TCP socket fd of a process, with its endpoints. */
typedef void (*procfs_tcp_fn)(void *ctx, uint32_t pid, int32_t fd,
			      const struct hs_addr *local,
			      const struct hs_addr *remote);

/* Walks every process's fds and calls fn for each TCP socket among them
 * (the endpoints come from /proc/PID/net/tcp{,6}, read once per network
 * namespace).  Stops after `max` sockets.  Returns sockets visited. */
size_t procfs_each_tcp_fd(procfs_tcp_fn fn, void *ctx, size_t max);

#endif
