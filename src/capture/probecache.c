/* probecache.c -- compiled probes kept on disk: each function's bytecode, with its map references as table numbers, and each table's kind and sizes.
 *
 * Compiling the probe is most of httpsnoop's start-up: clang and LLVM,
 * about a second on a small VM.  What they produce depends only on the
 * probe text, the -D flags, the kernel (its tracepoint formats and
 * headers) and BCC, so it is kept under a name hashed from all of them.
 * A later start with all of them equal makes the maps afresh, writes
 * their file descriptors into the bytecode's map loads, and loads the
 * programs without loading libbcc's compiler at all.  The kernel's
 * verifier checks every program again at each load, as always.
 *
 * A file (native byte order: it never leaves the machine) is a struct
 * file_head, ntables struct table_rec, then nfuncs struct func_rec each
 * followed by its instructions.  head.sum is a checksum of everything
 * after the head, so that a damaged file is noticed and compiled over.
 * The directory and its files must be the user's own and writable by no
 * one else: a program from there runs in the kernel.
 */
#include "capture/probecache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bcc/libbpf.h>

#include "core/util.h"

#define PCACHE_MAGIC "HSPROBE1"
#define PCACHE_NAME_LEN 64
#define PCACHE_MAX_TABLES 64
#define PCACHE_MAX_FUNCS 128
#define PCACHE_MAX_BYTES (64u << 20)
#define PCACHE_KEEP 16 /* files kept; the least recently used go */
#define PCACHE_LD_IMM64 (BPF_LD | BPF_IMM | BPF_DW)

struct file_head {
	char magic[8];
	uint32_t ntables, nfuncs;
	uint32_t kern_version;
	uint32_t pad;
	char license[16];
	uint64_t sum;
};

struct table_rec {
	char name[PCACHE_NAME_LEN];
	uint32_t type, key_size, value_size, max_entries, flags;
	uint32_t inner; /* a table of tables: 1 + the table made as its
			 * template (the kernel keeps no record of it);
			 * else 0 */
};

static bool of_maps(uint32_t type)
{
	return type == BPF_MAP_TYPE_ARRAY_OF_MAPS || type == BPF_MAP_TYPE_HASH_OF_MAPS;
}

struct func_rec {
	char name[PCACHE_NAME_LEN];
	uint32_t bytes; /* of instructions that follow */
	uint32_t pad;
};

struct pcache_func {
	const char *name;
	struct bpf_insn *insns;
	size_t bytes;
};

/* A module served from the cache. */
struct pcache_mod {
	struct file_head head;
	struct table_rec tables[PCACHE_MAX_TABLES];
	int fds[PCACHE_MAX_TABLES];
	struct pcache_func funcs[PCACHE_MAX_FUNCS];
	char *buf; /* the file's bytes, which funcs point into */
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return fnv(h, s, strlen(s) + 1);
}

/* What a file's identity adds to the key: its inode and last change. */
static uint64_t fnv_stat(uint64_t h, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return fnv_str(h, "-");
	h = fnv(h, &st.st_dev, sizeof(st.st_dev));
	h = fnv(h, &st.st_ino, sizeof(st.st_ino));
	h = fnv(h, &st.st_size, sizeof(st.st_size));
	return fnv(h, &st.st_mtim, sizeof(st.st_mtim));
}

/* The key, in two halves of different seeds: the probe text, its flags,
 * the kernel (uname, and the headers BCC compiles against), and the
 * shared libraries, BCC among them (/etc/ld.so.cache changes with every
 * library installed or upgraded). */
static void cache_key(const struct compile_job *job, uint64_t key[2])
{
	struct utsname u;
	char headers[128 + sizeof(u.release)];

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	snprintf(headers, sizeof(headers), "/lib/modules/%s/build/", u.release);
	for (int k = 0; k < 2; k++) {
		uint64_t h = k ? 0xcbf29ce484222325ULL : 0x84222325cbf29ce4ULL;

		h = fnv_str(h, PCACHE_MAGIC);
		h = fnv_str(h, job->source);
		for (int i = 0; i < job->ncflags; i++)
			h = fnv_str(h, job->cflags[i]);
		h = fnv(h, &job->user_only, sizeof(job->user_only));
		h = fnv_str(h, u.sysname);
		h = fnv_str(h, u.release);
		h = fnv_str(h, u.version);
		h = fnv_str(h, u.machine);
		h = fnv_stat(h, headers);
		h = fnv_stat(h, "/etc/ld.so.cache");
		key[k] = h;
	}
}

static const char *cache_dir(void)
{
	const char *d = getenv("HTTPSNOOP_CACHE_DIR");

	return d && *d ? d : PROBE_CACHE_DIR;
}

static void cache_path(const struct compile_job *job, char *out, size_t n)
{
	uint64_t key[2];

	cache_key(job, key);
	snprintf(out, n, "%s/probe-%016llx%016llx.bin", cache_dir(),
		 (unsigned long long)key[0], (unsigned long long)key[1]);
}

/* Owned by us and writable by no one else. */
static bool private_enough(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* ---- the module's functions, in place of BCC's ------------------------ */

static struct pcache_func *find_func(struct pcache_mod *m, const char *name)
{
	for (uint32_t i = 0; i < m->head.nfuncs; i++)
		if (!strcmp(m->funcs[i].name, name))
			return &m->funcs[i];
	return NULL;
}

static int find_table(struct pcache_mod *m, const char *name)
{
	for (uint32_t i = 0; i < m->head.ntables; i++)
		if (!strcmp(m->tables[i].name, name))
			return (int)i;
	return -1;
}

static char *pc_license(void *p)
{
	return ((struct pcache_mod *)p)->head.license;
}

static unsigned pc_kern_version(void *p)
{
	return ((struct pcache_mod *)p)->head.kern_version;
}

static size_t pc_num_functions(void *p)
{
	return ((struct pcache_mod *)p)->head.nfuncs;
}

static const char *pc_function_name(void *p, size_t id)
{
	struct pcache_mod *m = p;

	return id < m->head.nfuncs ? m->funcs[id].name : NULL;
}

static void *pc_function_start(void *p, const char *name)
{
	struct pcache_func *f = find_func(p, name);

	return f ? f->insns : NULL;
}

static size_t pc_function_size(void *p, const char *name)
{
	struct pcache_func *f = find_func(p, name);

	return f ? f->bytes : 0;
}

static size_t pc_num_tables(void *p)
{
	return ((struct pcache_mod *)p)->head.ntables;
}

static int pc_table_fd_id(void *p, size_t id)
{
	struct pcache_mod *m = p;

	return id < m->head.ntables ? m->fds[id] : -1;
}

static int pc_table_fd(void *p, const char *name)
{
	int i = find_table(p, name);

	return i < 0 ? -1 : ((struct pcache_mod *)p)->fds[i];
}

static const char *pc_table_name(void *p, size_t id)
{
	struct pcache_mod *m = p;

	return id < m->head.ntables ? m->tables[id].name : NULL;
}

static size_t pc_table_max_entries(void *p, const char *name)
{
	int i = find_table(p, name);

	return i < 0 ? 0 : ((struct pcache_mod *)p)->tables[i].max_entries;
}

static size_t pc_table_key_size(void *p, const char *name)
{
	int i = find_table(p, name);

	return i < 0 ? 0 : ((struct pcache_mod *)p)->tables[i].key_size;
}

static size_t pc_table_leaf_size(void *p, const char *name)
{
	int i = find_table(p, name);

	return i < 0 ? 0 : ((struct pcache_mod *)p)->tables[i].value_size;
}

static int pc_func_load(void *p, int prog_type, const char *name,
			const struct bpf_insn *insns, int prog_len,
			const char *license, unsigned kern_version, int log_level,
			char *log_buf, unsigned log_buf_size, const char *dev_name,
			int attach_type)
{
	(void)p, (void)dev_name, (void)attach_type;
	return bcc_prog_load(prog_type, name, insns, prog_len, license, kern_version,
			     log_level, log_buf, log_buf_size);
}

static void use_cache_functions(void)
{
	compile_bcc.license = pc_license;
	compile_bcc.kern_version = pc_kern_version;
	compile_bcc.num_functions = pc_num_functions;
	compile_bcc.function_name = pc_function_name;
	compile_bcc.function_start = pc_function_start;
	compile_bcc.function_size = pc_function_size;
	compile_bcc.num_tables = pc_num_tables;
	compile_bcc.table_fd_id = pc_table_fd_id;
	compile_bcc.table_fd = pc_table_fd;
	compile_bcc.table_name = pc_table_name;
	compile_bcc.table_max_entries = pc_table_max_entries;
	compile_bcc.table_key_size = pc_table_key_size;
	compile_bcc.table_leaf_size = pc_table_leaf_size;
	compile_bcc.func_load = pc_func_load;
}

/* ---- loading ---------------------------------------------------------- */

/* The whole file at path, or NULL: *why says why, or is NULL when there
 * is no such file. */
static char *read_file(const char *path, size_t *len, const char **why)
{
	struct stat st, dst;
	char *buf = NULL;
	size_t got = 0;
	int fd;

	*why = NULL;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !private_enough(&st) ||
	    stat(cache_dir(), &dst) || !private_enough(&dst))
		*why = "it or its directory is not this user's own, or others may write it";
	else if (st.st_size < (off_t)sizeof(struct file_head) || st.st_size > PCACHE_MAX_BYTES)
		*why = "it is damaged (its size)";
	else if (!(buf = malloc(st.st_size)))
		*why = "out of memory";
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, st.st_size - got);

		if (n <= 0) {
			*why = n < 0 ? strerror(errno) : "it is damaged (short)";
			free(buf);
			buf = NULL;
			break;
		}
		got += n;
	}
	close(fd);
	*len = got;
	return buf;
}

/* Parses buf into m; NULL, or what is wrong with it. */
static const char *parse(struct pcache_mod *m, char *buf, size_t len)
{
	size_t off = sizeof(m->head);

	memcpy(&m->head, buf, sizeof(m->head));
	if (memcmp(m->head.magic, PCACHE_MAGIC, sizeof(m->head.magic)))
		return "it is not a probe cache file of this version";
	if (fnv(0xcbf29ce484222325ULL, buf + off, len - off) != m->head.sum)
		return "it is damaged (checksum)";
	if (m->head.ntables > PCACHE_MAX_TABLES || m->head.nfuncs > PCACHE_MAX_FUNCS ||
	    m->head.ntables * sizeof(struct table_rec) > len - off)
		return "it is damaged (counts)";
	m->head.license[sizeof(m->head.license) - 1] = '\0';
	memcpy(m->tables, buf + off, m->head.ntables * sizeof(struct table_rec));
	off += m->head.ntables * sizeof(struct table_rec);
	for (uint32_t i = 0; i < m->head.ntables; i++)
		m->tables[i].name[PCACHE_NAME_LEN - 1] = '\0';
	for (uint32_t i = 0; i < m->head.nfuncs; i++) {
		struct func_rec *f = (struct func_rec *)(buf + off);

		if (len - off < sizeof(*f))
			return "it is damaged (functions)";
		f->name[PCACHE_NAME_LEN - 1] = '\0';
		off += sizeof(*f);
		if (f->bytes % sizeof(struct bpf_insn) || f->bytes > len - off)
			return "it is damaged (instructions)";
		m->funcs[i].name = f->name;
		m->funcs[i].insns = (struct bpf_insn *)(buf + off);
		m->funcs[i].bytes = f->bytes;
		off += f->bytes;
	}
	return off == len ? NULL : "it is damaged (trailing bytes)";
}

/* Makes the tables and writes their fds into the map loads.  Tables of
 * tables come last, each with its template made already. */
static const char *make_maps(struct pcache_mod *m)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < m->head.ntables; i++) {
			struct table_rec *t = &m->tables[i];
			struct bcc_create_map_attr a = {
				.name = t->name, .map_type = t->type, .map_flags = t->flags,
				.key_size = t->key_size, .value_size = t->value_size,
				.max_entries = t->max_entries,
			};

			if (of_maps(t->type) != (pass == 1))
				continue;
			if (of_maps(t->type)) {
				if (!t->inner || t->inner > m->head.ntables ||
				    of_maps(m->tables[t->inner - 1].type))
					return "it is damaged (a table of tables without a template)";
				a.inner_map_fd = m->fds[t->inner - 1];
			}
			m->fds[i] = bcc_create_map_xattr(&a, true);
			if (m->fds[i] < 0)
				return strerror(errno);
		}
	}
	for (uint32_t i = 0; i < m->head.nfuncs; i++) {
		struct pcache_func *f = &m->funcs[i];
		size_t n = f->bytes / sizeof(struct bpf_insn);

		for (size_t k = 0; k < n; k++) {
			struct bpf_insn *in = &f->insns[k];

			if (in->code != PCACHE_LD_IMM64)
				continue;
			if (in->src_reg == BPF_PSEUDO_MAP_FD) {
				if ((uint32_t)in->imm >= m->head.ntables)
					return "it is damaged (a map reference)";
				in->imm = m->fds[in->imm];
			}
			k++; /* the second half of the load */
		}
	}
	return NULL;
}

void *pcache_load(const struct compile_job *job)
{
	char path[512];
	const char *why = NULL;
	struct pcache_mod *m;
	size_t len = 0;
	char *buf;

	cache_path(job, path, sizeof(path));
	buf = read_file(path, &len, &why);
	if (!buf) {
		if (why)
			warn("not using the compiled probe in %s: %s; compiling it", path, why);
		else if (job->verbose)
			fprintf(stderr, "httpsnoop: no compiled probe in %s yet\n", path);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m || (why = parse(m, buf, len)) || (why = make_maps(m))) {
		warn("not using the compiled probe in %s: %s; compiling it", path,
		     why ? why : "out of memory");
		/* The child exits soon: the maps made go with it. */
		free(m);
		free(buf);
		return NULL;
	}
	m->buf = buf;
	/* Used: the least recently used files are the ones let go. */
	utimensat(AT_FDCWD, path, NULL, 0);
	use_cache_functions();
	if (job->verbose)
		fprintf(stderr, "httpsnoop: compiled probe from %s\n", path);
	return m;
}

/* ---- saving ----------------------------------------------------------- */

/* Table number of map fd, or -1. */
static int table_of_fd(void *mod, size_t ntables, int fd)
{
	for (size_t i = 0; i < ntables; i++)
		if (compile_bcc.table_fd_id(mod, i) == fd)
			return (int)i;
	return -1;
}

/* 1 + a table of mod that may be the template of table `outer`, a table
 * of tables, or 0.  The kernel keeps no record of the template, but takes
 * into `outer` only tables that match it: each other table is tried as
 * the entry of key 0 (the probe is not armed yet, so nothing is written
 * there), then the entry is taken out again. */
static uint32_t template_of(void *mod, size_t ntables, size_t outer)
{
	int ofd = compile_bcc.table_fd_id(mod, outer);
	uint8_t key[64] = { 0 };
	struct bpf_map_info info = { 0 };
	uint32_t ilen = sizeof(info);

	if (bpf_obj_get_info(ofd, &info, &ilen) || info.key_size > sizeof(key))
		return 0;
	for (size_t j = 0; j < ntables; j++) {
		int fd = compile_bcc.table_fd_id(mod, j);
		struct bpf_map_info ji = { 0 };
		uint32_t jlen = sizeof(ji);

		if (j == outer || bpf_obj_get_info(fd, &ji, &jlen) || of_maps(ji.type))
			continue;
		if (!bpf_update_elem(ofd, key, &fd, 0)) {
			bpf_delete_elem(ofd, key);
			return (uint32_t)j + 1;
		}
	}
	return 0;
}

/* Appends n bytes to the buffer *b of *len (capacity *cap). */
static int put(char **b, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = (*cap ? *cap * 2 : 1 << 16);
		char *nb;

		while (c < *len + n)
			c *= 2;
		nb = realloc(*b, c);
		if (!nb)
			return -ENOMEM;
		*b = nb;
		*cap = c;
	}
	memcpy(*b + *len, p, n);
	*len += n;
	return 0;
}

/* The file's bytes for BCC's module mod, in *out; NULL or why not. */
static const char *serialize(void *mod, char **out, size_t *outlen)
{
	const struct compile_bcc *b = &compile_bcc;
	size_t ntables = b->num_tables(mod), nfuncs = b->num_functions(mod);
	struct file_head h = { .magic = PCACHE_MAGIC };
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (ntables > PCACHE_MAX_TABLES || nfuncs > PCACHE_MAX_FUNCS)
		return "too many tables or functions";
	h.ntables = ntables;
	h.nfuncs = nfuncs;
	h.kern_version = b->kern_version(mod);
	if (strlen(b->license(mod)) >= sizeof(h.license))
		return "its license string is too long";
	strcpy(h.license, b->license(mod));
	if (put(&buf, &len, &cap, &h, sizeof(h)))
		goto nomem;
	for (size_t i = 0; i < ntables; i++) {
		struct table_rec t = { 0 };
		struct bpf_map_info info = { 0 };
		uint32_t ilen = sizeof(info);
		const char *name = b->table_name(mod, i);

		if (!name || strlen(name) >= PCACHE_NAME_LEN ||
		    bpf_obj_get_info(b->table_fd_id(mod, i), &info, &ilen)) {
			free(buf);
			return "a table could not be described";
		}
		strcpy(t.name, name);
		t.type = info.type;
		t.key_size = info.key_size;
		t.value_size = info.value_size;
		t.max_entries = info.max_entries;
		t.flags = info.map_flags;
		if (of_maps(t.type) && !(t.inner = template_of(mod, ntables, i))) {
			free(buf);
			return "a table of tables has no template among its tables";
		}
		if (put(&buf, &len, &cap, &t, sizeof(t)))
			goto nomem;
	}
	for (size_t i = 0; i < nfuncs; i++) {
		const char *name = b->function_name(mod, i);
		struct func_rec f = { 0 };
		struct bpf_insn *in;
		size_t at, n;

		if (!name || strlen(name) >= PCACHE_NAME_LEN) {
			free(buf);
			return "a function name is too long";
		}
		strcpy(f.name, name);
		f.bytes = b->function_size(mod, name);
		if (put(&buf, &len, &cap, &f, sizeof(f)))
			goto nomem;
		at = len;
		if (put(&buf, &len, &cap, b->function_start(mod, name), f.bytes))
			goto nomem;
		/* Map loads carry this process's fds: make them table numbers. */
		in = (struct bpf_insn *)(buf + at);
		n = f.bytes / sizeof(*in);
		for (size_t k = 0; k < n; k++) {
			if (in[k].code != PCACHE_LD_IMM64)
				continue;
			if (in[k].src_reg == BPF_PSEUDO_MAP_FD) {
				int t = table_of_fd(mod, ntables, in[k].imm);

				if (t < 0) {
					free(buf);
					return "a map it loads is not one of its tables";
				}
				in[k].imm = t;
			} else if (in[k].src_reg != 0) {
				free(buf);
				return "it loads global data or kernel symbols";
			}
			k++;
		}
	}
	h.sum = fnv(0xcbf29ce484222325ULL, buf + sizeof(h), len - sizeof(h));
	memcpy(buf, &h, sizeof(h));
	*out = buf;
	*outlen = len;
	return NULL;
nomem:
	free(buf);
	return "out of memory";
}

/* Lets the least recently used files go, keeping PCACHE_KEEP. */
static void prune(const char *dir)
{
	struct {
		char name[NAME_MAX + 1];
		struct timespec used;
	} old = { 0 };
	struct dirent *e;
	int n = 0;
	DIR *d;

	do {
		d = opendir(dir);
		if (!d)
			return;
		n = 0;
		old.name[0] = '\0';
		while ((e = readdir(d))) {
			char p[PATH_MAX];
			struct stat st;

			if (strncmp(e->d_name, "probe-", 6))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			if (stat(p, &st))
				continue;
			n++;
			if (!old.name[0] || st.st_mtim.tv_sec < old.used.tv_sec ||
			    (st.st_mtim.tv_sec == old.used.tv_sec &&
			     st.st_mtim.tv_nsec < old.used.tv_nsec)) {
				snprintf(old.name, sizeof(old.name), "%s", e->d_name);
				old.used = st.st_mtim;
			}
		}
		closedir(d);
		if (n > PCACHE_KEEP && old.name[0]) {
			char p[PATH_MAX];

			snprintf(p, sizeof(p), "%s/%s", dir, old.name);
			if (unlink(p))
				return;
		}
	} while (n - 1 > PCACHE_KEEP);
}

void pcache_save(const struct compile_job *job, void *mod)
{
	const char *dir = cache_dir(), *why;
	char path[512], tmp[512];
	char *buf = NULL;
	size_t len = 0, done = 0;
	struct stat st;
	int fd;

	if ((why = serialize(mod, &buf, &len)))
		goto fail;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		why = strerror(errno);
		goto fail;
	}
	if (stat(dir, &st) || !private_enough(&st)) {
		why = "the directory is not this user's own, or others may write it";
		goto fail;
	}
	cache_path(job, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s/.probe-XXXXXX", dir);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		why = strerror(errno);
		goto fail;
	}
	while (done < len) {
		ssize_t n = write(fd, buf + done, len - done);

		if (n <= 0)
			break;
		done += n;
	}
	if (close(fd) || done != len || rename(tmp, path)) {
		why = strerror(errno ? errno : EIO);
		unlink(tmp);
		goto fail;
	}
	free(buf);
	prune(dir);
	if (job->verbose)
		fprintf(stderr, "httpsnoop: compiled probe kept in %s\n", path);
	return;
fail:
	free(buf);
	if (job->verbose)
		fprintf(stderr, "httpsnoop: the compiled probe is not kept in %s: %s\n",
			dir, why);
}
