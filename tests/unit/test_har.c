/* test_har.c -- unit test of the HAR file: a complete document after every call, large entries, pipes and file modes. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sink/har.h"

#include "check.h"

#define HEAD "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"httpsnoop\",\"version\":\"9.9\"},\"pages\":[],\"entries\":["
#define TAIL "\n]}}\n"

static char dir[] = "/tmp/test_har.XXXXXX";

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	do {
		if (*len + 65536 > cap) {
			cap = (*len + 65536) * 2;
			buf = realloc(buf, cap);
		}
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n);
	fclose(f);
	return buf;
}

/* Entry i: an object of a size that varies with i, some over the
 * buffer. */
static char *entry(size_t i, size_t *len)
{
	size_t pad = i % 50 == 3 ? HAR_BUF_SIZE + 100 : (i * 7919) % 5000;
	char *e = malloc(pad + 64);

	*len = (size_t)sprintf(e, "{\"i\":%zu,\"pad\":\"", i);
	memset(e + *len, 'a' + (char)(i % 26), pad);
	*len += pad;
	memcpy(e + *len, "\"}", 2);
	*len += 2;
	return e;
}

/* The document holding entries [0, k). */
static char *doc(size_t k, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *d = malloc(cap);

	n = (size_t)sprintf(d, "%s", HEAD);
	for (size_t i = 0; i < k; i++) {
		size_t el;
		char *e = entry(i, &el);

		if (n + el + 64 > cap) {
			cap = (n + el + 64) * 2;
			d = realloc(d, cap);
		}
		n += (size_t)sprintf(d + n, "%s", i ? ",\n" : "\n");
		memcpy(d + n, e, el);
		n += el;
		free(e);
	}
	memcpy(d + n, TAIL, strlen(TAIL));
	*len = n + strlen(TAIL);
	return d;
}

/* Whether the file holds the document of some prefix of the entries
 * (at most max of them); *k receives its length. */
static bool is_prefix_doc(const char *path, size_t max, size_t *k)
{
	size_t len, dl;
	char *got = slurp(path, &len), *want;
	bool ok;

	*k = 0;
	if (!got)
		return false;
	/* entries begin with {"i": after a newline; pads are letters */
	for (char *p = got; (p = memmem(p, len - (size_t)(p - got), "\n{\"i\":", 6)); p++)
		(*k)++;
	want = doc(*k, &dl);
	ok = *k <= max && dl == len && !memcmp(want, got, len);
	free(want);
	free(got);
	return ok;
}

static void test_writes(void)
{
	char path[64];
	struct har *h;
	size_t k, len;

	snprintf(path, sizeof(path), "%s/a.har", dir);
	h = har_open(path, "9.9");
	CHECK(h != NULL, "open: %s", strerror(errno));
	CHECK(is_prefix_doc(path, 0, &k) && k == 0, "empty document after open");
	for (size_t i = 0; i < 40; i++) {
		char *e = entry(i, &len);

		CHECK(har_add(h, e, len) == 0, "add %zu", i);
		free(e);
		/* always some whole prefix, whatever was buffered */
		CHECK(is_prefix_doc(path, i + 1, &k), "after add %zu the file is no document", i);
		if (i % 5 == 4) {
			CHECK(har_flush(h) == 0, "flush");
			CHECK(is_prefix_doc(path, i + 1, &k) && k == i + 1, "after flush %zu: %zu", i, k);
		}
	}
	CHECK(har_close(h) == 0, "close");
	CHECK(is_prefix_doc(path, 40, &k) && k == 40, "closed: %zu entries", k);
	{
		struct stat st;

		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode %o", st.st_mode & 0777);
	}
}

static void test_files(void)
{
	char path[64], link[64];
	struct har *h;
	size_t len;
	char *got;

	/* an existing file is truncated and made 0600 */
	snprintf(path, sizeof(path), "%s/old.har", dir);
	{
		FILE *f = fopen(path, "w");

		fputs("old contents, longer than the new document will be at first......", f);
		fclose(f);
		chmod(path, 0644);
	}
	h = har_open(path, "9.9");
	CHECK(h && har_close(h) == 0, "reopen");
	got = slurp(path, &len);
	CHECK(got && len == strlen(HEAD TAIL) && !memcmp(got, HEAD TAIL, len), "truncated");
	free(got);
	/* no following a symlink */
	snprintf(link, sizeof(link), "%s/link.har", dir);
	CHECK(symlink(path, link) == 0, "symlink");
	errno = 0;
	CHECK(har_open(link, "9.9") == NULL && errno == ELOOP, "symlink followed: %s", strerror(errno));
	/* a directory */
	errno = 0;
	CHECK(har_open(dir, "9.9") == NULL && errno == EISDIR, "directory: %s", strerror(errno));
	/* a device that is always full: the first write fails */
	errno = 0;
	CHECK(har_open("/dev/full", "9.9") == NULL && errno == ENOSPC, "/dev/full: %s",
	      strerror(errno));
	/* a missing folder */
	snprintf(path, sizeof(path), "%s/no/such.har", dir);
	CHECK(har_open(path, "9.9") == NULL && errno == ENOENT, "missing folder");
}

static void test_pipe(void)
{
	int p[2], saved = dup(STDOUT_FILENO);
	struct har *h;
	pid_t pid;
	size_t len, dl;
	char *want, path[64];

	snprintf(path, sizeof(path), "%s/pipe.out", dir);
	CHECK(pipe(p) == 0, "pipe");
	pid = fork();
	if (pid == 0) {
		/* cat the pipe into a file */
		int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		char buf[65536];
		ssize_t n;

		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	close(p[0]);
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	h = har_open("-", "9.9");
	dup2(saved, STDOUT_FILENO);
	close(saved);
	CHECK(h != NULL, "open stdout");
	for (size_t i = 0; i < 12; i++) {
		char *e = entry(i, &len);

		har_add(h, e, len);
		free(e);
	}
	CHECK(har_close(h) == 0, "close pipe");
	waitpid(pid, NULL, 0);
	{
		char *got = slurp(path, &len);

		want = doc(12, &dl);
		CHECK(got && len == dl && !memcmp(got, want, dl), "pipe contents");
		free(got);
		free(want);
	}
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_writes();
	test_files();
	test_pipe();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
	return check_result("test_har");
}
