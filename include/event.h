/* event.h -- the record the probe sends to user space, shared by both sides.
 *
 * This header is compiled twice: by BCC's clang as part of the probe (it is
 * embedded in front of probes/httpsnoop.bpf.c at build time) and by the host
 * compiler for user space.  It therefore uses only fixed-width kernel types
 * and no includes.  Every limit is stated where it is defined.
 */
#ifndef HS_EVENT_H
#define HS_EVENT_H

/* Bumped whenever struct hs_event changes; the probe reports it through the
 * "hs_abi" table so that an edited probe built from an old copy of this
 * header is refused instead of misread. */
#define HS_ABI_VERSION 3

/* Payload bytes carried by one record at most.  A syscall moving more is
 * split over several records (HS_MAX_RECORDS).  16 KiB keeps a record
 * within the 32 KiB that a per-CPU scratch slot may hold. */
#define HS_CHUNK_MAX 16384
/* Records one syscall may emit; bytes past HS_MAX_RECORDS * HS_CHUNK_MAX
 * (512 KiB) in a single syscall are counted as a gap, never silently lost. */
#define HS_MAX_RECORDS 32
/* Buffer segments (iovecs, or iovecs of several mmsghdrs) read per syscall;
 * bytes in further segments are reported as a gap. */
#define HS_MAX_SEGS 32
/* How many syscalls on a connection first seen mid-stream may fail protocol
 * inference before the connection is declared not HTTP. */
#define HS_INFER_TRIES 64
/* Bytes looked at by protocol inference. */
#define HS_INFER_LEN 8
/* Task command length, as in the kernel's TASK_COMM_LEN. */
#define HS_COMM_LEN 16

/* The probe's table sizes.  BCC's BPF_HASH and friends take them as
 * macros, which works because this header is embedded in front of the
 * probe; user space sizes its own arrays by the same names. */
#define HS_MAX_CONNS 65536   /* hs_conns: connections; an insert into a
			      * full table is counted (HS_STAT_CONN_FULL) */
#define HS_MAX_SOCKS 65536   /* hs_socks: socket -> addresses (LRU);
			      * hs_sk_conns: socket -> connection (LRU) */
#define HS_MAX_ACTIVE 16384  /* hs_active, hs_tls_active, hs_mmsg_next:
			      * calls in flight, one per thread; hs_go_active: Go TLS calls
			      * in flight, one per goroutine (LRU) */
#define HS_MAX_SSL 65536     /* hs_ssl_fds: SSL object or *tls.Conn -> fd (LRU) */
#define HS_MAX_PIDS 1024     /* hs_pids: the -p filter */
#define HS_MAX_PORTS 1024    /* hs_ports: the -P filter */
#define HS_MAX_CGROUPS 1024  /* hs_cgroups: the --container filter */
#define HS_MAX_UNIX_NAMES 4096 /* hs_unix_names: Unix clients' connect(2)
				* paths until their first bytes (LRU) */
#define HS_MAX_TLS_PROCS 16384 /* hs_tls_procs: processes that made TLS
				* calls (LRU) */

/* The slots of the probe's tail-call tables, hs_calls (tracepoint
 * programs) and hs_calls_kp (kprobe programs, for the uprobes), which
 * user space fills with the functions named after each. */
enum hs_call {
	HS_CALL_EMIT_BUF = 0, /* hs_emit_buf: copies one user buffer */
	HS_CALL_EMIT_IOV = 1, /* hs_emit_iov: copies an iovec array (not
			       * in hs_calls_kp: SSL calls have one buffer) */
	HS_CALL_TLS_RET = 1,  /* in hs_calls_ks instead: uretprobe__SSL, the
			       * return of a write in a uprobe session */
	HS_CALL_DATA = 2,     /* hs_data, hs_data_tls: a call's bytes */
	HS_CALL_MAX = 3,
};

/* The probe's OpenSSL uprobe programs, which user space attaches to every
 * TLS library it finds: uprobe__NAME on entry and uretprobe__NAME on
 * return of SSL_write, SSL_read, SSL_write_ex and SSL_read_ex,
 * uprobe__SSL_free, and hs_ssl_write, the writes' uprobe session
 * program where the kernel has sessions (src/capture/uprobe.c lists
 * them by slot). */
#define HS_UPROBE_SLOTS 10

/* Go's crypto/tls (the probe's HS_GOTLS block): one uprobe program,
 * uprobe__go_tls (slot HS_GO_PROG), that user space (gouprobe.c) attaches
 * at every place gobin.c chooses in a Go binary -- never as a uretprobe --
 * and tells what each place is by the attachment's cookie
 * (bpf_get_attach_cookie, Linux 5.15): */
enum hs_go_prog {
	HS_GO_PROG = 0, /* uprobe__go_tls */
	HS_GO_PROGS = 1,
};
#define HS_GOCK_FN(ck) ((ck) & 3)	   /* 0 (*Conn).Write, 1 Read, 2 handshakeContext */
#define HS_GOCK_RET (1ull << 2)		   /* a place where a call is over; else its
					    * entry: the stack check's JBE */
#define HS_GOCK_COND(ck) (((ck) >> 3) & 31) /* over when this x86 condition holds
					    * (a Jcc's: the low nibble of its
					    * opcode), or HS_GOCK_ALWAYS */
#define HS_GOCK_ALWAYS 16
#define HS_GOCK_SRC(ck) (((ck) >> 8) & 3)   /* where its result n is: enum hs_gock_src */
#define HS_GOCK_REG(ck) (((ck) >> 10) & 15) /* HS_GOCK_SRC_REG: 0 rax, 1 rbx, 2 rcx,
					    * 3 rdx, 4 rsi, 5 rdi, 6-11 r8-r13,
					    * 12 r15, 13 rbp */
#define HS_GOCK_VAL(ck) ((int)((ck) >> 32)) /* SRC_STACK: n is at RSP + this;
					    * SRC_CONST: n is this */
enum hs_gock_src {
	HS_GOCK_SRC_NONE = 0,  /* not known: the handshake's, which is not read,
				* or a Write's: then the length it was given */
	HS_GOCK_SRC_REG = 1,
	HS_GOCK_SRC_STACK = 2,
	HS_GOCK_SRC_CONST = 3,
};

enum hs_ev_type {
	HS_EV_DATA = 1,	 /* bytes moved on a connection (maybe none copied) */
	HS_EV_CLOSE = 2, /* close(2) of an HTTP connection */
	HS_EV_EXIT = 3,	 /* a process exited: its connections are gone */
	HS_EV_EXEC = 4,	 /* a process exec'd: it may map a TLS library */
	HS_EV_UNIX = 5,	 /* a Unix stream connection found to carry HTTP:
			  * its names (struct hs_unix follows), sent
			  * before its first HS_EV_DATA */
};

enum hs_dir {
	HS_DIR_SEND = 0, /* written by the traced process */
	HS_DIR_RECV = 1, /* read by the traced process */
};

enum hs_role {
	HS_ROLE_UNKNOWN = 0, /* first seen mid-stream */
	HS_ROLE_CLIENT = 1,  /* created by connect(2) */
	HS_ROLE_SERVER = 2,  /* created by accept(2)/accept4(2) */
};

/* hs_event.flags */
#define HS_F_UNVERIFIED 0x01 /* fd not known to be a socket: user space
			      * checks /proc/PID/fd (kernels without the
			      * sock:sock_*_length tracepoints) */
#define HS_F_SENDFILE 0x02   /* payload came from sendfile(2), not copied */
#define HS_F_TLS 0x08	     /* plaintext read from the TLS library (SSL_read,
			      * SSL_write), not from a socket syscall */
#define HS_F_START 0x04	     /* the first record the probe sends in this
			      * direction: where user space's stream
			      * starts when the connection was first seen
			      * mid-stream */

/* An endpoint; family 0 when unknown.  Addresses in network order, the port
 * in host order.  A Unix socket's endpoints are family AF_UNIX and nothing
 * else: its names come once, in its HS_EV_UNIX record. */
struct hs_addr {
	__u16 family; /* AF_INET, AF_INET6, AF_UNIX or 0 */
	__u16 port;
	__u8 addr[16]; /* IPv4 uses the first 4 bytes */
};

/* One record.  For HS_EV_DATA it covers the stream range [pos, pos + span)
 * in direction dir; its first `captured` bytes follow the header, and the
 * remaining span - captured bytes were not copied (a gap user space must
 * account for).  For HS_EV_CLOSE, pos and span are unused, and
 * syscall_len is 0.  For HS_EV_EXIT only tgid and ts_ns are set. */
struct hs_event {
	__u64 ts_ns;	   /* CLOCK_MONOTONIC: when a send began (its
			    * syscall's entry, tcp:tcp_sendmsg_locked or,
			    * failing both, its end), a receive's end */
	__u64 conn_id;	   /* unique for a (tgid, fd) generation */
	__u64 pos;	   /* stream offset of the first byte, per dir */
	__u64 cgroup_id;   /* the task's cgroup v2 id */
	__u32 tgid;	   /* process id */
	__u32 tid;	   /* thread id */
	__s32 fd;
	__u32 span;	   /* stream bytes this record covers */
	__u32 captured;	   /* payload bytes following the header */
	__u32 syscall_len; /* what the whole syscall returned */
	__u8 type;	   /* enum hs_ev_type */
	__u8 dir;	   /* enum hs_dir */
	__u8 role;	   /* enum hs_role */
	__u8 flags;	   /* HS_F_* */
	__u32 pad;
	char comm[HS_COMM_LEN];
	struct hs_addr local;
	struct hs_addr remote;
};

/* sun_path's size (unix(7)): a Unix socket's name has at most this many
 * bytes; an abstract one starts with NUL. */
#define HS_UNIX_PATH_MAX 108

/* The payload of an HS_EV_UNIX record (captured = its size, span 0).
 * The probe fills listen_fd and remote: a client's connect(2) path,
 * sun_path bytes as given (an abstract name starts with NUL).  User
 * space completes it when it reads the record (sock_diag, /proc),
 * rewriting local and remote as text ("/path", "@abstract" with NULs
 * shown as '@', "" unnamed or unknown), and records and decodes the
 * completed payload, so that a --replay shows what the live run showed. */
struct hs_unix {
	__u64 ino;	 /* user space: this end's socket inode, 0 unknown */
	__u64 peer_ino;	 /* user space: the other end's, 0 unknown */
	__s32 listen_fd; /* probe: the listening socket a server accepted
			  * on (it carries the name), -1 otherwise */
	__u32 peer_pid;	 /* user space: a process holding the other end,
			  * 0 unknown */
	__u8 local_len;	 /* bytes of local, at most HS_UNIX_PATH_MAX */
	__u8 remote_len; /* bytes of remote, at most HS_UNIX_PATH_MAX */
	__u8 type;	 /* user space: SOCK_STREAM, SOCK_SEQPACKET, ...;
			  * 0 unknown */
	__u8 resolved;	 /* user space has completed it: names are text */
	__u32 pad;
	char peer_comm[HS_COMM_LEN];   /* user space, NUL-padded */
	char local[HS_UNIX_PATH_MAX];  /* this end's name: the server's
					* path on a server's record */
	char remote[HS_UNIX_PATH_MAX]; /* the other end's: on a client's
					* record, the path the server
					* bound (or connect(2) named) */
};

/* An HS_EV_UNIX record whole. */
struct hs_unix_record {
	struct hs_event ev;
	struct hs_unix u;
};

/* A TLS connection's plaintext has its own entry in hs_conns, keyed by
 * the socket's fd with this bit set, so that its byte positions and
 * inference are independent of the ciphertext's. */
#define HS_TLS_FD 0x40000000
/* An SSL object whose socket was not known when its plaintext first
 * moved (a memory BIO: Python's asyncio, Node.js) is keyed by the object
 * instead: HS_SSL_FD(ssl), negative, so never an fd.  Its records carry
 * the socket's fd once the probe has tied the two, and -1 before. */
#define HS_SSL_FD(ssl) ((__s32)(0x80000000u | (__u32)(((ssl) >> 4) & 0x7fffffff)))

/* The probe's connection table, "hs_conns".  User space reads it to
 * sweep the entries of exited processes and writes proto = HS_P_IGNORE
 * into it to stop a connection's flow. */
struct hs_conn_key {
	__u32 tgid;
	__s32 fd;
};

enum hs_proto {
	HS_P_UNKNOWN = 0, /* inference has not decided yet */
	HS_P_HTTP = 1,
	HS_P_OTHER = 2,	 /* inference said no: bytes counted, never copied */
	HS_P_IGNORE = 3, /* filtered out, or not a socket */
	HS_P_NOT_STREAM = 4, /* a Unix datagram or seqpacket socket made
			      * while tracing: left out, as ignored ones */
};

struct hs_conn {
	__u64 id;      /* the conn_id of its events */
	__u64 pos[2];  /* bytes moved so far, per direction */
	__u64 last_ts; /* last activity, CLOCK_MONOTONIC */
	__u8 role;     /* enum hs_role */
	__u8 proto;    /* enum hs_proto */
	__u8 tries;    /* failed inferences, for mid-stream connections */
	__u8 flags;    /* HS_F_UNVERIFIED, HS_F_TLS, HS_CF_SENT(dir) */
	__u8 nhead;    /* bytes in head (< HS_INFER_LEN) */
	__u8 head_dir; /* the direction they came in */
	__u16 pad;
	__u64 head;    /* the stream's first bytes while they are too few
			* for inference (a client writing byte by byte) */
	struct hs_addr local;
	struct hs_addr remote;
	__s32 link;    /* with HS_CF_LINKED: the key fd of the plaintext
			* entry of the SSL object on this socket, which
			* close(2) of the socket closes too */
	__s32 listen_fd; /* the listening socket a server accepted on, -1
			  * otherwise (a Unix socket's name is its
			  * listener's) */
	__u64 sk;	 /* the socket under it, as the sock tracepoints
			  * name it: set by the socket-level hooks at its
			  * first I/O (always 0 on the syscall path) */
	/* What its last record said of the thread that made it (see
	 * fill_header): kept so that the next record from the same thread
	 * copies them instead of asking the kernel again. */
	__u32 hdr_tid;	   /* that thread; 0 while being rewritten */
	__u32 hdr_gen;	   /* hs_renames[0] when they were read */
	__u64 hdr_cgroup;  /* its cgroup v2 id */
	char hdr_comm[HS_COMM_LEN];
	/* Its process's entry in hs_tls_procs (the TLS libraries it calls),
	 * as (hs_tls_gen[0] + 1) << 8 | entry, 0 while not known: read
	 * again once any process is added there (see tls_lib). */
	__u64 tls_seen;
};

/* hs_conn.flags, besides HS_F_UNVERIFIED and HS_F_TLS: the direction has
 * sent a record (its first one carried HS_F_START). */
#define HS_CF_SENT(dir) (0x10 << ((dir) & 1))
#define HS_CF_LINKED 0x40 /* link is set */
#define HS_CF_SSL_IO 0x80 /* a syscall inside an SSL call used the socket:
			   * it is a socket BIO's, and no SSL object is
			   * tied to it by correlation */

/* Counters kept per CPU in the probe's "hs_stats" table, summed by user
 * space and printed at exit. */
enum hs_stat {
	HS_STAT_EVENTS,		/* records submitted */
	HS_STAT_LOST,		/* records the ring buffer had no room for */
	HS_STAT_LOST_BYTES,	/* stream bytes in those records */
	HS_STAT_GAP_BYTES,	/* bytes past the per-syscall capture cap */
	HS_STAT_CONN_FULL,	/* connections the table had no room for */
	HS_STAT_READ_FAIL,	/* user memory that could not be read */
	HS_STAT_NON_HTTP_BYTES, /* bytes on connections found not HTTP */
	HS_STAT_TLS_NO_FD,	/* TLS calls before their socket was known:
				 * OpenSSL's are reported (addresses
				 * unknown), Go's are not */
	HS_STAT_UNIX_OTHER,	/* Unix stream connections found not HTTP
				 * (their bytes are not counted: that
				 * would cost a lookup per I/O) */
	HS_STAT_UNIX_NOT_STREAM, /* Unix datagram and seqpacket sockets
				  * made while tracing, left out */
	HS_STAT_NO_USER_BUF,	/* socket-level hooks: bytes of traced
				 * connections moved with no buffer the
				 * probe can read (io_uring, splice, 32-bit
				 * syscalls): sent as gaps */
	HS_STAT_MAX,
};

#endif
