/* unixsock.h -- a Unix socket's name, type and other end, by inode: sock_diag in its network namespace, /proc/PID/net/unix, and /proc/PID/fd for who holds it. */
#ifndef HS_UNIXSOCK_H
#define HS_UNIXSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* sun_path's size in struct sockaddr_un (unix(7)): a name has at most
 * this many bytes. */
#define UNIXSOCK_PATH_MAX 108
/* A name as text: "@" for an abstract name, its bytes, and a NUL. */
#define UNIXSOCK_NAME_MAX (UNIXSOCK_PATH_MAX + 2)
/* Task command length, as in the kernel's TASK_COMM_LEN. */
#define UNIXSOCK_COMM_LEN 16

/* What the kernel says about one Unix socket. */
struct unixsock_info {
	uint64_t ino;	   /* the socket's inode (socket:[ino] in /proc) */
	uint64_t peer_ino; /* the other end's, 0 when not connected or when
			    * only /proc/net/unix could be read (it does not
			    * say) */
	uint64_t vfs_dev;  /* the file a path name is bound to, as stat(2) */
	uint64_t vfs_ino;  /* gives st_dev and st_ino; 0 0 otherwise */
	uint8_t type;	   /* SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET */
	bool listening;	   /* listen(2) was called on it */
	/* "/path", "@abstract" (unixsock_name's form) or "" unnamed.  An
	 * accepted socket carries its listener's name, a connected client
	 * is unnamed unless it called bind(2) itself. */
	char name[UNIXSOCK_NAME_MAX];
};

struct unixsock;

/* NULL on allocation failure. */
struct unixsock *unixsock_new(void);
/* Closes the netlink sockets; accepts NULL. */
void unixsock_free(struct unixsock *u);

/* Looks socket `ino` up in the network namespace of process pid: through
 * NETLINK_SOCK_DIAG (sock_diag(7)), or /proc/PID/net/unix when no netlink
 * socket can be had in that namespace (entering another namespace needs
 * CAP_SYS_ADMIN).  Answers are cached for UNIXSOCK_CACHE_NS.  Returns 0,
 * -ENOENT when that namespace has no such Unix socket (closed, or not
 * Unix), or -errno (the process is gone). */
int unixsock_lookup(struct unixsock *u, uint32_t pid, uint64_t ino,
		    struct unixsock_info *out);

/* The socket open as fd in process pid: its inode from /proc/PID/fd,
 * then unixsock_lookup.  -ENOTSOCK when the fd is something else. */
int unixsock_lookup_fd(struct unixsock *u, uint32_t pid, int32_t fd,
		       struct unixsock_info *out);

/* Remembers that process pid (command comm) holds socket ino, so that
 * unixsock_owner finds it without walking /proc: the caller notes the
 * sockets it already knows (both ends of a connection it traces). */
void unixsock_note(struct unixsock *u, uint64_t ino, uint32_t pid,
		   const char *comm);

/* The process noted as holding ino (and not not_pid): no walk, so that a
 * replay, which has only what the recording noted, answers as the live
 * run did.  0, or -ENOENT. */
int unixsock_noted(const struct unixsock *u, uint64_t ino, uint32_t not_pid,
		   uint32_t *pid, char comm[UNIXSOCK_COMM_LEN]);

/* Remembers that process pid holds the other end of socket ino: a
 * server noting its client's socket, so that the client, whose own
 * lookup may have come before the server accepted (the kernel says no
 * peer inode until then), finds its peer by its own inode. */
void unixsock_note_peer(struct unixsock *u, uint64_t ino, uint32_t pid,
			const char *comm);
/* The process noted as holding the other end of ino (not not_pid).  0,
 * or -ENOENT. */
int unixsock_noted_peer(const struct unixsock *u, uint64_t ino,
			uint32_t not_pid, uint32_t *pid,
			char comm[UNIXSOCK_COMM_LEN]);

/* Finds a process holding socket ino, preferring one that is not
 * not_pid (a socketpair's two ends may be in one process, but a peer is
 * usually another): noted sockets first, then a walk over every
 * /proc/PID/fd (a few ms on a busy host), at most one walk every
 * UNIXSOCK_WALK_GAP_NS (-EAGAIN when one is due later).  Fills pid and
 * comm (NUL-terminated); returns 0, -ENOENT when nobody holds it. */
int unixsock_owner(struct unixsock *u, uint64_t ino, uint32_t not_pid,
		   uint32_t *pid, char comm[UNIXSOCK_COMM_LEN]);

/* Completes the payload of an HS_EV_UNIX record (include/event.h) about
 * process pid's socket fd, from what the kernel says now: the names as
 * text (local: this end's, a server's being its listener's; remote: the
 * other end's, on a client the path the server bound, else the path
 * connect(2) named), the inodes, the type, and a process at the other
 * end (unixsock_owner).  What cannot be told stays empty; p->resolved is
 * set.  Returns 0, or -EALREADY when p was complete already. */
struct hs_unix;
int unixsock_complete(struct unixsock *u, uint32_t pid, int32_t fd,
		      struct hs_unix *p);

/* How long an answer of unixsock_lookup is reused (an inode number is
 * reused only after its socket is gone, and 4 billion more inodes were
 * made). */
#define UNIXSOCK_CACHE_NS (10ULL * 1000000000ULL)
/* The least time between two walks of /proc by unixsock_owner. */
#define UNIXSOCK_WALK_GAP_NS (100ULL * 1000000ULL)

/* Formats the first len bytes of a sun_path (len 0 to UNIXSOCK_PATH_MAX,
 * more is cut) as text: a path name up to its NUL; an abstract name (it
 * starts with NUL) as '@' and its bytes, NULs shown as '@' as
 * /proc/net/unix and ss(8) show them; "" when len is 0.  Returns the
 * text's length. */
size_t unixsock_name(const void *sun_path, size_t len,
		     char out[UNIXSOCK_NAME_MAX]);

#endif
