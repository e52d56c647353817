/* httpsnoop.bpf.c -- the eBPF probe: finds HTTP on TCP and Unix stream sockets and copies its bytes to user space.
 *
 * Compiled at startup by BCC.  It uses only syscall, sock, tcp and sched
 * tracepoints, user memory and helpers -- never kernel struct layouts --
 * because the kernel headers BCC compiles against may not match the
 * running kernel.  Socket I/O is seen one of two ways, chosen by user
 * space at run time (--hooks):
 *   - the socket-level hooks (HS_SOCK_HOOKS): one program per socket
 *     send or receive, on sock:sock_{send,recv}_length, which reads the
 *     syscall's fd and buffer from its saved registers (orig_ax names the
 *     syscall).  Reads and writes of files and pipes run nothing.
 *   - the syscall tracepoints: each I/O syscall's entry records the call
 *     in hs_active and its exit sends the bytes; the sock tracepoints,
 *     where the kernel has them, say whether the call was on a socket.
 * accept, connect, socket, close and sendfile are syscall tracepoints on
 * both.  Build-time knobs arrive as -D flags from user space:
 *   HS_SOCK_HOOKS     the socket-level hooks (needs HS_HAVE_SOCK_TP and
 *                     HS_TASK_REGS)
 *   HS_HAVE_SOCK_TP   sock:sock_{send,recv}_length exist (kernel >= 6.3)
 *   HS_HAVE_TCP_SEND_TP  with HS_SOCK_HOOKS: tcp:tcp_sendmsg_locked
 *                     exists (kernel >= 6.12) and dates TCP sends
 *   HS_TASK_REGS      a syscall's arguments can be read from the task's
 *                     saved registers (x86-64, kernel >= 5.15 with BTF)
 *   HS_PERF_BUFFER    no BPF ring buffer: use perf buffers
 *   HS_RINGBUF_PAGES  ring buffer size in pages (power of two)
 *   HS_RING_CPUS      a ring buffer per CPU, in hs_rings (this many
 *                     CPUs); hs_events is then only their template
 *   HS_FILTER_PID     only tgids in hs_pids are traced
 *   HS_FILTER_PORT    only connections with a port in hs_ports
 *   HS_FILTER_COMM    a string literal the task's comm must equal
 *   HS_FILTER_CGROUP  only tasks whose cgroup v2 id is in hs_cgroups
 *   HS_FILTER_UNIX    --unix: Unix connections pass (user space checks
 *                     their paths); with it and without HS_FILTER_PORT,
 *                     TCP connections do not
 *   HS_WAKEUP_BYTES   ring buffers: bytes of records a CPU submits
 *                     between consumer wake-ups (HS_WAKEUP_EVERY, the
 *                     records of an older probe, is still defined)
 *   HS_TLS            OpenSSL uprobes (uprobe__SSL_*) are compiled in
 *   HS_GOTLS          Go crypto/tls uprobes (uprobe__go_tls) too (with
 *                     HS_TLS; needs bpf_task_pt_regs, Linux 5.15)
 *   HS_TLS_SESSION    with HS_TLS and HS_SOCK_HOOKS: SSL_write and
 *                     SSL_write_ex in a uprobe session (hs_ssl_write,
 *                     Linux 6.13), which reports most writes at their
 *                     entry and spares their return probe
 *
 * The embedded copy is preceded by include/event.h, so `httpsnoop --ebpf`
 * prints a self-contained file that `--probe FILE` accepts back.
 */
#include <uapi/linux/ptrace.h> /* struct pt_regs, for the uprobes (uapi: stable) */

#include "event.h" /* replaced by the header's text when embedded */

#ifdef HS_SOCK_HOOKS /* which need both */
#ifndef HS_HAVE_SOCK_TP
#define HS_HAVE_SOCK_TP
#endif
#ifndef HS_TASK_REGS
#define HS_TASK_REGS
#endif
#endif
/* Sessions need TLS, and the socket-level hooks to see a write's socket
 * I/O fail (sock_io). */
#if defined(HS_TLS_SESSION) && (!defined(HS_TLS) || !defined(HS_SOCK_HOOKS))
#undef HS_TLS_SESSION
#endif

/* bpf_probe_read_user under a name of our own.  BCC checks each call to
 * it, by name, against the kernel's symbols, and loads all of
 * /proc/kallsyms to do so: half a second of start-up.  User space has
 * checked the helper already and says which one to use (plain
 * probe_read on kernels before 5.5). */
#ifndef HS_READ_USER_HELPER
#define HS_READ_USER_HELPER BPF_FUNC_probe_read_user
#endif
static long (*hs_read_user)(void *dst, __u32 size, const void *src) =
	(void *)HS_READ_USER_HELPER;

#define HS_AF_UNIX 1
#define HS_AF_INET 2
#define HS_AF_INET6 10
#define HS_IPPROTO_TCP 6
#define HS_IPPROTO_MPTCP 262
#define HS_TCP_ESTABLISHED 1
#define HS_EINPROGRESS 115
#define HS_MSG_PEEK 2
#define HS_SOCK_STREAM 1
#define HS_SOCK_SEQPACKET 5
#define HS_SOCK_TYPE_MASK 0xf /* socket(2)'s type without SOCK_NONBLOCK
			       * and SOCK_CLOEXEC */

/* What a syscall does with its buffer; recorded at entry. */
enum hs_kind {
	HS_K_BUF,      /* read/write/sendto/recvfrom: one buffer */
	HS_K_IOV,      /* readv/writev: an iovec array */
	HS_K_MSG,      /* sendmsg/recvmsg: a user_msghdr */
	HS_K_MMSG,     /* sendmmsg/recvmmsg: an mmsghdr array */
	HS_K_SENDFILE, /* sendfile: no user buffer */
	HS_K_ACCEPT,   /* accept/accept4: buf = sockaddr, arg = addrlen ptr */
	HS_K_CONNECT,  /* connect: buf = sockaddr, arg = addrlen */
	HS_K_SOCKET,   /* socket/socketpair of AF_UNIX: arg = type, buf =
			* the fd pair (socketpair) */
};

/* hs_active.is_sock: which socket the call is on, as the sock
 * tracepoints say. */
enum hs_sock {
	HS_SOCK_NONE = 0,
	HS_SOCK_TCP = 1,  /* AF_INET or AF_INET6, TCP or MPTCP */
	HS_SOCK_UNIX = 2, /* AF_UNIX, of any type (see HS_P_NOT_STREAM) */
};

/* The user ABI structs, spelled out so that no kernel header is needed
 * (x86_64 and arm64 layouts). */
struct hs_iovec {
	__u64 base;
	__u64 len;
};
struct hs_msghdr {
	__u64 name;
	__u32 namelen;
	__u32 pad0;
	__u64 iov;
	__u64 iovlen;
	__u64 control;
	__u64 controllen;
	__u32 flags;
	__u32 pad1;
};
struct hs_mmsghdr {
	struct hs_msghdr hdr;
	__u32 len;
	__u32 pad;
};
struct hs_sockaddr_in {
	__u16 family;
	__u16 port; /* network order */
	__u8 addr[4];
};
struct hs_sockaddr_in6 {
	__u16 family;
	__u16 port;
	__u32 flowinfo;
	__u8 addr[16];
};

/* A syscall in flight on one thread, between its enter and exit. */
struct hs_active {
	__u64 ts;   /* entry time */
	__u64 buf;  /* user pointer: buffer, iovec, msghdr or sockaddr */
	__u64 arg;  /* length, iovec count or addrlen (pointer) */
	__u64 sk;   /* socket seen by sock:sock_*_length, 0 if none */
	__s32 fd;
	__u8 kind;  /* enum hs_kind */
	__u8 dir;   /* enum hs_dir */
	__u8 is_sock; /* enum hs_sock */
	__u8 peek;  /* MSG_PEEK: bytes are not consumed */
	__u8 late;  /* entered before the probe was armed: made up inside
		     * the syscall from its registers (see late_entry) */
	__u8 pad[7];
};

struct hs_endpoints {
	struct hs_addr local;
	struct hs_addr remote;
};

/* The per-CPU scratch record.  The copy loop keeps its position in `base`
 * and `done` here, in map memory, on purpose: the verifier does not track
 * values loaded from a map, so paths through the loop merge instead of
 * multiplying.  Only ev and data are sent. */
struct hs_record {
	__u64 base;  /* stream offset of the syscall's first byte */
	__u64 done;  /* bytes of the syscall already sent */
	__u64 total; /* bytes the syscall moved */
	__u64 ubuf;  /* the user buffer, or the iovec array */
	__u64 cnt;   /* iovec count (0: ubuf is one buffer) */
	__u64 have;  /* bytes gathered in data from small iovec segments */
	struct hs_active call; /* the call stash_call left: kind, dir, ... */
	__s64 ret;	       /* ... the bytes it moved ... */
	__s32 key_fd;	       /* ... and its key in hs_conns */
	__u32 xret;	       /* what hs_data_tls returns: 1 for a write's
				* entry in a uprobe session (no return
				* probe), else 0 */
	struct hs_event ev;
	__u8 data[HS_CHUNK_MAX];
};

/* LRU: a thread killed inside a syscall never reaches its exit tracepoint,
 * and its entry must not hold a slot forever. */
BPF_TABLE("lru_hash", __u64, struct hs_active, hs_active, HS_MAX_ACTIVE);
#ifdef HS_SOCK_HOOKS
/* recvmmsg/sendmmsg move one message per sock tracepoint: the index of
 * the thread's next message, until the syscall's exit. */
BPF_TABLE("lru_hash", __u64, __u32, hs_mmsg_next, HS_MAX_ACTIVE);
/* Socket -> its connection, for socket I/O that names no buffer
 * (io_uring): a cache, checked against hs_conn.sk, so LRU. */
BPF_TABLE("lru_hash", __u64, struct hs_conn_key, hs_sk_conns, HS_MAX_SOCKS);
#endif
/* Connections; an insert into a full table is counted, never evicts. */
BPF_HASH(hs_conns, struct hs_conn_key, struct hs_conn, HS_MAX_CONNS);
/* Socket -> endpoints, from inet_sock_set_state; a cache, so LRU. */
BPF_TABLE("lru_hash", __u64, struct hs_endpoints, hs_socks, HS_MAX_SOCKS);
/* A Unix client's connect(2) path, by conn id, from the connect until
 * its connection shows whether it carries HTTP (the path then goes out
 * in its HS_EV_UNIX record): the address is gone once connect returns.
 * LRU: a connection that never moves a byte leaves its entry behind. */
struct hs_unix_name {
	__u32 len;
	char path[HS_UNIX_PATH_MAX];
};
BPF_TABLE("lru_hash", __u64, struct hs_unix_name, hs_unix_names, HS_MAX_UNIX_NAMES);
BPF_PERCPU_ARRAY(hs_stats, __u64, HS_STAT_MAX);
BPF_PERCPU_ARRAY(hs_scratch, struct hs_record, 1);
BPF_ARRAY(hs_next_id, __u64, 1);
/* Bumped whenever a thread's name or cgroup changes (see task_rename):
 * the connections' copies of them (hs_conn.hdr_*) are stale. */
BPF_ARRAY(hs_renames, __u32, 1);
/* [0]: set to 1 by user space once every program is attached: until
 * then a syscall may be seen at one end and not the other, and byte
 * positions would silently miss what went through unattached syscalls.
 * [1]: httpsnoop's own pid, never traced (a map value, not a -D flag, so
 * that the compiled probe is the same at every start and can be kept). */
BPF_ARRAY(hs_armed, __u32, 2);
/* Never used by the probe: user space reads its leaf size and entry count
 * to check that an edited probe agrees on struct hs_event and the ABI. */
BPF_ARRAY(hs_abi, struct hs_event, HS_ABI_VERSION);
#ifdef HS_FILTER_PID
BPF_HASH(hs_pids, __u32, __u8, HS_MAX_PIDS);
#endif
#ifdef HS_FILTER_PORT
BPF_HASH(hs_ports, __u16, __u8, HS_MAX_PORTS);
#endif
#ifdef HS_FILTER_CGROUP
BPF_HASH(hs_cgroups, __u64, __u8, HS_MAX_CGROUPS);
#endif
#ifdef HS_TLS
/* An SSL_read/SSL_write in flight on one thread, or the thread's last
 * one.  A returned call's entry stays (live 0) for the thread's next
 * call to overwrite in place: an LRU update allocates a node and a
 * delete frees it, each under a lock, and nginx makes five SSL calls
 * per request. */
struct hs_tls_call {
	__u64 ssl;    /* the SSL object */
	__u64 buf;    /* plaintext buffer */
	__u64 outlen; /* _ex variants: where the byte count goes */
	__u64 ts;     /* entry time */
	__s32 fd;     /* the socket seen by a syscall inside, or -1 */
	__u8 dir;
	__u8 ex;
	__u8 live;    /* 1 from the call's entry to its return */
	__u8 early;   /* a write reported at its entry (HS_TLS_SESSION) */
};
struct hs_ssl_key {
	__u64 ssl;
	__u32 tgid;
	__u32 pad;
};
/* An SSL object: where its plaintext goes in hs_conns, and its socket.
 * SSL_read may return buffered plaintext without a syscall, and a memory
 * BIO's never makes one: then this says where it belongs. */
struct hs_ssl {
	__s32 key_fd;  /* fd | HS_TLS_FD, or HS_SSL_FD(ssl) when its socket
			* was not known at its first plaintext */
	__s32 sock_fd; /* its socket, or -1 while not known */
	/* HS_TLS_SESSION: the last write reported at its entry, and what
	 * is known of it */
	__u64 wbuf, wend; /* its bytes' addresses */
	__u8 sock_bio;	  /* a syscall inside one of its calls used sock_fd:
			   * the object reads and writes it directly */
	__u8 retry;	  /* socket I/O inside that write failed: it returned
			   * for the caller to call it again, as it must, and
			   * that call's bytes are reported already */
	__u8 pad[6];
};
/* What a thread last did with ciphertext outside an SSL call: a memory
 * BIO's SSL object is tied to its socket by the socket I/O its thread
 * makes right before SSL_read (the receive) and right after SSL_write
 * (the send of the same bytes, sealed). */
struct hs_tls_recv {
	__u64 ts;
	__s32 fd;
	__u32 pad;
};
struct hs_tls_send {
	__u64 ssl; /* an SSL_write whose socket is not known */
	__u64 ts;
	__u64 len; /* its plaintext bytes */
};
BPF_TABLE("lru_hash", __u64, struct hs_tls_call, hs_tls_active, HS_MAX_ACTIVE);
/* The processes that have made TLS calls, with what they called (enum
 * hs_tls_lib bits): the socket I/O of any other process, nearly all of
 * it on most hosts, costs cipher_io this one lookup.  An entry is made at
 * a thread's first SSL call and at each Go TLS call, and goes at the
 * process's exit. */
enum hs_tls_lib { HS_LIB_SSL = 1, HS_LIB_GO = 2 };
BPF_TABLE("lru_hash", __u32, __u8, hs_tls_procs, HS_MAX_TLS_PROCS);
/* Bumped whenever hs_tls_procs gains a process or a library bit: the
 * connections' copies of their process's entry (hs_conn.tls_seen) are
 * stale. */
BPF_ARRAY(hs_tls_gen, __u32, 1);
BPF_TABLE("lru_hash", struct hs_ssl_key, struct hs_ssl, hs_ssls, HS_MAX_SSL);
BPF_TABLE("lru_hash", __u64, struct hs_tls_recv, hs_tls_recv, HS_MAX_ACTIVE);
BPF_TABLE("lru_hash", __u64, struct hs_tls_send, hs_tls_send, HS_MAX_ACTIVE);
/* How recent the socket I/O must be to tie an SSL object to it. */
#define HS_TIE_NS 50000000ULL
#endif
/* Most of the work is in programs of their own, reached by tail call, so
 * that the compiler builds it and the verifier checks it once, not once
 * per syscall: hs_data (what a data syscall's exit does with its bytes)
 * and the copy loops hs_emit_buf and hs_emit_iov.  User space loads them
 * as tracepoint programs into hs_calls and, for the uprobes, as kprobe
 * programs into hs_calls_kp (hs_data_tls in the HS_CALL_DATA slot); the
 * slots are enum hs_call in event.h. */
BPF_PROG_ARRAY(hs_calls, HS_CALL_MAX);
#ifdef HS_TLS
BPF_PROG_ARRAY(hs_calls_kp, HS_CALL_MAX);
#endif
#ifdef HS_TLS_SESSION
/* The same for hs_ssl_write, a uprobe session program: the kernel lets a
 * program tail-call only programs loaded for its attach type.  User
 * space loads hs_data_tls and hs_emit_buf once more, as session
 * programs, into this table, with uretprobe__SSL (HS_CALL_TLS_RET) for
 * the writes' returns, and loads them and hs_ssl_write with their
 * references to hs_calls_kp turned into references to it: the source
 * names hs_calls_kp alone, and clang builds each once. */
BPF_PROG_ARRAY(hs_calls_ks, HS_CALL_MAX);
#endif
#ifdef HS_PERF_BUFFER
/* hs_events wakes the reader only every so many records per CPU (user
 * space sets it when it opens the buffers); the few records that must
 * wake it at once (submit's `wake`) go to hs_urgent, which wakes it on
 * each.  User space puts the two back in time order. */
BPF_PERF_OUTPUT(hs_events);
BPF_PERF_OUTPUT(hs_urgent);
#elif defined(HS_RING_CPUS)
/* A ring buffer for each CPU, which user space makes and puts in
 * hs_rings: no lock or position is shared between CPUs, which one ring
 * costs about 130 ns a record when every CPU writes (bench/copyfloor -r).
 * User space puts the rings back in time order.  hs_events is the
 * template the kernel checks each ring against. */
BPF_RINGBUF_OUTPUT(hs_events, 1);
BPF_ARRAY_OF_MAPS(hs_rings, "hs_events", HS_RING_CPUS);
#else
BPF_RINGBUF_OUTPUT(hs_events, HS_RINGBUF_PAGES);
#endif

/* Keeps the compiler from moving memory accesses across it. */
#define hs_barrier() asm volatile("" ::: "memory")

/* A thread got a new name (exec, prctl(PR_SET_NAME), a write to its
 * comm file) or moved to another cgroup: the names and cgroups that
 * connections keep for their records (hs_conn.hdr_*) are to be read
 * again.  Raw tracepoints: their arguments are not needed, so no
 * record is built for them. */
static __always_inline int renamed(void)
{
	__u32 zero = 0, *gen = hs_renames.lookup(&zero);

	if (gen)
		__sync_fetch_and_add(gen, 1);
	return 0;
}

RAW_TRACEPOINT_PROBE(task_rename)
{
	return renamed();
}

RAW_TRACEPOINT_PROBE(cgroup_attach_task)
{
	return renamed();
}

static __always_inline void stat_add(__u32 idx, __u64 n)
{
	__u64 *v = hs_stats.lookup(&idx);

	if (v)
		*v += n;
}

#ifdef HS_FILTER_COMM
static __always_inline int comm_matches(void)
{
	char want[HS_COMM_LEN] = HS_FILTER_COMM;
	char comm[HS_COMM_LEN];

	bpf_get_current_comm(&comm, sizeof(comm));
#pragma unroll
	for (int i = 0; i < HS_COMM_LEN; i++) {
		if (comm[i] != want[i])
			return 0;
		if (comm[i] == 0)
			break;
	}
	return 1;
}
#endif

/* Cheap checks first: this runs on every read and write on the machine. */
static __always_inline int task_wanted_any_cgroup(__u32 tgid)
{
	__u32 zero = 0, one = 1;
	__u32 *armed = hs_armed.lookup(&zero), *self = hs_armed.lookup(&one);

	if (!armed || !*armed || !self || tgid == *self)
		return 0;
#ifdef HS_FILTER_PID
	if (!hs_pids.lookup(&tgid))
		return 0;
#endif
#ifdef HS_FILTER_COMM
	if (!comm_matches())
		return 0;
#endif
	return 1;
}

static __always_inline int task_wanted(__u32 tgid)
{
#ifdef HS_FILTER_CGROUP
	__u64 cg = bpf_get_current_cgroup_id();

	if (!hs_cgroups.lookup(&cg))
		return 0;
#endif
	return task_wanted_any_cgroup(tgid);
}

static __always_inline int enter(int fd, __u64 buf, __u64 arg, int kind,
				 int dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_active a = {};

	if (fd < 0 || !task_wanted(id >> 32))
		return 0;
	a.ts = bpf_ktime_get_ns();
	a.buf = buf;
	a.arg = arg;
	a.fd = fd;
	a.kind = kind;
	a.dir = dir;
	hs_active.update(&id, &a);
	return 0;
}

#ifdef HS_TASK_REGS
/* bpf_get_current_task_btf, bpf_task_pt_regs and bpf_probe_read_kernel,
 * by number (kernel 5.15 on, which user space has checked), so that older
 * kernel headers compile the probe too. */
static void *(*hs_current_task)(void) = (void *)158;
static void *(*hs_task_regs)(void *task) = (void *)175;
static long (*hs_read_kernel)(void *dst, __u32 size, const void *src) =
	(void *)113;

/* A syscall in flight that entered before the probe was armed -- a
 * server blocked in recv(2) on a keep-alive connection opened before
 * tracing -- has no entry, and its bytes would be lost.  Its entry is
 * made up from the first three arguments in the task's saved user
 * registers (di, si, dx on x86-64; the exit sets kind and dir).  Returns
 * 0, or -1 when they cannot be read. */
static __always_inline int late_entry(struct hs_active *a)
{
	struct pt_regs regs = {};
	void *r = hs_task_regs(hs_current_task());

	if (!r || hs_read_kernel(&regs, sizeof(regs), r) || (__s32)regs.di < 0)
		return -1;
	a->ts = bpf_ktime_get_ns();
	a->fd = regs.di;
	a->buf = regs.si;
	a->arg = regs.dx;
	a->late = 1;
	return 0;
}
#endif
#ifndef HS_SOCK_HOOKS
/* A Unix socket's I/O costs one lookup once its connection is known not
 * to carry HTTP, or to be a datagram socket (X11, D-Bus and journald
 * keep such sockets busy on real hosts): the call is forgotten here, and
 * its exit finds nothing to do. */
static __always_inline int unix_io_wanted(__u64 id, struct hs_active *a)
{
	struct hs_conn_key key = { .tgid = id >> 32, .fd = a->fd };
	struct hs_conn *c = hs_conns.lookup(&key);

	return !c || c->proto < HS_P_OTHER;
}

/* Inside sock_sendmsg/sock_recvmsg: the syscall in flight is on a socket,
 * and this is the one place that says so without reading kernel structs. */
static __always_inline void mark_sock(void *sk, __u16 family, __u16 protocol,
				      int flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_active *a;

	if (family == HS_AF_UNIX) {
		/* decided below, once the call's entry is there */
	} else if ((family != HS_AF_INET && family != HS_AF_INET6) ||
		   (protocol != HS_IPPROTO_TCP && protocol != HS_IPPROTO_MPTCP)) {
		return;
	}
	a = hs_active.lookup(&id);
	if (!a) {
#ifdef HS_TASK_REGS
		/* a syscall in flight at the start: TCP only */
		struct hs_active n = {};

		if (family == HS_AF_UNIX || !task_wanted(id >> 32) || late_entry(&n))
			return;
		hs_active.update(&id, &n);
		a = hs_active.lookup(&id);
		if (!a)
#endif
			return;
	}
	if (family == HS_AF_UNIX) {
		if (!unix_io_wanted(id, a)) {
			hs_active.delete(&id);
			return;
		}
		a->is_sock = HS_SOCK_UNIX;
	} else {
		a->is_sock = HS_SOCK_TCP;
	}
	a->sk = (__u64)sk;
	if (flags & HS_MSG_PEEK)
		a->peek = 1;
}

#ifdef HS_HAVE_SOCK_TP
TRACEPOINT_PROBE(sock, sock_send_length)
{
	mark_sock(args->sk, args->family, args->protocol, args->flags);
	return 0;
}

TRACEPOINT_PROBE(sock, sock_recv_length)
{
	mark_sock(args->sk, args->family, args->protocol, args->flags);
	return 0;
}
#endif
#endif /* !HS_SOCK_HOOKS */

TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
	__u64 sk = (__u64)args->skaddr;
	struct hs_endpoints e = {};

	/* Entries are not deleted at TCP_CLOSE: a reset connection's last
	 * bytes are still read after it (recv, then ECONNRESET), and need
	 * its addresses.  A socket reusing the address passes through
	 * ESTABLISHED before any data, which overwrites the entry; the LRU
	 * drops the rest. */
	if (args->protocol != HS_IPPROTO_TCP ||
	    args->newstate != HS_TCP_ESTABLISHED)
		return 0;
	e.local.family = args->family;
	e.remote.family = args->family;
	e.local.port = args->sport;
	e.remote.port = args->dport;
	if (args->family == HS_AF_INET) {
		__builtin_memcpy(e.local.addr, args->saddr, 4);
		__builtin_memcpy(e.remote.addr, args->daddr, 4);
	} else {
		__builtin_memcpy(e.local.addr, args->saddr_v6, 16);
		__builtin_memcpy(e.remote.addr, args->daddr_v6, 16);
	}
	hs_socks.update(&sk, &e);
	return 0;
}

static __always_inline __u64 next_conn_id(void)
{
	__u32 zero = 0;
	__u64 *n = hs_next_id.lookup(&zero);

	if (!n)
		return 0;
	return __sync_fetch_and_add(n, 1) + 1;
}

static __always_inline void read_sockaddr(struct hs_addr *out, __u64 uaddr)
{
	struct hs_sockaddr_in6 sa = {};

	/* A sockaddr_in (16 bytes) first: read as a sockaddr_in6 (28), one
	 * that ends a page runs into the next, which may not be mapped (Go
	 * puts them on goroutine stacks), and the read fails. */
	if (!uaddr || hs_read_user(&sa, sizeof(struct hs_sockaddr_in), (void *)uaddr))
		return;
	if (sa.family == HS_AF_INET6 && hs_read_user(&sa, sizeof(sa), (void *)uaddr))
		return;
	if (sa.family == HS_AF_INET) {
		struct hs_sockaddr_in *in = (struct hs_sockaddr_in *)&sa;

		out->family = HS_AF_INET;
		out->port = bpf_ntohs(in->port);
		__builtin_memcpy(out->addr, in->addr, 4);
	} else if (sa.family == HS_AF_INET6) {
		out->family = HS_AF_INET6;
		out->port = bpf_ntohs(sa.port);
		__builtin_memcpy(out->addr, sa.addr, 16);
	} else if (sa.family == HS_AF_UNIX) {
		out->family = HS_AF_UNIX; /* its names go in HS_EV_UNIX */
	}
}

#ifdef HS_FILTER_PORT
static __always_inline int port_wanted(struct hs_conn *c)
{
	__u16 l = c->local.port, r = c->remote.port;

	return hs_ports.lookup(&l) || hs_ports.lookup(&r);
}
#endif

#if defined(HS_FILTER_PORT) || defined(HS_FILTER_UNIX)
/* -P keeps TCP connections on its ports, --unix keeps Unix ones (their
 * paths are checked by user space, at their first record: a client may
 * name the path through a symlink or relatively, and a server's
 * listener may be inherited by its workers, so no path or listener
 * known here would be sure); given both, either will do. */
static __always_inline int filter_wanted(struct hs_conn *c)
{
	if (c->local.family == HS_AF_UNIX) {
#ifdef HS_FILTER_UNIX
		return 1;
#else
		return 0;
#endif
	}
#ifdef HS_FILTER_PORT
	return port_wanted(c);
#else
	return 0;
#endif
}
#endif

/* socket(2) and socketpair(2) of AF_UNIX.  The sock tracepoints do not
 * say a socket's type: a datagram or seqpacket socket made while tracing
 * is entered here as HS_P_NOT_STREAM, so that its I/O stops at
 * mark_sock's one lookup and never looks like HTTP; so is one accepted
 * on such a listener (new_conn).  One made before tracing is told apart
 * by user space, by its type, if it looks like HTTP and is still open
 * then.  A stream socket clears what its fd number's last owner left
 * behind (a close may go unseen: dup2, close_range). */
static __always_inline void new_socket(__u32 tgid, __s32 fd, __u64 type)
{
	struct hs_conn_key key = { .tgid = tgid, .fd = fd };
	struct hs_conn c = {};

	if ((type & HS_SOCK_TYPE_MASK) == HS_SOCK_STREAM) {
		hs_conns.delete(&key);
		return;
	}
	c.proto = HS_P_NOT_STREAM;
	c.listen_fd = -1;
	hs_conns.update(&key, &c);
	stat_add(HS_STAT_UNIX_NOT_STREAM, 1);
}

static __always_inline int not_stream_listener(__u32 tgid, __s32 fd)
{
	struct hs_conn_key key = { .tgid = tgid, .fd = fd };
	struct hs_conn *l = hs_conns.lookup(&key);

	return l && l->proto == HS_P_NOT_STREAM;
}

/* accept/connect on a Unix socket.  A client's connect(2) path is kept
 * for its HS_EV_UNIX record; a server's name is its listener's, which
 * user space reads through listen_fd.  A datagram socket's connect
 * (syslog(3) does it) leaves the socket's entry alone. */
static __always_inline void unix_conn(struct hs_active *a,
				      struct hs_conn_key *key, struct hs_conn *c)
{
	struct hs_conn *old = hs_conns.lookup(key);
	struct hs_unix_name n = {};
	__u64 len = a->arg;

	if (old && old->proto == HS_P_NOT_STREAM)
		return;
	c->local.family = HS_AF_UNIX;
	c->id = next_conn_id();
	c->last_ts = bpf_ktime_get_ns();
	if (hs_conns.update(key, c)) {
		stat_add(HS_STAT_CONN_FULL, 1);
		return;
	}
	if (c->role != HS_ROLE_CLIENT || len <= 2)
		return;
	/* sun_path follows the 2-byte family; addrlen counts both. */
	len -= 2;
	if (len > HS_UNIX_PATH_MAX)
		len = HS_UNIX_PATH_MAX;
	if (hs_read_user(n.path, len, (void *)(a->buf + 2)))
		return;
	n.len = len;
	hs_unix_names.update(&c->id, &n);
}

/* accept/connect: a new connection with a known role.  Any older entry for
 * the fd is replaced, which gives a reused fd a new id. */
static __always_inline void new_conn(struct hs_active *a, __s32 fd, int role)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_conn_key key = { .tgid = id >> 32, .fd = fd };
	struct hs_conn c = {};

	c.role = role;
	c.listen_fd = role == HS_ROLE_SERVER ? a->fd : -1;
	read_sockaddr(&c.remote, a->buf);
	if (role == HS_ROLE_SERVER &&
	    (c.remote.family == HS_AF_UNIX || c.remote.family == 0) &&
	    not_stream_listener(key.tgid, a->fd)) {
		/* accept(2) on a seqpacket listener made while tracing:
		 * the new socket is seqpacket too. */
		new_socket(key.tgid, fd, HS_SOCK_SEQPACKET);
		return;
	}
	if (c.remote.family == HS_AF_UNIX) {
		unix_conn(a, &key, &c);
		return;
	}
	if (c.remote.family != HS_AF_INET && c.remote.family != HS_AF_INET6) {
		/* Another family: not ours.  accept(2) with a NULL address
		 * leaves it unknown (maybe Unix: the sock tracepoints say
		 * at its first byte), so keep those. */
		if (!(role == HS_ROLE_SERVER && !a->buf))
			return;
		c.remote.family = 0;
	}
	c.id = next_conn_id();
	c.last_ts = bpf_ktime_get_ns();
	if (hs_conns.update(&key, &c))
		stat_add(HS_STAT_CONN_FULL, 1);
}

/* HTTP/2 (RFC 9113 section 3.4): the client preface, or the SETTINGS
 * frame a server's preface is; on a connection first seen mid-stream,
 * any 9-byte frame header whose first 8 bytes could be one (a length up
 * to 16 KiB, a type up to CONTINUATION with only its flags, the reserved
 * bit clear, stream 0 for SETTINGS, PING and GOAWAY).  User space checks
 * a run of frames and drops the connection (probe_ignore) if it is not
 * HTTP/2 after all. */
static __always_inline int looks_h2(__u8 *b, int midstream)
{
	__u8 flags = 0;

	if (b[0] == 'P' && b[1] == 'R' && b[2] == 'I' && b[3] == ' ' &&
	    b[4] == '*' && b[5] == ' ' && b[6] == 'H' && b[7] == 'T')
		return 1;
	if (b[0] != 0 || b[1] >= 0x40 || b[3] > 9 || (b[5] & 0x80))
		return 0;
	if (b[3] == 4 && b[4] == 0 && (b[5] | b[6] | b[7]) == 0 &&
	    ((__u32)b[1] << 8 | b[2]) % 6 == 0)
		return 1;
	if (!midstream)
		return 0;
	switch (b[3]) {
	case 0: /* DATA: END_STREAM, PADDED */
		flags = 0x09;
		break;
	case 1: /* HEADERS: + END_HEADERS, PRIORITY */
		flags = 0x2d;
		break;
	case 4: /* SETTINGS, PING: ACK */
	case 6:
		flags = 0x01;
		break;
	case 5: /* PUSH_PROMISE: END_HEADERS, PADDED */
		flags = 0x0c;
		break;
	case 9: /* CONTINUATION: END_HEADERS */
		flags = 0x04;
		break;
	}
	if (b[4] & ~flags)
		return 0;
	if ((b[3] == 4 || b[3] == 6 || b[3] == 7) && (b[5] | b[6] | b[7]))
		return 0;
	return 1;
}

static __always_inline int looks_http(__u8 *b, int midstream)
{
	/* Request methods (RFC 9110 section 9, plus PATCH) and the status
	 * line of a response (RFC 9112 section 4). */
	if (b[0] == 'G' && b[1] == 'E' && b[2] == 'T' && b[3] == ' ')
		return 1;
	if (b[0] == 'P' && b[1] == 'O' && b[2] == 'S' && b[3] == 'T' &&
	    b[4] == ' ')
		return 1;
	if (b[0] == 'P' && b[1] == 'U' && b[2] == 'T' && b[3] == ' ')
		return 1;
	if (b[0] == 'H' && b[1] == 'E' && b[2] == 'A' && b[3] == 'D' &&
	    b[4] == ' ')
		return 1;
	if (b[0] == 'D' && b[1] == 'E' && b[2] == 'L' && b[3] == 'E' &&
	    b[4] == 'T' && b[5] == 'E' && b[6] == ' ')
		return 1;
	if (b[0] == 'P' && b[1] == 'A' && b[2] == 'T' && b[3] == 'C' &&
	    b[4] == 'H' && b[5] == ' ')
		return 1;
	if (b[0] == 'O' && b[1] == 'P' && b[2] == 'T' && b[3] == 'I' &&
	    b[4] == 'O' && b[5] == 'N' && b[6] == 'S')
		return 1;
	if (b[0] == 'C' && b[1] == 'O' && b[2] == 'N' && b[3] == 'N' &&
	    b[4] == 'E' && b[5] == 'C' && b[6] == 'T')
		return 1;
	if (b[0] == 'T' && b[1] == 'R' && b[2] == 'A' && b[3] == 'C' &&
	    b[4] == 'E' && b[5] == ' ')
		return 1;
	if (b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' &&
	    b[4] == '/' && b[5] == '1' && b[6] == '.')
		return 1;
	return looks_h2(b, midstream);
}

#ifndef HS_WAKEUP_BYTES
#define HS_WAKEUP_BYTES (1 << 20)
#endif
/* Bytes of the records this CPU has submitted to a ring buffer. */
BPF_PERCPU_ARRAY(hs_wake_bytes, __u64, 1);

/* Wake-ups cost an irq_work and a context switch each (the irq_work a
 * self-IPI, which in a VM exits to the hypervisor), so a CPU wakes the
 * consumer only when its records pass another HS_WAKEUP_BYTES (or when
 * `wake` asks): a fraction of the ring, so that it is woken well before
 * the ring is full, whatever the records' sizes.  Its poll timeout picks
 * up the rest.  (Perf buffers wake it every so many records.) */
static __always_inline void submit(void *ctx, struct hs_record *r, __u32 n,
				   int wake)
{
	__u32 size = sizeof(struct hs_event) + n;
	__u32 idx = HS_STAT_EVENTS;
	__u64 *events = hs_stats.lookup(&idx);
	long err;

	if (size > sizeof(r->ev) + sizeof(r->data) || !events)
		return;
#ifdef HS_PERF_BUFFER
	if (wake)
		err = hs_urgent.perf_submit(ctx, &r->ev, size);
	else
		err = hs_events.perf_submit(ctx, &r->ev, size);
#else
	__u32 zero = 0;
	__u64 *sent = hs_wake_bytes.lookup(&zero);

	if (sent) {
		if ((*sent + size) / HS_WAKEUP_BYTES != *sent / HS_WAKEUP_BYTES)
			wake = 1;
		*sent += size;
	}
#ifdef HS_RING_CPUS
	__u32 cpu = bpf_get_smp_processor_id();
	void *ring = hs_rings.lookup(&cpu);

	err = ring ? bpf_ringbuf_output(ring, &r->ev, size,
					wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP)
		   : -1;
#else
	err = hs_events.ringbuf_output(&r->ev, size, wake ? BPF_RB_FORCE_WAKEUP
						     : BPF_RB_NO_WAKEUP);
#endif
#endif
	if (err == 0) {
		*events += 1;
	} else {
		stat_add(HS_STAT_LOST, 1);
		stat_add(HS_STAT_LOST_BYTES, r->ev.span);
	}
}

/* The thread's name and cgroup, in ev.  Asking the kernel for them costs
 * about a tenth of a record's time in the probe, so a connection keeps
 * what its last record said (hdr_*) and the next record from the same
 * thread copies that, unless a name or a cgroup changed anywhere on the
 * machine since (hs_renames, see task_rename below).  A record from
 * another thread of the process rewrites them: hdr_tid is 0 meanwhile,
 * and a copy is kept only if hdr_tid was the reader's before and after
 * it, so two threads on one socket never mix their names. */
static __always_inline void header_task(struct hs_event *ev,
					struct hs_conn *c, __u32 tid)
{
	volatile struct hs_conn *vc = c;
	__u32 zero = 0, g, *gen = hs_renames.lookup(&zero);

	if (!gen)
		goto ask;
	g = *(volatile __u32 *)gen;
	if (vc->hdr_tid == tid && vc->hdr_gen == g) {
		hs_barrier();
		ev->cgroup_id = c->hdr_cgroup;
		__builtin_memcpy(ev->comm, c->hdr_comm, sizeof(ev->comm));
		hs_barrier();
		if (vc->hdr_tid == tid)
			return;
	}
ask:
	ev->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(&ev->comm, sizeof(ev->comm));
	if (!gen)
		return;
	vc->hdr_tid = 0;
	hs_barrier();
	vc->hdr_gen = g;
	c->hdr_cgroup = ev->cgroup_id;
	__builtin_memcpy(c->hdr_comm, ev->comm, sizeof(c->hdr_comm));
	hs_barrier();
	vc->hdr_tid = tid;
}

static __always_inline void fill_header(struct hs_event *ev,
					struct hs_conn *c, __s32 fd, __u64 ts)
{
	__u64 id = bpf_get_current_pid_tgid();

	ev->ts_ns = ts;
	ev->conn_id = c->id;
	ev->tgid = id >> 32;
	ev->tid = (__u32)id;
	ev->fd = fd;
	ev->role = c->role;
	ev->flags = c->flags & (HS_F_UNVERIFIED | HS_F_TLS);
	header_task(ev, c, (__u32)id);
	__builtin_memcpy(&ev->local, &c->local, sizeof(ev->local));
	__builtin_memcpy(&ev->remote, &c->remote, sizeof(ev->remote));
}

/* Sends one record covering the next `span` stream bytes, of which the
 * first min(span, HS_CHUNK_MAX) are copied from `ubuf` (none if ubuf is
 * 0); the rest of the span is a gap. */
static __always_inline void emit_one(void *ctx, struct hs_record *r,
				     __u64 ubuf, __u64 span)
{
	__u8 flags = r->ev.flags;
	__u64 n = span;

	if (n > HS_CHUNK_MAX)
		n = HS_CHUNK_MAX;
	if (!ubuf)
		n = 0;
	if (n && hs_read_user(r->data, n, (void *)ubuf)) {
		stat_add(HS_STAT_READ_FAIL, 1);
		n = 0;
	}
	r->ev.pos = r->base + r->done;
	r->ev.span = span > 0xffffffffULL ? 0xffffffff : span;
	r->ev.captured = n;
	if (span > n && ubuf)
		stat_add(HS_STAT_GAP_BYTES, span - n);
	submit(ctx, r, n, 0);
	r->ev.flags = flags & ~HS_F_START;
	r->done += span;
}

/* One user buffer: up to HS_MAX_RECORDS full chunks, the last record
 * carrying whatever is left as a gap.  Without a buffer (ubuf 0:
 * sendfile) there is nothing to copy, and one record is the whole gap. */
static __always_inline void emit_buf(void *ctx, struct hs_record *r,
				     __u64 ubuf)
{
	if (!ubuf) {
		emit_one(ctx, r, 0, r->total - r->done);
		return;
	}
	for (int i = 0; i < HS_MAX_RECORDS; i++) {
		__u64 done = r->done, span = r->total - done;

		if (done >= r->total)
			break;
		if (span > HS_CHUNK_MAX && i < HS_MAX_RECORDS - 1)
			span = HS_CHUNK_MAX;
		emit_one(ctx, r, ubuf + done, span);
	}
}

/* Sends the `have` bytes gathered in r->data from small segments as one
 * record. */
static __always_inline void emit_gathered(void *ctx, struct hs_record *r)
{
	__u64 n = r->have;

	if (!n || n > HS_CHUNK_MAX)
		return;
	r->ev.pos = r->base + r->done;
	r->ev.span = n;
	r->ev.captured = n;
	submit(ctx, r, n, 0);
	r->ev.flags &= ~HS_F_START;
	r->done += n;
	r->have = 0;
}

/* An iovec array.  Segments of up to HS_GATHER bytes are gathered into
 * one record while it has room (a response's headers and body, written
 * with one writev, cost one record, not two: each record is a trip
 * through the ring buffer's lock).  A longer segment is a record of its
 * own, carried as a gap past HS_CHUNK_MAX, as are segments past
 * HS_MAX_SEGS. */
#define HS_GATHER (HS_CHUNK_MAX / 2)
/* The first HS_IOV_BATCH iovecs are read with one copy (each copy from
 * user memory costs about 100 ns here, and a response written with
 * writev has two or three); the rest one by one. */
#define HS_IOV_BATCH 4
static __always_inline void emit_iov(void *ctx, struct hs_record *r,
				     __u64 uiov, __u64 cnt)
{
	struct hs_iovec first[HS_IOV_BATCH] = {};
	__u32 n = cnt < HS_IOV_BATCH ? cnt : HS_IOV_BATCH;

	r->have = 0;
	/* Unreadable, they are a gap, as when one read of an entry failed.
	 * (The loop's tests are of i alone, which the verifier knows in
	 * each turn, so that it walks one path through them.) */
	if (n && hs_read_user(first, n * sizeof(first[0]), (void *)uiov))
		cnt = 0;
	for (int i = 0; i < HS_MAX_SEGS; i++) {
		struct hs_iovec v = {};
		__u64 have = r->have, left = r->total - r->done - have;

		if (i >= cnt || r->done + have >= r->total)
			break;
		if (i < HS_IOV_BATCH)
			v = first[i];
		else if (hs_read_user(&v, sizeof(v), (void *)(uiov + i * sizeof(v))))
			break;
		if (v.len > left)
			v.len = left;
		if (!v.len)
			continue;
		if (have < HS_GATHER && v.len <= HS_GATHER) {
			/* The mask only tells the verifier what the test
			 * above says: the copy stays inside r->data. */
			if (hs_read_user(r->data + (have & (HS_GATHER - 1)), v.len,
					 (void *)v.base) == 0) {
				r->have = have + v.len;
				continue;
			}
			stat_add(HS_STAT_READ_FAIL, 1);
			emit_gathered(ctx, r);
			emit_one(ctx, r, 0, v.len);
			continue;
		}
		emit_gathered(ctx, r);
		emit_one(ctx, r, v.base, v.len);
	}
	emit_gathered(ctx, r);
	if (r->done < r->total)
		emit_one(ctx, r, 0, r->total - r->done);
}

/* sendmmsg/recvmmsg return a message count: the stream moved by the sum of
 * the messages' lengths (the first HS_MMSG_MAX of them). */
#define HS_MMSG_MAX 8
static __always_inline long mmsg_bytes(__u64 umsgs, long count)
{
	long sum = 0;

#pragma unroll
	for (int i = 0; i < HS_MMSG_MAX; i++) {
		__u32 len = 0;

		if (i >= count)
			break;
		if (hs_read_user(&len, sizeof(len),
					(void *)(umsgs + i * sizeof(struct hs_mmsghdr) +
						 offsetof(struct hs_mmsghdr, len))))
			break;
		sum += len;
	}
	return sum;
}

/* Where the syscall's bytes are: one buffer (*iov == 0) or an iovec
 * array.  `kind` is a constant in each caller, so each program carries
 * only its own case. */
static __always_inline __u64 locate(int kind, struct hs_active *a,
				    __u64 *iov, __u64 *cnt)
{
	*iov = 0;
	*cnt = 0;
	if (kind == HS_K_IOV) {
		*iov = a->buf;
		*cnt = a->arg;
	} else if (kind == HS_K_MSG || kind == HS_K_MMSG) {
		/* For mmsg only the first message is copied; the others
		 * are a gap (HTTP does not batch messages in practice). */
		struct hs_msghdr m = {};

		if (hs_read_user(&m, sizeof(m), (void *)a->buf))
			return 0;
		*iov = m.iov;
		*cnt = m.iovlen;
	} else if (kind == HS_K_BUF) {
		return a->buf;
	}
	return 0;
}

/* Goes on in program `slot` of hs_calls (of hs_calls_kp from a uprobe,
 * tls).  Returns only if the tail call failed: the `ret` bytes are lost,
 * and counted. */
static __always_inline int tail_call(void *ctx, int tls, __u32 slot, long ret)
{
#ifdef HS_TLS
	if (tls)
		hs_calls_kp.call(ctx, slot);
	else
#endif
		hs_calls.call(ctx, slot);
	stat_add(HS_STAT_LOST, 1);
	stat_add(HS_STAT_LOST_BYTES, ret);
	return 0;
}

/* The entry of connection (tgid, key_fd), made when the first bytes of a
 * connection seen mid-stream (or an SSL object's first plaintext)
 * arrive.  NULL when the table is full (counted). */
static __always_inline struct hs_conn *conn_entry(struct hs_conn_key *key,
						  struct hs_active *a, int tls)
{
	struct hs_conn *c = hs_conns.lookup(key);
	struct hs_conn n = {};

	if (c)
		return c;
	n.id = next_conn_id();
	n.listen_fd = -1;
#ifndef HS_HAVE_SOCK_TP
	if (!tls)
		n.flags = HS_F_UNVERIFIED;
#endif
	if (tls) {
		/* Role and addresses come from the socket under it. */
		struct hs_conn_key sk = { .tgid = key->tgid, .fd = a->fd };
		struct hs_conn *s = hs_conns.lookup(&sk);

		if (s) {
			n.role = s->role;
			__builtin_memcpy(&n.local, &s->local, sizeof(n.local));
			__builtin_memcpy(&n.remote, &s->remote, sizeof(n.remote));
		}
		n.flags = HS_F_TLS;
	}
	/* Another thread may have inserted it meanwhile: only a failed
	 * lookup after the insert means the table is full. */
	hs_conns.insert(key, &n);
	c = hs_conns.lookup(key);
	if (!c)
		stat_add(HS_STAT_CONN_FULL, 1);
	return c;
}

/* The connection's addresses, once the socket under the call (a->sk,
 * from the sock tracepoints) has them. */
static __always_inline void conn_endpoints(struct hs_conn *c, struct hs_active *a)
{
	if (c->local.family == 0 && a->sk) {
		__u64 sk = a->sk;
		struct hs_endpoints *e = hs_socks.lookup(&sk);

		if (e) {
			__builtin_memcpy(&c->local, &e->local, sizeof(c->local));
			__builtin_memcpy(&c->remote, &e->remote, sizeof(c->remote));
		}
	}
}

/* Moves the connection's position in direction dir past the `ret`
 * bytes, into *pos the offset of the first.  Returns 0 when they go no
 * further: the connection is not HTTP, is ignored, or -P (--unix)
 * filters it out now that its addresses (family) are known from the
 * socket, a.sk (a.is_sock). */
static __always_inline int conn_advance(struct hs_conn *c, struct hs_active *a,
					long ret, __u64 *pos)
{
	if (c->proto >= HS_P_OTHER) {
		c->pos[a->dir & 1] += ret;
		if (c->proto == HS_P_OTHER)
			stat_add(HS_STAT_NON_HTTP_BYTES, ret);
		return 0;
	}
	if (c->local.family == 0 && a->is_sock == HS_SOCK_UNIX) {
		c->local.family = HS_AF_UNIX;
		c->remote.family = HS_AF_UNIX;
	} else {
		conn_endpoints(c, a);
	}
#if defined(HS_FILTER_PORT) || defined(HS_FILTER_UNIX)
	if (c->local.family != 0 && !filter_wanted(c)) {
		c->proto = HS_P_IGNORE;
		return 0;
	}
#endif
	*pos = __sync_fetch_and_add(&c->pos[a->dir & 1], ret);
	return 1;
}

/* Up to HS_INFER_LEN first bytes of the call's data, little-endian in
 * *t: from buf, or gathered from the first segments of an iovec array
 * (writev("POST", " /x HTTP/1.1...") happens, even one byte per
 * segment).  Returns how many, 0 if none could be read. */
static __always_inline __u64 infer_bytes(__u64 buf, __u64 iov, __u64 cnt,
					 long ret, __u64 *t)
{
	__u64 n = ret < HS_INFER_LEN ? ret : HS_INFER_LEN, got = 0;

	*t = 0;
	if (!iov) {
		if (n == 0 || n > 8 || hs_read_user(t, n, (void *)buf))
			return 0;
		if (n < 8)
			*t &= (1ULL << (8 * n)) - 1;
		return n;
	}
#pragma unroll
	for (int i = 0; i < HS_INFER_LEN; i++) {
		struct hs_iovec v = {};
		__u64 t2 = 0, k;

		if (i >= cnt || got >= n ||
		    hs_read_user(&v, sizeof(v), (void *)(iov + i * sizeof(v))))
			break;
		k = v.len < n - got ? v.len : n - got;
		if (k == 0)
			continue;
		if (k > 8 || got > 7 || hs_read_user(&t2, k, (void *)v.base))
			break;
		if (k < 8)
			t2 &= (1ULL << (8 * k)) - 1;
		*t |= t2 << (8 * got);
		got += k;
	}
	return got;
}

/* A Unix connection found not HTTP: counted once (counting its bytes
 * would cost a lookup per I/O), and its connect path forgotten. */
static __always_inline void unix_other(struct hs_conn *c)
{
	__u64 cid = c->id;

	stat_add(HS_STAT_UNIX_OTHER, 1);
	hs_unix_names.delete(&cid);
}

/* A Unix connection's first HTTP bytes: its names go first, in an
 * HS_EV_UNIX record that wakes the reader at once, so that user space
 * looks up the rest (the server's path, the peer) while both ends are
 * still open. */
static __always_inline void unix_names(void *ctx, struct hs_conn *c, __s32 fd,
				       __u64 ts)
{
	__u32 zero = 0;
	struct hs_record *r = hs_scratch.lookup(&zero);
	struct hs_unix_name *n;
	struct hs_unix *u;
	__u64 cid = c->id;

	if (!r)
		return;
	u = (struct hs_unix *)r->data;
	__builtin_memset(u, 0, sizeof(*u));
	u->listen_fd = c->listen_fd;
	n = hs_unix_names.lookup(&cid);
	if (n) {
		u->remote_len = n->len > HS_UNIX_PATH_MAX ? HS_UNIX_PATH_MAX : n->len;
		__builtin_memcpy(u->remote, n->path, HS_UNIX_PATH_MAX);
		hs_unix_names.delete(&cid);
	}
	fill_header(&r->ev, c, fd, ts);
	r->ev.type = HS_EV_UNIX;
	r->ev.dir = 0;
	r->ev.pos = 0;
	r->ev.span = 0;
	r->ev.captured = sizeof(*u);
	r->ev.syscall_len = 0;
	submit(ctx, r, sizeof(*u), 1);
}

/* Protocol inference on the n first bytes t of a call moving `ret`
 * bytes at offset pos.  The stream's first bytes may come a few at a
 * time: they wait in the entry (head) until there are enough to tell,
 * and *have says how many of them go out first.  Returns 1 when the
 * connection is HTTP. */
static __always_inline int infer(struct hs_conn *c, int dir, __u64 pos,
				 long ret, __u64 t, __u64 n, __u32 *have)
{
	union {
		__u64 v;
		__u8 b[HS_INFER_LEN];
	} h = {};

	if (c->nhead && c->head_dir == dir && pos == c->nhead)
		*have = c->nhead & 7;
	h.v = c->head | (t << (8 * *have));
	if (*have + n < HS_INFER_LEN && n == ret && pos == *have) {
		c->head = h.v;
		c->nhead = *have + n;
		c->head_dir = dir;
		return 0;
	}
	if (looks_http(h.b, c->role == HS_ROLE_UNKNOWN)) {
		c->proto = HS_P_HTTP;
		return 1;
	}
	if (c->role != HS_ROLE_UNKNOWN || ++c->tries >= HS_INFER_TRIES) {
		/* A connection seen from its start opens with its protocol;
		 * a mid-stream one gets more chances. */
		c->proto = HS_P_OTHER;
		if (c->local.family == HS_AF_UNIX)
			unix_other(c);
		else
			stat_add(HS_STAT_NON_HTTP_BYTES, ret);
	}
	return 0;
}

/* The header of the call's records, in the scratch record r; the first
 * record of a direction says so (HS_F_START).  The `have` bytes that
 * waited for inference go out first, from the entry, as the stream's
 * offset 0. */
static __always_inline void record_start(void *ctx, struct hs_record *r,
					 struct hs_conn *c, struct hs_active *a,
					 __u64 ts, long ret, int kind, __u32 have)
{
	fill_header(&r->ev, c, a->fd, ts);
	r->ev.type = HS_EV_DATA;
	r->ev.dir = a->dir;
	r->ev.syscall_len = ret > 0xffffffffL ? 0xffffffff : ret;
	if (kind == HS_K_SENDFILE)
		r->ev.flags |= HS_F_SENDFILE;
	if (!(c->flags & HS_CF_SENT(a->dir))) {
		c->flags |= HS_CF_SENT(a->dir);
		r->ev.flags |= HS_F_START;
	}
	if (have) {
		__builtin_memcpy(r->data, &c->head, 8);
		r->ev.pos = 0;
		r->ev.span = have;
		r->ev.captured = have;
		submit(ctx, r, have & 7, 0);
		r->ev.flags &= ~HS_F_START;
	}
}

#ifdef HS_TLS
/* Ties SSL object s to socket fd of process tgid: its records carry fd
 * from now on, with the socket's role and addresses; the socket's bytes
 * are ciphertext, neither parsed nor counted; and closing the socket
 * closes the plaintext's entry.  A socket tied to another SSL object
 * stays with it.  A tie by correlation (not `sure`: no syscall inside an
 * SSL call said so) needs a socket seen outside SSL calls only. */
static __always_inline void tls_tie(__u32 tgid, struct hs_ssl *s, __s32 fd,
				    int sure)
{
	struct hs_conn_key sk = { .tgid = tgid, .fd = fd };
	struct hs_conn_key pk = { .tgid = tgid, .fd = s->key_fd };
	struct hs_conn *sc = hs_conns.lookup(&sk), *pc;

	if (sc && (sc->flags & HS_CF_LINKED) && sc->link != s->key_fd)
		return;
	if (!sure && (!sc || (sc->flags & HS_CF_SSL_IO)))
		return;
	s->sock_fd = fd;
	if (!sc)
		return;
	sc->proto = HS_P_IGNORE;
	sc->link = s->key_fd;
	sc->flags |= HS_CF_LINKED;
	pc = hs_conns.lookup(&pk);
	if (pc && pc->local.family == 0) {
		pc->role = sc->role;
		__builtin_memcpy(&pc->local, &sc->local, sizeof(pc->local));
		__builtin_memcpy(&pc->remote, &sc->remote, sizeof(pc->remote));
	}
}

/* Notes that process tgid calls the TLS library lib. */
static __always_inline void tls_proc_add(__u32 tgid, __u8 lib)
{
	__u32 zero = 0, *gen;
	__u8 *v = hs_tls_procs.lookup(&tgid);

	if (v && (*v & lib))
		return;
	if (!v)
		hs_tls_procs.update(&tgid, &lib);
	else
		*v |= lib;
	hs_barrier();
	gen = hs_tls_gen.lookup(&zero);
	if (gen)
		__sync_fetch_and_add(gen, 1);
}

/* The socket fd a thread received ciphertext on within HS_TIE_NS, or -1. */
static __always_inline __s32 tls_recent_recv(__u64 id)
{
	struct hs_tls_recv *rv = hs_tls_recv.lookup(&id);

	if (!rv || bpf_ktime_get_ns() - rv->ts > HS_TIE_NS)
		return -1;
	return rv->fd;
}
#endif

/* Bytes that are not HTTP (or not yet known to be) moved outside any SSL
 * call, so maybe ciphertext: a receive is remembered for the SSL_read
 * that may follow on the thread; a send that carries the thread's last
 * SSL_write without a socket, sealed (21 to 64 bytes more per 16 KiB
 * record), ties that SSL object to this socket. */
static __always_inline void note_cipher(struct hs_active *a, long ret)
{
#ifdef HS_TLS
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_tls_send *w;
	struct hs_ssl_key k = {};
	struct hs_ssl *s;
	__u64 recs;

	if (a->dir == HS_DIR_RECV) {
		struct hs_tls_recv rv = { .ts = bpf_ktime_get_ns(), .fd = a->fd };

		hs_tls_recv.update(&id, &rv);
		return;
	}
	w = hs_tls_send.lookup(&id);
	if (!w)
		return;
	recs = w->len / 16384 + 1;
	if (bpf_ktime_get_ns() - w->ts > HS_TIE_NS ||
	    ret < w->len + 21 * recs || ret > w->len + 64 * recs)
		return;
	k.ssl = w->ssl;
	k.tgid = id >> 32;
	hs_tls_send.delete(&id);
	s = hs_ssls.lookup(&k);
	if (s && s->sock_fd < 0)
		tls_tie(k.tgid, s, a->fd, 0);
#endif
}

#ifdef HS_SOCK_HOOKS
/* The socket under connection key, which the hooks name with each I/O
 * (a->sk).  A connection learns it at its first I/O; another socket
 * under the same fd means that the fd was closed unseen (dup2 onto it,
 * close_range) and now names a new connection, seen mid-stream from
 * here.  NULL when the table is full. */
static __always_inline struct hs_conn *conn_sock(struct hs_conn *c,
						 struct hs_conn_key *key,
						 struct hs_active *a)
{
	__u64 sk = a->sk;

	if (c->sk == sk || !sk)
		return c;
	if (c->sk) {
		hs_conns.delete(key);
		c = conn_entry(key, a, 0);
		if (!c)
			return 0;
	}
	c->sk = sk;
	hs_sk_conns.update(&sk, key);
	return c;
}
#endif

/* The bytes `ret` that a syscall (or, with tls, an SSL call) moved on
 * connection (tgid, key_fd): its entry, positions and filters, inference,
 * then the records' header and the copy, by tail call. */
static __always_inline int conn_data(void *ctx, struct hs_active *ap,
				     __s32 key_fd, long ret, int kind, int tls)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_active a = *ap;
	struct hs_conn_key key = { .tgid = id >> 32, .fd = key_fd };
	struct hs_conn *c = conn_entry(&key, &a, tls);
	struct hs_record *r;
	__u64 pos = 0, ts, buf, iov, cnt, t;
	__u32 zero = 0, have = 0;

	if (!c)
		return 0;
#ifdef HS_SOCK_HOOKS
	if (!tls && !(c = conn_sock(c, &key, &a)))
		return 0;
#endif
#ifdef HS_SOCK_HOOKS
	/* A hook runs once a receive's bytes are in: its a.ts is the time. */
	ts = a.dir == HS_DIR_SEND || !tls ? a.ts : bpf_ktime_get_ns();
#else
	ts = a.dir == HS_DIR_SEND ? a.ts : bpf_ktime_get_ns();
#endif
	c->last_ts = ts;
	if (!conn_advance(c, &a, ret, &pos))
		goto not_http;
	buf = locate(kind, &a, &iov, &cnt);
	if (c->proto == HS_P_UNKNOWN) {
		__u64 n;

		if (kind == HS_K_SENDFILE)
			return 0;
		n = infer_bytes(buf, iov, cnt, ret, &t);
		if (n == 0 || !infer(c, a.dir, pos, ret, t, n, &have))
			goto not_http;
		if (c->local.family == HS_AF_UNIX)
			unix_names(ctx, c, a.fd, ts);
	}
	r = hs_scratch.lookup(&zero);
	if (!r)
		return 0;
	record_start(ctx, r, c, &a, ts, ret, kind, have);
	r->base = pos;
	r->done = 0;
	r->total = ret;
	r->ubuf = iov ? iov : buf;
	r->cnt = iov ? cnt : 0;
	/* One buffer that fits one record, nearly every call, is sent from
	 * here: the tail call to hs_emit_buf (a retpoline) and its scratch
	 * lookup cost more than the copy. */
	if (!iov && ret <= HS_CHUNK_MAX) {
		emit_one(ctx, r, buf, ret);
		return 0;
	}
	return tail_call(ctx, tls, iov ? HS_CALL_EMIT_IOV : HS_CALL_EMIT_BUF, ret);
not_http:
	if (!tls)
		note_cipher(&a, ret);
	return 0;
}

/* Stashes a call that moved `ret` bytes in the scratch record, and goes
 * on in hs_data (hs_data_tls for the uprobes, which returns xret) by tail
 * call. */
static __always_inline int stash_call_x(void *ctx, struct hs_active *a,
					__s32 key_fd, long ret, int tls, __u32 xret)
{
	__u32 zero = 0;
	struct hs_record *r = hs_scratch.lookup(&zero);

	if (!r)
		return 0;
	r->call = *a;
	r->ret = ret;
	r->key_fd = key_fd;
	r->xret = xret;
	return tail_call(ctx, tls, HS_CALL_DATA, ret);
}

static __always_inline int stash_call(void *ctx, struct hs_active *a,
				      __s32 key_fd, long ret, int tls)
{
	return stash_call_x(ctx, a, key_fd, ret, tls, 0);
}

/* The body of hs_data and hs_data_tls: the bytes of the call that
 * stash_call left in the scratch record (an SSL call's bytes are always
 * one buffer). */
static __always_inline int run_stashed_call(void *ctx, int tls)
{
	__u32 zero = 0;
	struct hs_record *r = hs_scratch.lookup(&zero);
	struct hs_active a;

	if (!r)
		return 0;
	a = r->call;
	return conn_data(ctx, &a, r->key_fd, r->ret, tls ? HS_K_BUF : a.kind, tls);
}

/* The tail-call targets (see hs_calls). */
int hs_data(void *ctx)
{
	return run_stashed_call(ctx, 0);
}

int hs_emit_buf(void *ctx)
{
	__u32 zero = 0;
	struct hs_record *r = hs_scratch.lookup(&zero);

	if (r)
		emit_buf(ctx, r, r->ubuf);
	return 0;
}

int hs_emit_iov(void *ctx)
{
	__u32 zero = 0;
	struct hs_record *r = hs_scratch.lookup(&zero);

	if (r)
		emit_iov(ctx, r, r->ubuf, r->cnt);
	return 0;
}

#ifdef HS_TLS
/* A syscall inside a TLS call moved ciphertext on socket a->fd: none of
 * that socket's bytes are reported (its plaintext is, keyed fd |
 * HS_TLS_FD), and this syscall's bytes are counted past.  The socket's
 * entry still learns its addresses, which the plaintext's entry copies:
 * all of a Go connection's bytes, its handshake's too, may pass here. */
static __always_inline void hide_cipher(__u64 id, struct hs_active *a, long ret,
					struct hs_conn *c)
{
	struct hs_conn_key k = { .tgid = id >> 32, .fd = a->fd };
	struct hs_conn *sc = c ? c : hs_conns.lookup(&k);

	if (!sc)
		return;
	conn_endpoints(sc, a);
	sc->flags |= HS_CF_SSL_IO;
	if (sc->proto != HS_P_IGNORE) {
		sc->proto = HS_P_IGNORE;
		sc->pos[a->dir & 1] += ret;
	}
}
#endif
#ifdef HS_GOTLS
static __always_inline int go_cipher(__u64 id, struct hs_active *a, long ret,
				     struct hs_conn *sc);
#endif

#ifdef HS_TLS
/* The TLS libraries process tgid has called (its hs_tls_procs entry, 0
 * for none).  Every socket I/O asks, and most processes have none, so
 * connection c (if not NULL) keeps the answer until hs_tls_gen moves.
 * The generation is read before the table, so a process added meanwhile
 * leaves a copy that is already stale; the copy is one 64-bit store, so
 * threads sharing the connection never see half of another's. */
static __always_inline __u8 tls_lib(__u32 tgid, struct hs_conn *c)
{
	__u32 zero = 0, *gen = hs_tls_gen.lookup(&zero);
	__u64 want = 0, seen;
	__u8 *v, lib;

	if (c && gen) {
		want = (__u64)*(volatile __u32 *)gen + 1;
		seen = *(volatile __u64 *)&c->tls_seen;
		if (seen >> 8 == want)
			return seen & 0xff;
	}
	v = hs_tls_procs.lookup(&tgid);
	lib = v ? *v : 0;
	if (c && want)
		*(volatile __u64 *)&c->tls_seen = want << 8 | lib;
	return lib;
}
#endif

/* Whether the socket I/O a is the ciphertext of a TLS call in flight on
 * the thread: inside SSL_read/SSL_write (say which fd the SSL object
 * uses) or a Go program's crypto/tls call.  Then the socket's entry is
 * marked so that none of its bytes are reported, and 1 is returned.  c
 * is the socket's connection entry, if the caller has it. */
static __always_inline int cipher_io(__u64 id, struct hs_active *a, long ret,
				     struct hs_conn *c)
{
#ifdef HS_TLS
	__u8 lib = tls_lib(id >> 32, c);
	struct hs_tls_call *tc;

	if (!lib)
		return 0;
	if (lib & HS_LIB_SSL) {
		tc = hs_tls_active.lookup(&id);
		/* A write reported at its entry has no return to end it: it
		 * stays live until the thread's next SSL call, and only its
		 * own socket's I/O is its. */
		if (tc && tc->live && (!tc->early || tc->fd == a->fd)) {
			tc->fd = a->fd;
			hide_cipher(id, a, ret, c);
			return 1;
		}
	}
#ifdef HS_GOTLS
	if ((lib & HS_LIB_GO) && go_cipher(id, a, ret, c))
		return 1;
#endif
#endif
	return 0;
}

#ifndef HS_SOCK_HOOKS
static __always_inline int data_exit(void *ctx, long ret, int kind, int dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_active *ap = hs_active.lookup(&id);
	struct hs_active a = {};

	if (ap) {
		a = *ap;
		hs_active.delete(&id);
	} else {
#if defined(HS_TASK_REGS) && !defined(HS_HAVE_SOCK_TP)
		/* Without the sock tracepoints nothing ran inside it. */
		if (ret <= 0 || !task_wanted(id >> 32) || late_entry(&a))
#endif
			return 0;
	}
	if (a.late) {
		a.kind = kind;
		a.dir = dir;
	}
	if (ret <= 0 || a.peek)
		return 0;
	if (kind == HS_K_MMSG && (ret = mmsg_bytes(a.buf, ret)) <= 0)
		return 0;
#ifdef HS_HAVE_SOCK_TP
	if (!a.is_sock)
		return 0;
#endif
	if (cipher_io(id, &a, ret, 0))
		return 0;
	return stash_call(ctx, &a, a.fd, ret, 0);
}
#endif /* !HS_SOCK_HOOKS */

static __always_inline int conn_exit(long ret, int accept)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_active *ap = hs_active.lookup(&id);
	struct hs_active a = {};

	if (ap && ap->late) {
		/* made up inside some other call (see late_entry) */
		hs_active.delete(&id);
		ap = NULL;
	}
	if (!ap) {
		/* A blocking accept(2) entered before the probe was armed:
		 * the connection is new all the same, only its peer's
		 * address is unknown. */
		if (accept && ret >= 0 && task_wanted(id >> 32)) {
			a.kind = HS_K_ACCEPT;
			a.fd = -1; /* the listener is not known either */
			new_conn(&a, ret, HS_ROLE_SERVER);
		}
		return 0;
	}
	a = *ap;
	hs_active.delete(&id);
	if (a.kind == HS_K_ACCEPT) {
		if (ret >= 0)
			new_conn(&a, ret, HS_ROLE_SERVER);
	} else if (ret == 0 || ret == -HS_EINPROGRESS) {
		new_conn(&a, a.fd, HS_ROLE_CLIENT);
	}
	return 0;
}

#ifndef HS_SOCK_HOOKS
#define HS_DATA_PROBES(name, fdarg, bufarg, lenarg, kind, dir)          \
	TRACEPOINT_PROBE(syscalls, sys_enter_##name)                     \
	{                                                                \
		return enter(args->fdarg, (__u64)args->bufarg,           \
			     (__u64)args->lenarg, kind, dir);            \
	}                                                                \
	TRACEPOINT_PROBE(syscalls, sys_exit_##name)                      \
	{                                                                \
		return data_exit(args, args->ret, kind, dir);            \
	}

HS_DATA_PROBES(read, fd, buf, count, HS_K_BUF, HS_DIR_RECV)
HS_DATA_PROBES(write, fd, buf, count, HS_K_BUF, HS_DIR_SEND)
HS_DATA_PROBES(recvfrom, fd, ubuf, size, HS_K_BUF, HS_DIR_RECV)
HS_DATA_PROBES(sendto, fd, buff, len, HS_K_BUF, HS_DIR_SEND)
HS_DATA_PROBES(readv, fd, vec, vlen, HS_K_IOV, HS_DIR_RECV)
HS_DATA_PROBES(writev, fd, vec, vlen, HS_K_IOV, HS_DIR_SEND)
HS_DATA_PROBES(recvmsg, fd, msg, flags, HS_K_MSG, HS_DIR_RECV)
HS_DATA_PROBES(sendmsg, fd, msg, flags, HS_K_MSG, HS_DIR_SEND)
HS_DATA_PROBES(recvmmsg, fd, mmsg, vlen, HS_K_MMSG, HS_DIR_RECV)
HS_DATA_PROBES(sendmmsg, fd, mmsg, vlen, HS_K_MMSG, HS_DIR_SEND)
HS_DATA_PROBES(sendfile64, out_fd, offset, count, HS_K_SENDFILE, HS_DIR_SEND)
/* splice(2) into a socket moves pages, as sendfile does: a gap of its
 * length, so that what follows on the connection stays in place.  (A
 * splice out of a socket, fd_in, is not seen on this path.) */
HS_DATA_PROBES(splice, fd_out, off_out, len, HS_K_SENDFILE, HS_DIR_SEND)
#else /* HS_SOCK_HOOKS */
/* --- the socket-level hooks ------------------------------------------ */

/* x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl), as
 * orig_ax names the syscall in flight. */
#define HS_NR_READ 0
#define HS_NR_WRITE 1
#define HS_NR_READV 19
#define HS_NR_WRITEV 20
#define HS_NR_SENDFILE 40
#define HS_NR_SENDTO 44
#define HS_NR_RECVFROM 45
#define HS_NR_SENDMSG 46
#define HS_NR_RECVMSG 47
#define HS_NR_SPLICE 275
#define HS_NR_RECVMMSG 299
#define HS_NR_SENDMMSG 307
/* __USER_CS: the saved cs of a 64-bit task entered from user mode.  A
 * kernel thread's (an io_uring worker's too) saved registers are not a
 * syscall's, and a 32-bit task's syscalls have other numbers. */
#define HS_USER_CS 0x33

/* What sock_call makes of a socket I/O. */
enum hs_how {
	HS_HOW_SKIP,  /* not reported here (sendfile: its exit does it) */
	HS_HOW_BUF,   /* a syscall whose fd and buffer are known: in *a */
	HS_HOW_NOBUF, /* bytes without a buffer to read (io_uring, a
		       * kernel thread, a 32-bit task): a gap, if the
		       * socket is known */
};

/* The syscall in flight, from its number and saved user registers (its
 * arguments, which the kernel leaves as they were until it returns):
 * the fd, the buffer and the kind of call, in *a.  dir says which way
 * the socket's bytes moved; a syscall that moves them the other way is
 * not the I/O on its own buffer. */
static __always_inline int sock_call(int dir, struct hs_active *a)
{
	struct pt_regs *regs = hs_task_regs(hs_current_task());
	__u64 nr, id;
	__u32 n = 0, *next;
	int recv;

	if ((regs->cs & 0xffff) != HS_USER_CS)
		return HS_HOW_NOBUF;
	nr = regs->orig_ax;
	a->fd = regs->di;
	a->buf = regs->si;
	a->arg = regs->dx;
	if (nr == HS_NR_READ || nr == HS_NR_WRITE || nr == HS_NR_RECVFROM ||
	    nr == HS_NR_SENDTO) {
		a->kind = HS_K_BUF;
		recv = nr == HS_NR_READ || nr == HS_NR_RECVFROM;
	} else if (nr == HS_NR_READV || nr == HS_NR_WRITEV) {
		a->kind = HS_K_IOV;
		recv = nr == HS_NR_READV;
	} else if (nr == HS_NR_RECVMSG || nr == HS_NR_SENDMSG) {
		a->kind = HS_K_MSG;
		recv = nr == HS_NR_RECVMSG;
	} else if (nr == HS_NR_RECVMMSG || nr == HS_NR_SENDMMSG) {
		/* One message per tracepoint, in order: this one's msghdr
		 * is the next of the array.  (Every message is copied, not
		 * only the first as on the syscall path.) */
		id = bpf_get_current_pid_tgid();
		next = hs_mmsg_next.lookup(&id);
		if (next)
			n = *next;
		a->buf += (__u64)n * sizeof(struct hs_mmsghdr);
		n++;
		hs_mmsg_next.update(&id, &n);
		a->kind = HS_K_MSG;
		recv = nr == HS_NR_RECVMMSG;
	} else if (nr == HS_NR_SENDFILE) {
		/* Its exit reports it, once: before Linux 6.5 its pages
		 * reach TCP without sock_sendmsg, so this may not fire. */
		return HS_HOW_SKIP;
	} else if (nr == HS_NR_SPLICE && dir == HS_DIR_SEND) {
		/* splice(fd_in, off_in, fd_out, ...): pages, no buffer. */
		a->fd = regs->dx;
		a->buf = 0;
		a->kind = HS_K_SENDFILE;
		return HS_HOW_BUF;
	} else {
		return HS_HOW_NOBUF;
	}
	return recv == (dir == HS_DIR_RECV) ? HS_HOW_BUF : HS_HOW_NOBUF;
}

/* Socket I/O that names no buffer of the current task (io_uring, a
 * kernel thread, a 32-bit task): counted, and a gap in its connection
 * when the socket is one this process's connections know, so that the
 * positions after it stay right. */
static __always_inline int sock_nobuf(void *ctx, struct hs_active *a,
				      __u64 id, long ret)
{
	__u64 sk = a->sk;
	struct hs_conn_key *kp = hs_sk_conns.lookup(&sk);
	struct hs_conn_key key;
	struct hs_conn *c;

	if (!kp || kp->tgid != id >> 32)
		return 0;
	key = *kp;
	c = hs_conns.lookup(&key);
	if (!c || c->sk != sk)
		return 0;
	stat_add(HS_STAT_NO_USER_BUF, ret);
	a->fd = key.fd;
	a->buf = 0;
	a->kind = HS_K_SENDFILE;
	return stash_call(ctx, a, key.fd, ret, 0);
}

#ifdef HS_HAVE_TCP_SEND_TP
/* When the current TCP send began.  sock:sock_send_length fires once the
 * kernel has sent the bytes, and on loopback the receiver may have read
 * them by then: a send dated there can come after the receive it caused.
 * tcp:tcp_sendmsg_locked fires before the first byte is queued, and again
 * for each further segment of the same call.  Its first firing is kept in
 * a per-CPU slot (an array lookup, no hash update) until the call's
 * sock:sock_send_length.  A thread that sleeps mid-send and wakes on the
 * other CPU finds no slot there and dates its send at its end, as
 * without this tracepoint; the slot it left behind is caught by
 * sock_io (a start no later than the connection's last record).
 *
 * It is a raw tracepoint: every TCP send on the machine fires it, and a
 * raw tracepoint runs the program without first building the event's
 * record (about 100 ns less a firing here).  Its first argument, the
 * socket, is only compared, never read, so no kernel struct layout is
 * assumed. */
struct hs_send_start {
	__u64 id; /* the thread, or 0 */
	__u64 sk;
	__u64 ts;
};
BPF_PERCPU_ARRAY(hs_send_start, struct hs_send_start, 1);

RAW_TRACEPOINT_PROBE(tcp_sendmsg_locked)
{
	__u32 zero = 0;
	__u64 id = bpf_get_current_pid_tgid(), sk = ctx->args[0];
	struct hs_send_start *s = hs_send_start.lookup(&zero);

	if (!s || (s->id == id && s->sk == sk))
		return 0;
	s->id = id;
	s->sk = sk;
	s->ts = bpf_ktime_get_ns();
	return 0;
}

/* When this thread's TCP send on socket sk began, or 0.  Every send on
 * the CPU empties the slot, so that none is left for a later call. */
static __always_inline __u64 send_began(__u64 id, __u64 sk)
{
	__u32 zero = 0;
	struct hs_send_start *s = hs_send_start.lookup(&zero);
	__u64 ts;

	if (!s)
		return 0;
	ts = s->id == id && s->sk == sk ? s->ts : 0;
	s->id = 0;
	return ts;
}
#endif

#ifdef HS_TLS_SESSION
/* 1 once a write has been reported at its entry: until then a failed
 * socket I/O costs tls_io_failed this array's lookup, not a hash's. */
BPF_ARRAY(hs_tls_early, __u32, 1);

/* Socket I/O of thread id failed (ret < 0) inside a write that was
 * reported at its entry (hs_ssl_write): the write returns for its caller
 * to call it again with the same bytes (SSL_ERROR_WANT_WRITE, or
 * WANT_READ mid-handshake), and that call must not report them twice.
 * One lookup, which fails for a thread that never made an SSL call. */
static __always_inline void tls_io_failed(__u64 id)
{
	struct hs_ssl_key k = { .tgid = id >> 32 };
	__u32 zero = 0, *early = hs_tls_early.lookup(&zero);
	struct hs_tls_call *tc;
	struct pt_regs *regs;
	struct hs_ssl *s;

	if (!early || !*early)
		return;
	tc = hs_tls_active.lookup(&id);
	if (!tc || !tc->live || !tc->early)
		return;
	/* Its socket's I/O (the fd, each I/O syscall's first argument), as
	 * the write stays live after it returns (cipher_io). */
	regs = hs_task_regs(hs_current_task());
	if ((regs->cs & 0xffff) != HS_USER_CS || (__s32)regs->di != tc->fd)
		return;
	k.ssl = tc->ssl;
	s = hs_ssls.lookup(&k);
	if (s)
		s->retry = 1;
}
#endif

/* Every socket send and receive on the machine comes here once, with
 * the bytes it moved (ret): a send's after the kernel took them from
 * the sender's buffer, a receive's after it filled the receiver's, and
 * both before the syscall returns, so that the buffer is still the
 * call's. */
static __always_inline int sock_io(void *ctx, void *skp, __u16 family,
				   __u16 protocol, int ret, int flags, int dir)
{
	__u64 id = bpf_get_current_pid_tgid(), sk = (__u64)skp;
	struct hs_active a = {};
	struct hs_conn_key key;
	struct hs_conn *c;
	int how;

#ifdef HS_HAVE_TCP_SEND_TP
	if (dir == HS_DIR_SEND)
		a.ts = send_began(id, sk);
#endif
	/* EAGAIN and other errors, EOF, and MSG_PEEK (its bytes are read
	 * again) move nothing. */
	if (ret <= 0 || (flags & HS_MSG_PEEK)) {
#ifdef HS_TLS_SESSION
		/* (OpenSSL never peeks: a program's own check that its
		 * connection is alive does) */
		if (ret < 0 && !(flags & HS_MSG_PEEK))
			tls_io_failed(id);
#endif
		return 0;
	}
	if (family == HS_AF_UNIX)
		a.is_sock = HS_SOCK_UNIX;
	else if ((family == HS_AF_INET || family == HS_AF_INET6) &&
		 (protocol == HS_IPPROTO_TCP || protocol == HS_IPPROTO_MPTCP))
		a.is_sock = HS_SOCK_TCP;
	else
		return 0;
	if (!task_wanted(id >> 32))
		return 0;
	how = sock_call(dir, &a);
	if (how == HS_HOW_SKIP)
		return 0;
	a.sk = sk;
	a.dir = dir;
	if (how == HS_HOW_NOBUF) {
		if (!a.ts)
			a.ts = bpf_ktime_get_ns();
		return sock_nobuf(ctx, &a, id, ret);
	}
	if (a.fd < 0)
		return 0;
	key.tgid = id >> 32;
	key.fd = a.fd;
	c = hs_conns.lookup(&key);
#ifdef HS_TLS
	/* A socket whose bytes OpenSSL moved before (hide_cipher): the
	 * rest are ciphertext too, passed over without looking up the
	 * thread's SSL call.  (Not where Go's crypto/tls is used: a Go call
	 * learns its socket from the syscalls inside it, go_cipher.) */
	if (c && (c->flags & HS_CF_SSL_IO) && c->proto == HS_P_IGNORE &&
	    c->sk == sk && !(c->tls_seen & HS_LIB_GO))
		return 0;
#endif
	if (cipher_io(id, &a, ret, c))
		return 0;
	/* A connection known not to carry HTTP costs this one lookup, as
	 * on the syscall path: positions, counters and memory-BIO ties are
	 * kept (a Unix one's bytes are not counted), nothing is copied. */
	if (c && c->proto >= HS_P_OTHER && (c->sk == sk || !c->sk)) {
		if (a.is_sock == HS_SOCK_TCP) {
			c->pos[dir & 1] += ret;
			if (c->proto == HS_P_OTHER)
				stat_add(HS_STAT_NON_HTTP_BYTES, ret);
			note_cipher(&a, ret);
		}
		return 0;
	}
#ifdef HS_HAVE_TCP_SEND_TP
	/* A send's start from a slot that an earlier send left behind (it
	 * slept mid-send and ended on the other CPU) is no later than its
	 * connection's last record: the send is dated now, at its end.  So
	 * is a send that began before the connection's last record was dated
	 * (another thread's), so that no record is dated before the one it
	 * follows.  (Here, where dir is a constant: a test of a.dir in
	 * conn_data would double the states the verifier walks there.) */
	if (dir == HS_DIR_SEND && c && c->sk == sk && a.ts <= c->last_ts)
		a.ts = 0;
#endif
	if (!a.ts)
		a.ts = bpf_ktime_get_ns();
	return stash_call(ctx, &a, a.fd, ret, 0);
}

TRACEPOINT_PROBE(sock, sock_send_length)
{
	return sock_io(args, args->sk, args->family, args->protocol,
		       args->ret, args->flags, HS_DIR_SEND);
}

TRACEPOINT_PROBE(sock, sock_recv_length)
{
	return sock_io(args, args->sk, args->family, args->protocol,
		       args->ret, args->flags, HS_DIR_RECV);
}

/* sendfile(2): the bytes it moved, as a gap, on a connection the probe
 * knows (so the fd is a socket), dated at its return. */
TRACEPOINT_PROBE(syscalls, sys_exit_sendfile64)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct pt_regs *regs;
	struct hs_active a = {};
	struct hs_conn_key key = { .tgid = id >> 32 };
	struct hs_conn *c;

	if (args->ret <= 0 || !task_wanted(id >> 32))
		return 0;
	regs = hs_task_regs(hs_current_task());
	key.fd = regs->di;
	c = hs_conns.lookup(&key);
	if (!c)
		return 0;
	a.ts = bpf_ktime_get_ns();
	a.sk = c->sk;
	a.fd = key.fd;
	a.kind = HS_K_SENDFILE;
	a.dir = HS_DIR_SEND;
	a.is_sock = c->local.family == HS_AF_UNIX ? HS_SOCK_UNIX : HS_SOCK_TCP;
	return stash_call(args, &a, key.fd, args->ret, 0);
}

/* The end of a recvmmsg/sendmmsg: the thread's next one starts at its
 * message 0. */
static __always_inline int mmsg_exit(void)
{
	__u64 id = bpf_get_current_pid_tgid();

	hs_mmsg_next.delete(&id);
	return 0;
}
TRACEPOINT_PROBE(syscalls, sys_exit_recvmmsg)
{
	return mmsg_exit();
}
TRACEPOINT_PROBE(syscalls, sys_exit_sendmmsg)
{
	return mmsg_exit();
}
#endif /* HS_SOCK_HOOKS */

/* accept4's programs serve accept(2) too, whose arguments are its first
 * three: user space attaches them to both (attach.c's shared_tp), so
 * that they are compiled once. */
TRACEPOINT_PROBE(syscalls, sys_enter_accept4)
{
	return enter(args->fd, (__u64)args->upeer_sockaddr,
		     (__u64)args->upeer_addrlen, HS_K_ACCEPT, 0);
}
TRACEPOINT_PROBE(syscalls, sys_exit_accept4)
{
	return conn_exit(args->ret, 1);
}
TRACEPOINT_PROBE(syscalls, sys_enter_connect)
{
	return enter(args->fd, (__u64)args->uservaddr, args->addrlen,
		     HS_K_CONNECT, 0);
}
TRACEPOINT_PROBE(syscalls, sys_exit_connect)
{
	return conn_exit(args->ret, 0);
}

static __always_inline int socket_exit(long ret, int pair)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_active *ap = hs_active.lookup(&id);
	struct hs_active a;
	__s32 sv[2] = {};

	if (!ap)
		return 0;
	a = *ap;
	hs_active.delete(&id);
	if (a.kind != HS_K_SOCKET || ret < 0)
		return 0;
	if (!pair) {
		new_socket(id >> 32, ret, a.arg);
	} else if (hs_read_user(sv, sizeof(sv), (void *)a.buf) == 0) {
		new_socket(id >> 32, sv[0], a.arg);
		new_socket(id >> 32, sv[1], a.arg);
	}
	return 0;
}

TRACEPOINT_PROBE(syscalls, sys_enter_socket)
{
	if (args->family != HS_AF_UNIX)
		return 0;
	return enter(0, 0, args->type, HS_K_SOCKET, 0);
}
TRACEPOINT_PROBE(syscalls, sys_exit_socket)
{
	return socket_exit(args->ret, 0);
}
TRACEPOINT_PROBE(syscalls, sys_enter_socketpair)
{
	if (args->family != HS_AF_UNIX)
		return 0;
	return enter(0, (__u64)args->usockvec, args->type, HS_K_SOCKET, 0);
}
TRACEPOINT_PROBE(syscalls, sys_exit_socketpair)
{
	return socket_exit(args->ret, 1);
}

/* Ends connection key, whose records carry fd.  Its close record waits
 * for the reader's next turn (0.1 s at most) like any other: a forced
 * wake-up cost the closing program about 11 us here, which with a
 * connection per request was most of the probe's time. */
static __always_inline void close_conn(void *ctx, struct hs_conn_key *key,
				       __s32 fd)
{
	struct hs_conn *c = hs_conns.lookup(key);
	__u32 zero = 0;
	struct hs_record *r;

	if (!c)
		return;
	if (c->proto == HS_P_HTTP) {
		r = hs_scratch.lookup(&zero);
		if (r) {
			fill_header(&r->ev, c, fd, bpf_ktime_get_ns());
			r->ev.type = HS_EV_CLOSE;
			r->ev.dir = 0;
			r->ev.pos = c->pos[0];
			r->ev.span = 0;
			r->ev.captured = 0;
			r->ev.syscall_len = 0;
			submit(ctx, r, 0, 0);
		}
	}
	hs_conns.delete(key);
}

TRACEPOINT_PROBE(syscalls, sys_enter_close)
{
	__u64 id = bpf_get_current_pid_tgid();
	__s32 fd = args->fd;
	struct hs_conn_key key = { .tgid = id >> 32, .fd = fd };
#ifdef HS_TLS
	struct hs_conn *c = hs_conns.lookup(&key);
	__s32 link = c && (c->flags & HS_CF_LINKED) ? c->link : 0;
#endif

	if (fd < 0)
		return 0;
	close_conn(args, &key, fd);
#ifdef HS_TLS
	/* The plaintext's entry, by the socket's fd or by its SSL object. */
	key.fd = fd | HS_TLS_FD;
	close_conn(args, &key, fd);
	if (link) {
		key.fd = link;
		close_conn(args, &key, fd);
	}
#endif
	return 0;
}

TRACEPOINT_PROBE(sched, sched_process_exit)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct hs_record *r;

#ifdef HS_TLS
	/* A thread's SSL call entry goes with it: a later thread of another
	 * process with the same id must start afresh (tls_enter notes its
	 * process in hs_tls_procs only then). */
	hs_tls_active.delete(&id);
#endif
	/* The leader's exit stands for the process: user space then drops
	 * whatever the process left in hs_conns. */
	if ((__u32)id != id >> 32)
		return 0;
#ifdef HS_TLS
	{
		__u32 tgid = id >> 32;

		hs_tls_procs.delete(&tgid);
	}
#endif
	if (!task_wanted(id >> 32))
		return 0;
	r = hs_scratch.lookup(&zero);
	if (!r)
		return 0;
	__builtin_memset(&r->ev, 0, sizeof(r->ev));
	r->ev.type = HS_EV_EXIT;
	r->ev.ts_ns = bpf_ktime_get_ns();
	r->ev.tgid = id >> 32;
	r->ev.tid = (__u32)id;
	submit(args, r, 0, 0);
	return 0;
}

#if defined(HS_TLS) || defined(HS_FILTER_CGROUP)
/* Every exec, whatever its cgroup: user space looks for TLS libraries in
 * the new program, and lets a --container's new cgroup (a restarted
 * container) through the filter. */
TRACEPOINT_PROBE(sched, sched_process_exec)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct hs_record *r;

	if (!task_wanted_any_cgroup(id >> 32))
		return 0;
	r = hs_scratch.lookup(&zero);
	if (!r)
		return 0;
	__builtin_memset(&r->ev, 0, sizeof(r->ev));
	r->ev.type = HS_EV_EXEC;
	r->ev.ts_ns = bpf_ktime_get_ns();
	r->ev.cgroup_id = bpf_get_current_cgroup_id();
	r->ev.tgid = id >> 32;
	r->ev.tid = (__u32)id;
	submit(args, r, 0, 1);
	return 0;
}
#endif

#ifdef HS_TLS
/* The entry of an SSL call of thread id: what its return (or, for a
 * write in a uprobe session, its socket I/O) needs, in hs_tls_active.
 * Returns that entry, or NULL when the table is full. */
static __always_inline struct hs_tls_call *
tls_call_start(struct pt_regs *ctx, __u64 id, int dir, int ex)
{
	struct hs_tls_call c = {}, *p;

	c.ssl = PT_REGS_PARM1(ctx);
	c.buf = PT_REGS_PARM2(ctx);
	c.outlen = ex ? PT_REGS_PARM4(ctx) : 0;
	c.ts = bpf_ktime_get_ns();
	c.fd = -1;
	c.dir = dir;
	c.ex = ex;
	c.live = 1;
	p = hs_tls_active.lookup(&id);
	if (p) {
		*p = c;
		return p;
	}
	tls_proc_add(id >> 32, HS_LIB_SSL);
	hs_tls_active.update(&id, &c);
	return hs_tls_active.lookup(&id);
}

static __always_inline int tls_enter(struct pt_regs *ctx, int dir, int ex)
{
	__u64 id = bpf_get_current_pid_tgid();

	if (task_wanted(id >> 32))
		tls_call_start(ctx, id, dir, ex);
	return 0;
}

/* The SSL object's entry in hs_ssls, made at its first plaintext.  Its
 * socket is the one a syscall inside the call used (a socket BIO), or
 * for SSL_read the one the thread has just received ciphertext on (a
 * memory BIO).  NULL when hs_ssls has no room. */
static __always_inline struct hs_ssl *tls_ssl(struct hs_ssl_key *k,
					      struct hs_tls_call *c, __u64 id)
{
	struct hs_ssl *s = hs_ssls.lookup(k);
	__s32 fd = c->fd;

	if (fd < 0 && c->dir == HS_DIR_RECV)
		fd = tls_recent_recv(id);
	if (!s) {
		struct hs_ssl n = { .sock_fd = -1 };

		/* Keyed by the socket only when a syscall inside said so:
		 * a tie by correlation may yet fail. */
		n.key_fd = c->fd >= 0 ? (c->fd | HS_TLS_FD) : HS_SSL_FD(k->ssl);
		hs_ssls.update(k, &n);
		s = hs_ssls.lookup(k);
		if (!s)
			return NULL;
	}
	if (c->fd >= 0 && c->fd != s->sock_fd) {
		/* A syscall inside says so: the object follows its socket
		 * (SSL_set_fd may move it), and an fd-keyed entry too. */
		if (s->key_fd >= 0)
			s->key_fd = c->fd | HS_TLS_FD;
		tls_tie(k->tgid, s, c->fd, 1);
	} else if (s->sock_fd < 0 && fd >= 0) {
		tls_tie(k->tgid, s, fd, 0);
	}
	if (c->fd >= 0 && c->fd == s->sock_fd)
		s->sock_bio = 1;
	return s;
}

#ifdef HS_GOTLS
/* A *tls.Conn's socket, learnt from a syscall inside one of its calls. */
BPF_TABLE("lru_hash", struct hs_ssl_key, __s32, hs_go_fds, HS_MAX_SSL);

/* The plaintext a Go crypto/tls call moved: ret bytes at buf, on the
 * socket fd seen by a syscall inside the call -- or, when it made none (a
 * Read served from Go's buffer), the socket last seen under the same
 * *tls.Conn (hs_go_fds).  Without either it is counted, not reported. */
static __always_inline int go_data(void *ctx, __u64 id, __u64 conn, __s32 fd,
				   __u64 buf, __u64 ts, __u8 dir, long ret)
{
	struct hs_ssl_key k = { .ssl = conn, .tgid = id >> 32 };
	struct hs_active a = {};
	__s32 *fdp;

	if (fd >= 0) {
		hs_go_fds.update(&k, &fd);
	} else {
		fdp = hs_go_fds.lookup(&k);
		if (!fdp) {
			stat_add(HS_STAT_TLS_NO_FD, 1);
			return 0;
		}
		fd = *fdp;
	}
	a.ts = ts;
	a.buf = buf;
	a.arg = ret;
	a.fd = fd;
	a.kind = HS_K_BUF;
	a.dir = dir;
	return stash_call(ctx, &a, fd | HS_TLS_FD, ret, 1);
}
#endif

static __always_inline int tls_exit(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_tls_call *cp;
	struct hs_tls_call c;
	struct hs_ssl_key k = {};
	struct hs_active a = {};
	/* Every one of them returns an int: -1 arrives as 0xffffffff in
	 * the 64-bit register and must be sign-extended. */
	long ret = (int)PT_REGS_RC(ctx);
	struct hs_ssl *s;

	cp = hs_tls_active.lookup(&id);
	if (!cp || !cp->live)
		return 0;
	cp->live = 0;
	/* Reported at its entry (its return probe runs only when that
	 * failed: counted lost there). */
	if (cp->early)
		return 0;
	/* A call that moved nothing (SSL_ERROR_WANT_READ, most returns of
	 * SSL_read on a non-blocking socket) is done with: every variant
	 * returns <= 0 on failure, _ex ones 0. */
	if (ret <= 0)
		return 0;
	c = *cp;
	if (c.ex) {
		/* SSL_read_ex/SSL_write_ex (or the internal function both
		 * they and SSL_read/SSL_write call, see sslbin.h): > 0 on
		 * success, the count in *outlen. */
		__u64 n = 0;

		if (hs_read_user(&n, sizeof(n), (void *)c.outlen))
			return 0;
		ret = n;
	}
	if (ret <= 0)
		return 0;
	k.ssl = c.ssl;
	k.tgid = id >> 32;
	s = tls_ssl(&k, &c, id);
	if (!s)
		return 0;
	if (s->sock_fd < 0) {
		/* Reported all the same, keyed by the SSL object, with the
		 * addresses unknown until the socket is found. */
		stat_add(HS_STAT_TLS_NO_FD, 1);
		if (c.dir == HS_DIR_SEND) {
			struct hs_tls_send w = { .ssl = c.ssl, .ts = c.ts, .len = ret };

			hs_tls_send.update(&id, &w);
		}
	}
	a.ts = c.ts;
	a.buf = c.buf;
	a.arg = ret;
	a.fd = s->sock_fd;
	a.kind = HS_K_BUF;
	a.dir = c.dir;
	return stash_call(ctx, &a, s->key_fd, ret, 1);
}


/* Returns xret: a kprobe program's nonzero return makes the kernel build
 * a perf sample, and a session program's (hs_ssl_write's, loaded with
 * this one as its tail call, see hs_calls_ks) keeps its return probe
 * from running. */
int hs_data_tls(struct pt_regs *ctx)
{
	__u32 zero = 0;
	struct hs_record *r;

	run_stashed_call(ctx, 1);
	r = hs_scratch.lookup(&zero);
	return r ? r->xret & 1 : 0;
}

/* SSL_free: the end of the SSL object, and of its plaintext's stream
 * (for a memory BIO, the only end the probe sees). */
static __always_inline int tls_free(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_ssl_key k = { .ssl = PT_REGS_PARM1(ctx), .tgid = id >> 32 };
	struct hs_ssl *s = hs_ssls.lookup(&k);
	struct hs_conn_key ck = { .tgid = k.tgid };

	if (!s)
		return 0;
	ck.fd = s->key_fd;
	close_conn(ctx, &ck, s->sock_fd);
	hs_ssls.delete(&k);
	return 0;
}

/* Attached by user space to every libssl it finds (uprobe__NAME on entry,
 * uretprobe__NAME on return; see HS_UPROBE_SLOTS). */
int uprobe__SSL_write(struct pt_regs *ctx) { return tls_enter(ctx, HS_DIR_SEND, 0); }
int uprobe__SSL_read(struct pt_regs *ctx) { return tls_enter(ctx, HS_DIR_RECV, 0); }
int uprobe__SSL_write_ex(struct pt_regs *ctx) { return tls_enter(ctx, HS_DIR_SEND, 1); }
int uprobe__SSL_read_ex(struct pt_regs *ctx) { return tls_enter(ctx, HS_DIR_RECV, 1); }
/* The return of all four: the entry left what it needs in hs_tls_active.
 * User space attaches this one program to each (uprobe.c), so that it is
 * compiled once; a probe may still define uretprobe__SSL_read and the
 * like, one for each. */
int uretprobe__SSL(struct pt_regs *ctx) { return tls_exit(ctx); }
int uprobe__SSL_free(struct pt_regs *ctx) { return tls_free(ctx); }

#ifdef HS_TLS_SESSION
/* The most plaintext one TLS record carries (RFC 8446 section 5.1). */
#define HS_TLS_RECORD 16384

static __u64 (*hs_func_ip)(void *ctx) = (void *)173; /* bpf_get_func_ip */

/* A write's entry, in a uprobe session.  Its bytes are reported now, and
 * 1 returned so that its return probe does not run (a trap saved), when
 * its SSL object is known to read and write its socket itself (a syscall
 * inside one of its calls used it; a memory BIO's writes are left to the
 * return) and the write is at most one record: then it goes out whole,
 * or fails for the caller to call it again with the same bytes
 * (SSL_write(3)).  Socket I/O that fails inside it marks the object
 * (tls_io_failed), and that next call is not reported again; nor is the
 * rest of a partial write (SSL_MODE_ENABLE_PARTIAL_WRITE, with records
 * shorter than the write), which comes with the end of the same buffer.
 * Else 0: the return probe runs tls_exit, as without sessions. */
static __always_inline int tls_write_entry(struct pt_regs *ctx, int ex)
{
	__u64 id = bpf_get_current_pid_tgid(), buf = PT_REGS_PARM2(ctx);
	struct hs_ssl_key k = { .ssl = PT_REGS_PARM1(ctx), .tgid = id >> 32 };
	long num = ex ? (long)PT_REGS_PARM3(ctx) : (long)(int)PT_REGS_PARM3(ctx);
	struct hs_active a = {};
	struct hs_tls_call *cp;
	__u32 zero = 0, *early;
	struct hs_ssl *s;

	if (!task_wanted(id >> 32))
		return 1;
	cp = tls_call_start(ctx, id, HS_DIR_SEND, ex);
	s = hs_ssls.lookup(&k);
	if (!cp || !s || !s->sock_bio || s->sock_fd < 0 || num <= 0 ||
	    num > HS_TLS_RECORD)
		return 0;
	cp->early = 1;
	cp->fd = s->sock_fd;
	early = hs_tls_early.lookup(&zero);
	if (early && !*early)
		*early = 1;
	if (s->retry || (buf > s->wbuf && buf < s->wend && buf + num == s->wend)) {
		s->retry = 0;
		return 1;
	}
	s->wbuf = buf;
	s->wend = buf + num;
	a.ts = cp->ts;
	a.buf = buf;
	a.arg = num;
	a.fd = s->sock_fd;
	a.kind = HS_K_BUF;
	a.dir = HS_DIR_SEND;
	stash_call_x(ctx, &a, s->key_fd, num, 1, 1);
	return 0; /* the tail call failed (counted lost): the return skips it */
}

/* SSL_write and SSL_write_ex, or the internal function both call (the
 * attachment's cookie: 1 for the _ex arguments), in one uprobe session
 * (Linux 6.13): this program runs at the entry and, where that returned
 * 0, at the return.  The entry is where the kernel says the probe is
 * (bpf_get_func_ip); a return is back in the caller. */
int hs_ssl_write(struct pt_regs *ctx)
{
	if (PT_REGS_IP(ctx) != hs_func_ip(ctx)) {
		/* uretprobe__SSL, loaded for sessions (not built twice) */
		hs_calls_kp.call(ctx, HS_CALL_TLS_RET);
		return 0;
	}
	return tls_write_entry(ctx, bpf_get_attach_cookie(ctx) & 1);
}
#endif
#endif

#ifdef HS_GOTLS
/* ---- Go's crypto/tls ------------------------------------------------
 * crypto/tls.(*Conn).Write, Read and handshakeContext of Go programs
 * built by Go 1.17+ for x86-64 (the register ABI).  User space (gobin.c,
 * gouprobe.c) puts this one program, uprobe__go_tls, at each function's
 * start and at every place where a call of it is over -- never a
 * uretprobe: Go moves and scans goroutine stacks, and the return address
 * a uretprobe rewrites makes the runtime abort the program ("unexpected
 * return pc").  Each attachment's cookie says what its place is
 * (event.h's HS_GOCK_*).  The places are branches and calls, which the
 * kernel emulates (0.5 us a hit), rather than the instructions around
 * them, which it single-steps (20-35 us on a Firecracker VM):
 * - the start is the prologue's JBE to morestack, after the stack check.
 *   When the stack must grow, the branch is taken (CF or ZF set), and
 *   morestack runs the function again from its first instruction: that
 *   pass is ignored, so a call is seen once;
 * - a call is over at the last direct CALL before a RET (e.g. of
 *   runtime.deferreturn), or at each branch into the run of code that
 *   ends at the RET -- when its condition, tested in the flags here,
 *   holds -- and n is then in a register, in the frame, or a constant
 *   (for a Write it may be unknown: then its length is taken); or, where
 *   gobin found neither certain, at the RET itself.
 *
 * The register ABI (Go's "internal ABI specification", internal/abi):
 * integer arguments and results go in RAX, RBX, RCX, RDI, RSI, R8..R11,
 * and R14 holds the running goroutine, g, in all Go code.  At the entry of
 * func (c *Conn) Write(b []byte) (int, error): c in RAX, b's pointer and
 * length in RBX and RCX.  At a RET: n in RAX, the error's type word in RBX
 * and its data word in RCX.  A Read may return n > 0 with an error (EOF
 * after the last bytes): the n bytes were moved all the same, so only n
 * is looked at.
 *
 * A call is keyed by (tgid, g), never by thread: a goroutine that parks
 * inside Read resumes on any thread (8% of returns, measured under load).
 * Its socket is the one a read/write syscall inside the call uses, made
 * by the same goroutine: R14 in the task's saved user registers
 * (bpf_task_pt_regs) says which; by thread, 2% of such syscalls were
 * given to the wrong call.  The socket is remembered per *tls.Conn
 * (hs_go_fds), for Reads that Go serves
 * from its buffer without a syscall; the handshake, where every
 * connection's first syscalls are made, is probed for that alone.
 *
 * A Write's plaintext is sent at its start, when the socket is known
 * already: the request must reach user space before its response, and in
 * Go's HTTP client the goroutine writing a request may reach its RET
 * after another goroutine has read the response.  The bytes reported are
 * then b, all of it, as Write returns len(b) unless the connection
 * failed.  A Read's are sent at its RET, n of them. */
#define HS_GO_HS 2 /* hs_go_call.dir of a handshake (not an enum hs_dir) */
struct hs_go_key {
	__u32 tgid;
	__u32 hs; /* 1: the handshake, which may run inside Read or Write */
	__u64 g;  /* the goroutine */
};
struct hs_go_call {
	__u64 conn; /* the *tls.Conn */
	__u64 buf;  /* b's bytes */
	__u64 ts;   /* entry time (a Read is dated at its return) */
	__s64 len;  /* a Write's length, for an end whose n is not known */
	__s32 fd;   /* the socket a syscall inside used, or -1 */
	__u8 dir;   /* enum hs_dir, or HS_GO_HS */
	__u8 sent;  /* a Write's bytes went at its start */
};
BPF_TABLE("lru_hash", struct hs_go_key, struct hs_go_call, hs_go_active, HS_MAX_ACTIVE);

/* Called by data_exit on every socket syscall: is it inside a Go TLS
 * call, by R14 at the syscall? */
static __always_inline int go_cipher(__u64 id, struct hs_active *a, long ret,
				     struct hs_conn *sc)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(
		(struct task_struct *)bpf_get_current_task_btf());
	struct hs_go_key k = { .tgid = id >> 32 };
	struct hs_go_call *c;

	k.g = regs->r14;
	c = hs_go_active.lookup(&k);
	if (!c) {
		k.hs = 1;
		c = hs_go_active.lookup(&k);
		if (!c)
			return 0;
	}
	c->fd = a->fd;
	hide_cipher(id, a, ret, sc);
	return 1;
}

static __always_inline int go_enter(struct pt_regs *ctx, int dir)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_go_key k = { .tgid = id >> 32, .hs = dir == HS_GO_HS, .g = ctx->r14 };
	struct hs_go_call c = {};

	if (!task_wanted(id >> 32))
		return 0;
	c.conn = ctx->ax;
	c.buf = ctx->bx;
	c.len = (long)ctx->cx;
	c.ts = bpf_ktime_get_ns();
	c.fd = -1;
	c.dir = dir;
	tls_proc_add(id >> 32, HS_LIB_GO);
	if (dir == HS_DIR_SEND && (long)ctx->cx > 0) {
		struct hs_ssl_key sk = { .ssl = c.conn, .tgid = id >> 32 };
		__s32 *fdp = hs_go_fds.lookup(&sk);

		if (fdp) {
			c.sent = 1;
			hs_go_active.update(&k, &c);
			return go_data(ctx, id, c.conn, *fdp, c.buf, c.ts, c.dir, (long)ctx->cx);
		}
	}
	hs_go_active.update(&k, &c);
	return 0;
}

/* n < 0: not known (a Write's end that gobin could not follow: its
 * length is taken, as for a Write reported at its start). */
static __always_inline int go_return(struct pt_regs *ctx, int hs, long n)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hs_go_key k = { .tgid = id >> 32, .hs = hs, .g = ctx->r14 };
	struct hs_go_call *cp = hs_go_active.lookup(&k);
	struct hs_go_call c;

	if (!cp)
		return 0;
	c = *cp;
	hs_go_active.delete(&k);
	if (hs) {
		if (c.fd >= 0) {
			struct hs_ssl_key sk = { .ssl = c.conn, .tgid = id >> 32 };

			hs_go_fds.update(&sk, &c.fd);
		}
		return 0;
	}
	if (n < 0 && c.dir == HS_DIR_SEND)
		n = c.len;
	if (n <= 0 || c.sent)
		return 0;
	/* As for syscalls: a send is dated by its entry, a receive by its
	 * return -- a client's Read waits for the next response before the
	 * request is written. */
	if (c.dir == HS_DIR_RECV)
		c.ts = bpf_ktime_get_ns();
	return go_data(ctx, id, c.conn, c.fd, c.buf, c.ts, c.dir, n);
}

#define HS_X86_CF 0x0001
#define HS_X86_PF 0x0004
#define HS_X86_ZF 0x0040
#define HS_X86_SF 0x0080
#define HS_X86_OF 0x0800

/* Whether the x86 condition cc (a Jcc's opcode's low nibble) holds in
 * the flags: the branch will be taken.  Odd codes negate even ones. */
static __always_inline int go_cond(__u64 fl, __u32 cc)
{
	int t;

	switch (cc >> 1) {
	case 0: t = !!(fl & HS_X86_OF); break;				  /* O */
	case 1: t = !!(fl & HS_X86_CF); break;				  /* B */
	case 2: t = !!(fl & HS_X86_ZF); break;				  /* E */
	case 3: t = !!(fl & (HS_X86_CF | HS_X86_ZF)); break;		  /* BE */
	case 4: t = !!(fl & HS_X86_SF); break;				  /* S */
	case 5: t = !!(fl & HS_X86_PF); break;				  /* P */
	case 6: t = !(fl & HS_X86_SF) != !(fl & HS_X86_OF); break;	  /* L */
	default: t = (fl & HS_X86_ZF) || !(fl & HS_X86_SF) != !(fl & HS_X86_OF); /* LE */
	}
	return cc & 1 ? !t : t;
}

/* A register by HS_GOCK_REG's numbering.  Each is loaded at a fixed
 * offset: the verifier refuses a load at a computed offset of the
 * context, which a switch compiles to. */
static __always_inline long go_reg(struct pt_regs *ctx, __u32 r)
{
	long v[14] = { ctx->ax, ctx->bx, ctx->cx, ctx->dx, ctx->si, ctx->di, ctx->r8,
		       ctx->r9, ctx->r10, ctx->r11, ctx->r12, ctx->r13, ctx->r15, ctx->bp };

	return r < 14 ? v[r] : 0;
}

/* Attached by user space to every Go binary with crypto/tls (gotls.c,
 * gouprobe.c), at each place gobin.c chose; the cookie says which. */
int uprobe__go_tls(struct pt_regs *ctx)
{
	__u64 ck = bpf_get_attach_cookie(ctx);
	__u32 fn = HS_GOCK_FN(ck), cc = HS_GOCK_COND(ck);
	long n = -1;

	if (!(ck & HS_GOCK_RET)) {
		/* The JBE to morestack: taken, the function starts over. */
		if (ctx->flags & (HS_X86_CF | HS_X86_ZF))
			return 0;
		return go_enter(ctx, fn == 0 ? HS_DIR_SEND : fn == 1 ? HS_DIR_RECV : HS_GO_HS);
	}
	if (cc != HS_GOCK_ALWAYS && !go_cond(ctx->flags, cc))
		return 0;
	switch (HS_GOCK_SRC(ck)) {
	case HS_GOCK_SRC_REG:
		n = go_reg(ctx, HS_GOCK_REG(ck));
		break;
	case HS_GOCK_SRC_STACK:
		if (hs_read_user(&n, sizeof(n), (void *)(ctx->sp + HS_GOCK_VAL(ck))))
			n = -1;
		break;
	case HS_GOCK_SRC_CONST:
		n = HS_GOCK_VAL(ck);
		break;
	default:
		break;
	}
	return go_return(ctx, fn == 2, n);
}
#endif
