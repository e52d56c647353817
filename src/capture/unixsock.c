/* unixsock.c -- a Unix socket's name, type and other end, by inode: sock_diag in its network namespace, /proc/PID/net/unix, and /proc/PID/fd for who holds it. */
#include "capture/unixsock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "capture/procfs.h"
#include "core/util.h"
#include "event.h"

/* Network namespaces with a netlink socket of their own; past this the
 * least recently used one is closed (a socket pins its namespace). */
#define NS_MAX 32
/* Answers of unixsock_lookup kept (direct-mapped by inode). */
#define CACHE_SLOTS 1024
/* Sockets noted by the caller (direct-mapped by inode). */
#define NOTED_SLOTS 4096
/* Paths clients named, with the path the server bound (found while a
 * client's socket was open), for the clients whose socket is gone before
 * it is looked up: a linear table, least recently used replaced. */
#define BOUND_SLOTS 64
/* A sock_diag answer: one message with at most four small attributes. */
#define NL_BUF 8192

/* The kernel's sk_state for a listening socket (TCP_LISTEN, also used
 * by AF_UNIX), and __SO_ACCEPTCON in /proc/net/unix's Flags. */
#define UNIX_STATE_LISTEN 10
#define PROC_ACCEPTCON 0x10000
/* sock_diag's cookie for "any socket with this inode" (INET_DIAG_NOCOOKIE). */
#define NL_NOCOOKIE (~0U)

struct ns_sock {
	uint64_t netns; /* inode of /proc/PID/ns/net */
	int fd;		/* NETLINK_SOCK_DIAG socket in it, -1 if none can be
			 * had (then /proc/PID/net/unix is read) */
	uint64_t used;	/* last use, for eviction */
};

struct cached {
	struct unixsock_info info; /* info.ino 0: empty slot */
	uint64_t ts;
};

struct noted {
	uint64_t ino; /* 0: empty slot */
	uint32_t pid;
	char comm[UNIXSOCK_COMM_LEN];
};

/* One (socket inode, holder) pair seen by the last walk of /proc. */
struct held {
	uint64_t ino;
	uint32_t pid;
};

struct bound {
	char named[UNIXSOCK_NAME_MAX]; /* as connect(2) named it, cleaned */
	char bound[UNIXSOCK_NAME_MAX]; /* as the server bound it */
	uint64_t ts;		       /* last use; 0: empty */
};

struct unixsock {
	uint64_t own_netns;
	struct ns_sock ns[NS_MAX];
	size_t nns;
	uint32_t seq;
	struct cached cache[CACHE_SLOTS];
	struct noted noted[NOTED_SLOTS];
	struct noted peers[NOTED_SLOTS]; /* ino: the process at its other end */
	struct held *walked; /* sorted by inode, then pid */
	size_t nwalked;
	uint64_t walk_ts; /* when the last walk began, 0 never */
	struct bound bound[BOUND_SLOTS];
	uint8_t buf[NL_BUF];
};

size_t unixsock_name(const void *sun_path, size_t len,
		     char out[UNIXSOCK_NAME_MAX])
{
	const char *p = sun_path;
	size_t n = 0;

	if (len > UNIXSOCK_PATH_MAX)
		len = UNIXSOCK_PATH_MAX;
	if (len && p[0] == '\0') {
		/* Abstract (unix(7)): every byte counts, NULs included. */
		out[n++] = '@';
		for (size_t i = 1; i < len; i++)
			out[n++] = p[i] ? p[i] : '@';
	} else {
		while (n < len && p[n])
			out[n] = p[n], n++;
	}
	out[n] = '\0';
	return n;
}

static uint64_t netns_of(uint32_t pid)
{
	char path[64];
	struct stat sb;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/net");
	return stat(path, &sb) ? 0 : (uint64_t)sb.st_ino;
}

static int nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	return fd < 0 ? -errno : fd;
}

/* A NETLINK_SOCK_DIAG socket made inside pid's network namespace: this
 * thread enters it for the socket(2) call and comes back.  Needs
 * CAP_SYS_ADMIN; returns the fd or -errno. */
static int nl_socket_in(uint32_t pid)
{
	char path[64];
	int self, target, fd;

	snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
	target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0)
		return -errno;
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		fd = -errno;
		close(target);
		return fd;
	}
	if (setns(target, CLONE_NEWNET)) {
		fd = -errno;
		goto out;
	}
	fd = nl_socket();
	if (setns(self, CLONE_NEWNET)) {
		/* Having entered it, we may leave it: this does not happen,
		 * and /proc/PID paths do not depend on it if it does. */
		warn("failed to return to httpsnoop's network namespace: %s",
		     strerror(errno));
	}
out:
	close(self);
	close(target);
	return fd;
}

/* The netlink socket for netns (of process pid), made on first use; -1
 * when there is none to be had. */
static int ns_fd(struct unixsock *u, uint64_t netns, uint32_t pid)
{
	struct ns_sock *s = NULL;
	uint64_t now = util_now_ns();

	for (size_t i = 0; i < u->nns; i++)
		if (u->ns[i].netns == netns) {
			u->ns[i].used = now;
			return u->ns[i].fd;
		}
	if (u->nns < NS_MAX) {
		s = &u->ns[u->nns++];
	} else {
		s = &u->ns[0];
		for (size_t i = 1; i < NS_MAX; i++)
			if (u->ns[i].used < s->used)
				s = &u->ns[i];
		if (s->fd >= 0)
			close(s->fd);
	}
	s->netns = netns;
	s->used = now;
	s->fd = netns == u->own_netns ? nl_socket() : nl_socket_in(pid);
	if (s->fd < 0)
		s->fd = -1;
	return s->fd;
}

/* Kernel dev_t (major << 20 | minor, as sock_diag reports it) to the
 * st_dev that stat(2) returns. */
static uint64_t kdev_to_dev(uint32_t kdev)
{
	return makedev(kdev >> 20, kdev & 0xfffff);
}

static void parse_attrs(struct unixsock_info *out, struct rtattr *a, int len)
{
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		void *d = RTA_DATA(a);
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type == UNIX_DIAG_NAME) {
			unixsock_name(d, n, out->name);
		} else if (a->rta_type == UNIX_DIAG_PEER && n >= sizeof(uint32_t)) {
			uint32_t v;

			memcpy(&v, d, sizeof(v));
			out->peer_ino = v;
		} else if (a->rta_type == UNIX_DIAG_VFS &&
			   n >= sizeof(struct unix_diag_vfs)) {
			struct unix_diag_vfs v;

			memcpy(&v, d, sizeof(v));
			out->vfs_dev = kdev_to_dev(v.udiag_vfs_dev);
			out->vfs_ino = v.udiag_vfs_ino;
		}
	}
}

/* One exact query (sock_diag(7): a unix_diag_req with udiag_ino set and
 * no NLM_F_DUMP) and its answer. */
static int nl_lookup(struct unixsock *u, int fd, uint64_t ino,
		     struct unixsock_info *out)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = ++u->seq,
		},
		.r = {
			.sdiag_family = AF_UNIX,
			.udiag_states = ~0U,
			.udiag_ino = (uint32_t)ino,
			.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_VFS |
				      UDIAG_SHOW_PEER,
			.udiag_cookie = { NL_NOCOOKIE, NL_NOCOOKIE },
		},
	};
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (ino == 0 || ino > UINT32_MAX)
		return -ENOENT; /* socket inodes are 32-bit (get_next_ino) */
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	/* The kernel answers inside sendto(): the reply is queued by now.
	 * Replies to other sequence numbers (none are expected) are
	 * skipped. */
	for (;;) {
		struct nlmsghdr *h = (struct nlmsghdr *)u->buf;
		int len;

		n = recv(fd, u->buf, sizeof(u->buf), MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		len = (int)n;
		for (; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			struct unix_diag_msg *m;

			if (h->nlmsg_seq != req.nlh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EBADMSG;
				return e->error ? e->error : -ENOENT;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
			    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
				return -EBADMSG;
			m = NLMSG_DATA(h);
			if (m->udiag_ino != (uint32_t)ino)
				return -ENOENT;
			memset(out, 0, sizeof(*out));
			out->ino = m->udiag_ino;
			out->type = m->udiag_type;
			out->listening = m->udiag_state == UNIX_STATE_LISTEN;
			parse_attrs(out, (struct rtattr *)(m + 1),
				    (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m))));
			return 0;
		}
	}
}

/* One line of /proc/net/unix (net/unix/af_unix.c, unix_seq_show):
 * "Num: RefCount Protocol Flags Type St Inode[ Path]", the path already
 * in unixsock_name's form.  0, or -EINVAL for the header. */
static int parse_proc_line(const char *line, struct unixsock_info *out)
{
	unsigned flags, type, st;
	uint64_t ino;
	int n = 0;
	size_t len;

	if (sscanf(line, "%*[^:]: %*x %*x %x %x %x %" SCNu64 "%n", &flags,
		   &type, &st, &ino, &n) != 4 || n == 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->ino = ino;
	out->type = (uint8_t)type;
	out->listening = flags & PROC_ACCEPTCON;
	if (line[n] == ' ') {
		line += n + 1;
		len = strcspn(line, "\n");
		if (len >= UNIXSOCK_NAME_MAX)
			len = UNIXSOCK_NAME_MAX - 1;
		memcpy(out->name, line, len);
		out->name[len] = '\0';
	}
	return 0;
}

static int proc_lookup(uint32_t pid, uint64_t ino, struct unixsock_info *out)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int err = -ENOENT;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/net/unix", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0)
		if (parse_proc_line(line, out) == 0 && out->ino == ino) {
			err = 0;
			break;
		}
	free(line);
	fclose(f);
	return err;
}

struct unixsock *unixsock_new(void)
{
	struct unixsock *u = calloc(1, sizeof(*u));

	if (u)
		u->own_netns = netns_of(0);
	return u;
}

void unixsock_free(struct unixsock *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->nns; i++)
		if (u->ns[i].fd >= 0)
			close(u->ns[i].fd);
	free(u->walked);
	free(u);
}

int unixsock_lookup(struct unixsock *u, uint32_t pid, uint64_t ino,
		    struct unixsock_info *out)
{
	struct cached *c = &u->cache[util_hash64(ino) % CACHE_SLOTS];
	uint64_t now = util_now_ns(), netns;
	int fd, err = -ENOENT;

	if (ino && c->info.ino == ino && now - c->ts < UNIXSOCK_CACHE_NS) {
		*out = c->info;
		return 0;
	}
	netns = netns_of(pid);
	if (!netns)
		return -ESRCH;
	fd = ns_fd(u, netns, pid);
	if (fd >= 0)
		err = nl_lookup(u, fd, ino, out);
	/* Without netlink, or if it failed for another reason than "no
	 * such socket", /proc has the names (and no peers). */
	if (fd < 0 || (err && err != -ENOENT))
		err = proc_lookup(pid, ino, out);
	if (err)
		return err;
	c->info = *out;
	c->ts = now;
	return 0;
}

int unixsock_lookup_fd(struct unixsock *u, uint32_t pid, int32_t fd,
		       struct unixsock_info *out)
{
	uint64_t ino;
	int err = procfs_is_socket(pid, fd, &ino);

	if (err < 0)
		return err;
	if (err == 0)
		return -ENOTSOCK;
	return unixsock_lookup(u, pid, ino, out);
}

static void note_in(struct noted *t, uint64_t ino, uint32_t pid,
		    const char *comm)
{
	struct noted *n = &t[util_hash64(ino) % NOTED_SLOTS];

	if (!ino)
		return;
	n->ino = ino;
	n->pid = pid;
	snprintf(n->comm, sizeof(n->comm), "%s", comm ? comm : "");
}

static int noted_in(const struct noted *t, uint64_t ino, uint32_t not_pid,
		    uint32_t *pid, char comm[UNIXSOCK_COMM_LEN])
{
	const struct noted *n = &t[util_hash64(ino) % NOTED_SLOTS];

	if (!ino || n->ino != ino || n->pid == not_pid)
		return -ENOENT;
	*pid = n->pid;
	memcpy(comm, n->comm, UNIXSOCK_COMM_LEN);
	return 0;
}

void unixsock_note(struct unixsock *u, uint64_t ino, uint32_t pid,
		   const char *comm)
{
	note_in(u->noted, ino, pid, comm);
}

void unixsock_note_peer(struct unixsock *u, uint64_t ino, uint32_t pid,
			const char *comm)
{
	note_in(u->peers, ino, pid, comm);
}

int unixsock_noted_peer(const struct unixsock *u, uint64_t ino,
			uint32_t not_pid, uint32_t *pid,
			char comm[UNIXSOCK_COMM_LEN])
{
	return noted_in(u->peers, ino, not_pid, pid, comm);
}

static int by_ino(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The walk's table, growing. */
struct walk {
	struct held *t;
	size_t n, cap;
	uint32_t self;
};

static int walk_socket(void *ctx, uint32_t pid, int32_t fd, uint64_t ino)
{
	struct walk *w = ctx;

	(void)fd;
	if (w->n == w->cap) {
		size_t c = w->cap ? w->cap * 2 : 1024;
		struct held *p = realloc(w->t, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		w->t = p;
		w->cap = c;
	}
	w->t[w->n++] = (struct held){ .ino = ino, .pid = pid };
	return 0;
}

static int walk_pid(void *ctx, uint32_t pid)
{
	struct walk *w = ctx;

	return pid == w->self ? 0 : procfs_each_socket(pid, walk_socket, w);
}

/* Rebuilds u->walked from every process's fds (httpsnoop's own aside). */
static int walk(struct unixsock *u)
{
	struct walk w = { .self = (uint32_t)getpid() };
	int err = procfs_each_pid(walk_pid, &w);

	if (err) {
		free(w.t);
		return err;
	}
	qsort(w.t, w.n, sizeof(*w.t), by_ino);
	free(u->walked);
	u->walked = w.t;
	u->nwalked = w.n;
	return 0;
}

/* The process's command name; false when it is gone. */
static bool read_comm(uint32_t pid, char comm[UNIXSOCK_COMM_LEN])
{
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, UNIXSOCK_COMM_LEN - 1);
		close(fd);
	}
	if (n < 0) {
		comm[0] = '\0';
		return false;
	}
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	return true;
}

/* The holder of ino in the last walk, preferring one not not_pid. */
static bool walked_owner(const struct unixsock *u, uint64_t ino,
			 uint32_t not_pid, uint32_t *pid)
{
	struct held key = { .ino = ino, .pid = 0 };
	size_t lo = 0, hi = u->nwalked;
	bool found = false;

	while (lo < hi) { /* the first entry with this inode */
		size_t mid = lo + (hi - lo) / 2;

		if (by_ino(&u->walked[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < u->nwalked && u->walked[i].ino == ino; i++) {
		*pid = u->walked[i].pid;
		found = true;
		if (*pid != not_pid)
			break;
	}
	return found;
}

int unixsock_noted(const struct unixsock *u, uint64_t ino, uint32_t not_pid,
		   uint32_t *pid, char comm[UNIXSOCK_COMM_LEN])
{
	return noted_in(u->noted, ino, not_pid, pid, comm);
}

int unixsock_owner(struct unixsock *u, uint64_t ino, uint32_t not_pid,
		   uint32_t *pid, char comm[UNIXSOCK_COMM_LEN])
{
	bool have, limited = false;
	uint64_t now;
	int err;

	if (!ino)
		return -ENOENT;
	if (unixsock_noted(u, ino, not_pid, pid, comm) == 0)
		return 0;
	have = walked_owner(u, ino, not_pid, pid) && *pid != not_pid &&
	       read_comm(*pid, comm);
	if (!have) {
		/* Not seen, or only not_pid was: what /proc says now. */
		now = util_now_ns();
		limited = u->walk_ts && now - u->walk_ts < UNIXSOCK_WALK_GAP_NS;
		if (!limited) {
			u->walk_ts = now;
			err = walk(u);
			if (err)
				return err;
		}
		have = walked_owner(u, ino, not_pid, pid) && read_comm(*pid, comm);
	}
	if (have)
		return 0;
	/* Noted as not_pid itself, and nobody else holds it. */
	if (unixsock_noted(u, ino, 0, pid, comm) == 0)
		return 0;
	return limited ? -EAGAIN : -ENOENT;
}

/* A path name written as the kernel reads it, without empty and "."
 * components: "///run//podman/./podman.sock" is /run/podman/podman.sock
 * (path_resolution(7)).  ".." is left, a symlink may precede it. */
static void path_clean(char *s)
{
	char *w = s;

	if (s[0] != '/')
		return;
	for (const char *r = s; *r;) {
		if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
			r += r[1] == '/' ? 1 : 2;
			continue;
		}
		*w++ = *r++;
	}
	if (w > s + 1 && w[-1] == '/')
		w--;
	*w = '\0';
}

/* The last resort for a client whose socket and server connection are
 * gone before the lookup: the named path with its symlinks resolved, when
 * it names a socket file here (a client in another mount namespace keeps
 * the path as named), so that a client that connected through a link
 * names the socket file, not the link. */
static void named_real(const char *named, char *out)
{
	char *real = named[0] == '/' ? realpath(named, NULL) : NULL;
	struct stat sb;

	if (real && strlen(real) < UNIXSOCK_NAME_MAX && stat(real, &sb) == 0 &&
	    S_ISSOCK(sb.st_mode))
		snprintf(out, UNIXSOCK_NAME_MAX, "%s", real);
	else
		snprintf(out, UNIXSOCK_NAME_MAX, "%s", named);
	free(real);
}

/* The path the server bound, for a path a client named: remembered when
 * both were seen (name and bound non-empty), looked up otherwise. */
static bool bound_name(struct unixsock *u, const char *named, char *bound)
{
	struct bound *old = &u->bound[0];
	uint64_t now = util_now_ns();

	for (size_t i = 0; i < BOUND_SLOTS; i++) {
		struct bound *b = &u->bound[i];

		if (b->ts && !strcmp(b->named, named) &&
		    now - b->ts < UNIXSOCK_CACHE_NS) {
			if (bound[0]) {
				snprintf(b->bound, sizeof(b->bound), "%s", bound);
			} else {
				snprintf(bound, UNIXSOCK_NAME_MAX, "%s", b->bound);
			}
			b->ts = now;
			return true;
		}
		if (b->ts < old->ts)
			old = b;
	}
	if (!bound[0])
		return false;
	snprintf(old->named, sizeof(old->named), "%s", named);
	snprintf(old->bound, sizeof(old->bound), "%s", bound);
	old->ts = now;
	return true;
}

/* Copies a text name into a payload field of HS_UNIX_PATH_MAX bytes,
 * NUL-padded; returns its length. */
static uint8_t put_name(char dst[HS_UNIX_PATH_MAX], const char *name)
{
	size_t n = strnlen(name, HS_UNIX_PATH_MAX);

	memset(dst, 0, HS_UNIX_PATH_MAX);
	memcpy(dst, name, n);
	return (uint8_t)n;
}

int unixsock_complete(struct unixsock *u, uint32_t pid, int32_t fd,
		      struct hs_unix *p)
{
	char named[UNIXSOCK_NAME_MAX], local[UNIXSOCK_NAME_MAX] = "";
	char remote[UNIXSOCK_NAME_MAX] = "", comm[UNIXSOCK_COMM_LEN];
	struct unixsock_info self, other;
	uint32_t peer;

	if (p->resolved)
		return -EALREADY;
	unixsock_name(p->remote, p->remote_len < HS_UNIX_PATH_MAX ?
				 p->remote_len : HS_UNIX_PATH_MAX, named);
	path_clean(named);
	if (unixsock_lookup_fd(u, pid, fd, &self) == 0) {
		p->ino = self.ino;
		p->peer_ino = self.peer_ino;
		p->type = self.type;
		snprintf(local, sizeof(local), "%s", self.name);
	}
	/* A server's name is its listener's, which outlives the connection
	 * (the accepted socket may be closed by now). */
	if (!local[0] && p->listen_fd >= 0 &&
	    unixsock_lookup_fd(u, pid, p->listen_fd, &other) == 0)
		snprintf(local, sizeof(local), "%s", other.name);
	if (p->peer_ino && unixsock_lookup(u, pid, p->peer_ino, &other) == 0)
		snprintf(remote, sizeof(remote), "%s", other.name);
	/* A client's socket may be gone already (a CLI's last request): the
	 * path the server bound is the one found for the same named path
	 * before, else the named one stands. */
	if (named[0])
		bound_name(u, named, remote);
	if (!remote[0])
		named_real(named, remote);
	if (p->peer_ino && unixsock_owner(u, p->peer_ino, pid, &peer, comm) == 0) {
		p->peer_pid = peer;
		memset(p->peer_comm, 0, sizeof(p->peer_comm));
		memcpy(p->peer_comm, comm, strnlen(comm, sizeof(p->peer_comm)));
	}
	p->local_len = put_name(p->local, local);
	p->remote_len = put_name(p->remote, remote);
	p->resolved = 1;
	return 0;
}
