/* test_container.c -- unit test of container_parse_cgroup: /proc/PID/cgroup texts of each runtime, cgroup v1 and v2, and the host.
 *
 * Each fixture is a whole /proc/PID/cgroup text and the id expected from
 * it ("" for the host).  Every fixture is also parsed cut short at every
 * byte, which must never read past the cut nor find an id that the cut
 * text does not hold whole.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/container.h"
#include "check.h"


/* Ids of 64 hex digits, as the runtimes make them. */
#define ID_A "85b10ba07c97f82cdbaf6597630814532b42fec06ebd404473f0a41bf2ac9f78"
#define ID_B "4f1ad2c3e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_C "0e9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988776655"
/* A Kubernetes pod's uid, in the two spellings of its cgroup name. */
#define POD_DASH "pod1234abcd-5678-90ef-1234-567890abcdef"
#define POD_UNDER "pod1234abcd_5678_90ef_1234_567890abcdef"

struct fixture {
	const char *name;
	const char *text; /* a whole /proc/PID/cgroup */
	const char *id;	  /* the container id expected, "" for the host */
};

static const struct fixture fixtures[] = {
	/* podman with the cgroupfs manager on a hybrid layout (as on the
	 * machines the container tests run on: copied from one). */
	{ "podman cgroupfs, hybrid",
	  "9:name=systemd:/libpod_parent/libpod-" ID_A "\n"
	  "8:pids:/libpod_parent/libpod-" ID_A "\n"
	  "4:memory:/libpod_parent/libpod-" ID_A "\n"
	  "1:cpu:/libpod_parent/libpod-" ID_A "\n"
	  "0::/libpod_parent/libpod-" ID_A "\n",
	  ID_A },
	{ "podman systemd, v2",
	  "0::/machine.slice/libpod-" ID_A ".scope/container\n", ID_A },
	{ "podman's conmon is not in the container",
	  "0::/machine.slice/libpod-conmon-" ID_A ".scope\n", "" },
	{ "docker cgroupfs, v1 with an empty v2 line",
	  "12:cpuset:/docker/" ID_B "\n"
	  "11:memory:/docker/" ID_B "\n"
	  "1:name=systemd:/docker/" ID_B "\n"
	  "0::/\n",
	  ID_B },
	{ "docker systemd, v2", "0::/system.slice/docker-" ID_B ".scope\n", ID_B },
	{ "docker in docker: the inner container",
	  "0::/docker/" ID_C "/docker/" ID_B "\n", ID_B },
	{ "containerd CRI, systemd driver, v2",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-"
	  POD_UNDER ".slice/cri-containerd-" ID_C ".scope\n",
	  ID_C },
	{ "containerd CRI, cgroupfs driver, v1",
	  "11:memory:/kubepods/besteffort/" POD_DASH "/" ID_C "\n"
	  "1:name=systemd:/kubepods/besteffort/" POD_DASH "/" ID_C "\n",
	  ID_C },
	{ "CRI-O, v2",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
	  POD_UNDER ".slice/crio-" ID_A ".scope\n",
	  ID_A },
	{ "CRI-O's conmon",
	  "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-"
	  POD_UNDER ".slice/crio-conmon-" ID_A ".scope\n",
	  "" },
	{ "the v2 line wins over v1 controllers",
	  "4:memory:/docker/" ID_B "\n0::/system.slice/docker-" ID_C ".scope\n",
	  ID_C },
	{ "the v2 line wins when it comes first",
	  "0::/system.slice/docker-" ID_C ".scope\n4:memory:/docker/" ID_B "\n",
	  ID_C },
	{ "no newline at the end", "0::/system.slice/docker-" ID_B ".scope", ID_B },
	{ "host, v2 root", "0::/\n", "" },
	{ "host, a systemd session",
	  "0::/user.slice/user-0.slice/session-1.scope\n", "" },
	{ "host, hybrid, with a 32-digit id of another kind",
	  "9:name=systemd:/\n4:memory:/process_api/61826fa75df2bc5a07ee4e787b514d90\n"
	  "1:cpu:/\n0::/\n",
	  "" },
	{ "65 hex digits are not an id",
	  "0::/docker/" ID_B "0\n", "" },
	{ "an id in the controller field does not count",
	  "4:" ID_A ":/\n0::/\n", "" },
	{ "a line without its fields", "garbage " ID_A "\n", "" },
	{ "empty", "", "" },
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static void test_fixtures(void)
{
	for (size_t i = 0; i < NFIXTURES; i++) {
		const struct fixture *f = &fixtures[i];
		char out[CONTAINER_ID_LEN + 1] = "";
		int r = container_parse_cgroup(f->text, out);

		CHECK(r == (*f->id != '\0'), "%s: returned %d", f->name, r);
		CHECK(r != 1 || !strcmp(out, f->id), "%s: id %s, expected %s", f->name,
		      out, f->id);
	}
}

static bool is_id(const char *s)
{
	size_t n = 0;

	while (isxdigit((unsigned char)s[n]))
		n++;
	return n == CONTAINER_ID_LEN && s[n] == '\0';
}

/* Each fixture cut at every byte, in a buffer of exactly that size (so
 * that a sanitizer sees a read past it): whatever is found must be a
 * whole id of the cut text. */
static void test_cut(void)
{
	for (size_t i = 0; i < NFIXTURES; i++) {
		const char *text = fixtures[i].text;
		size_t len = strlen(text);

		for (size_t cut = 0; cut <= len; cut++) {
			char out[CONTAINER_ID_LEN + 1] = "";
			char *buf = malloc(cut + 1);
			int r;

			if (!buf)
				abort();
			memcpy(buf, text, cut);
			buf[cut] = '\0';
			r = container_parse_cgroup(buf, out);
			CHECK(r != 1 || (is_id(out) && strstr(buf, out)), "%s cut at %zu: found %s",
			      fixtures[i].name, cut, out);
			free(buf);
		}
	}
}

/* An odd 63-digit id, built at run time so that the table stays plain. */
static void test_short_id(void)
{
	char text[128], out[CONTAINER_ID_LEN + 1] = "";
	int r;

	snprintf(text, sizeof(text), "0::/docker/%.63s\n", ID_B);
	r = container_parse_cgroup(text, out);
	CHECK(r == 0, "63 digits taken for an id: %s", out);
}

int main(void)
{
	test_fixtures();
	test_cut();
	test_short_id();
	fprintf(failures ? stderr : stdout, "test_container: %d failed check(s), %zu fixtures\n",
		failures, NFIXTURES);
	return failures ? 1 : 0;
}
