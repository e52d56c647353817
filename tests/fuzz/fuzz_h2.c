/* fuzz_h2.c -- libFuzzer harness for the HTTP/2 and gRPC codecs: frames and HPACK of both directions of a connection, gRPC messages and protobuf previews.
 *
 * Built like fuzz_pipeline.c (tests/fuzz/meson.build): a libFuzzer target
 * with clang, and a corpus runner (-DFUZZ_CORPUS_RUNNER) that feeds every
 * saved input as a unit test.
 *
 * Input: a header byte, then chunks.
 *   header bits 0-1: how each direction starts (preface and frame, both
 *                    midway, client midway, server midway)
 *          bit 2:    SETTINGS_MAX_FRAME_SIZE raised to 16 MiB
 *   chunk: [op][len u16 LE] then len bytes (cut short at the input's end)
 *     op bit 0:   direction
 *     op bit 1:   a gap of `len` bytes instead of bytes
 *     op bit 2:   the bytes are also fed to a gRPC message reader of
 *                 their direction
 *     op bit 3:   the bytes are also previewed as a protobuf message,
 *                 whole and truncated, into an output of (op >> 4) * 16 + 1
 *                 bytes
 * Every header block goes through HPACK, with SETTINGS wired across the
 * directions as an h2 connection does.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/grpc.h"
#include "proto/h2_frame.h"
#include "proto/hpack.h"
#include "proto/protobuf.h"

struct side {
	struct h2_frame_parser *fp;
	struct hpack *hp;
	struct side *peer;
	struct grpc_dir grpc;
	size_t fields;
};

static struct h2_frame_stats fstats;
static struct hpack_stats hstats;

static void on_field(void *ctx, const uint8_t *name, size_t nlen,
		     const uint8_t *value, size_t vlen, bool sensitive)
{
	struct side *s = ctx;

	/* Touch every byte, so that a bad slice is seen by ASan. */
	s->fields += nlen + vlen + (name[0] ^ (vlen ? value[vlen - 1] : 0)) % 2;
}

static void on_block(void *ctx, const struct h2_block *b)
{
	struct side *s = ctx;
	struct hpack_result res;

	hpack_decode(s->hp, b->data, b->len, !b->truncated && !b->broken,
		     on_field, s, &res);
}

static void on_control(void *ctx, const struct h2_control *c)
{
	struct side *s = ctx;
	const struct h2_settings *st = &c->u.settings;

	if (c->hdr.type != H2_SETTINGS)
		return;
	if (c->lost) {
		hpack_settings_lost(s->peer->hp);
		return;
	}
	if (c->hdr.flags & H2_FLAG_ACK) {
		hpack_settings_acked(s->hp);
		return;
	}
	hpack_settings_sent(s->peer->hp, (st->has & (1u << H2_SET_HEADER_TABLE_SIZE)) ?
				       (int64_t)st->value[H2_SET_HEADER_TABLE_SIZE] : -1);
	if (st->has & (1u << H2_SET_MAX_FRAME_SIZE))
		h2_frame_set_max_size(s->peer->fp, st->value[H2_SET_MAX_FRAME_SIZE]);
}

static void on_data(void *ctx, uint32_t stream, const uint8_t *data, size_t len)
{
	struct side *s = ctx;

	grpc_dir_feed(&s->grpc, data, len);
}

static void on_lost(void *ctx, uint64_t len)
{
	struct side *s = ctx;

	hpack_lost(s->hp);
}

static const struct h2_frame_cb cb = {
	.data = on_data,
	.block = on_block,
	.control = on_control,
	.lost = on_lost,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum h2_frame_start starts[4][2] = {
		{ H2_START_PREFACE, H2_START_FRAME },
		{ H2_START_RESYNC, H2_START_RESYNC },
		{ H2_START_RESYNC, H2_START_FRAME },
		{ H2_START_PREFACE, H2_START_RESYNC },
	};
	struct side side[2];
	struct h2_frame_opts o = { .cb = &cb, .stats = &fstats };
	uint8_t hdr = size ? data[0] : 0;
	size_t pos = 1, len;
	char out[16 * 15 + 1];
	bool limited = false;
	uint8_t op;
	int i;

	memset(side, 0, sizeof(side));
	for (i = 0; i < 2; i++) {
		o.start = starts[hdr & 3][i];
		o.sender = i ? H2_SENDER_SERVER : H2_SENDER_CLIENT;
		o.ctx = &side[i];
		side[i].fp = h2_frame_new(&o);
		side[i].hp = hpack_new(o.start != H2_START_RESYNC, &hstats);
		side[i].peer = &side[!i];
		if (!side[i].fp || !side[i].hp)
			abort();
		if (hdr & 4)
			h2_frame_set_max_size(side[i].fp, H2_FRAME_SIZE_MAX);
	}
	while (pos + 3 <= size) {
		op = data[pos];
		len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
		pos += 3;
		if (op & 2) {
			h2_frame_gap(side[op & 1].fp, len);
			if (op & 4)
				grpc_dir_feed(&side[op & 1].grpc, NULL, len);
			continue;
		}
		if (len > size - pos)
			len = size - pos;
		h2_frame_feed(side[op & 1].fp, data + pos, len);
		if (op & 4)
			grpc_dir_feed(&side[op & 1].grpc, data + pos, len);
		if (op & 8) {
			/* A copy of its exact size, so that reading past it
			 * is caught. */
			uint8_t *copy = malloc(len ? len : 1);

			memcpy(copy, data + pos, len);
			pb_preview(copy, len, false, out, (size_t)(op >> 4) * 16 + 1);
			pb_preview(copy, len, true, out, sizeof(out));
			free(copy);
		}
		pos += len;
	}
	for (i = 0; i < 2; i++) {
		h2_frame_finish(side[i].fp);
		grpc_dir_preview(&side[i].grpc, (enum grpc_coding)(hdr >> 3 & 3),
				 out, sizeof(out), &limited);
		grpc_dir_free(&side[i].grpc);
		h2_frame_free(side[i].fp);
		hpack_free(side[i].hp);
	}
	return 0;
}

#ifdef FUZZ_CORPUS_RUNNER
#include <dirent.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, runs = 0, bad = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;
		char path[4096];

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			d = opendir(argv[i]);
			while (d && (e = readdir(d))) {
				if (e->d_name[0] == '.')
					continue;
				snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
				bad += run_file(path) != 0;
				runs++;
			}
			if (d)
				closedir(d);
		} else {
			bad += run_file(argv[i]) != 0;
			runs++;
		}
	}
	printf("fuzz_h2: %d inputs\n", runs);
	return bad || !runs;
}
#endif
