/* test_grpc.c -- unit test of the gRPC message framing and the protobuf preview: table-driven, fed whole, split at every byte, one byte at a time and with gaps.
 *
 * Protobuf fixtures are messages built by hand from the wire format
 * (protobuf's encoding guide) with the preview they must give; every one
 * is also previewed from each of its prefixes (truncated) and into every
 * output size, which must never read or write out of bounds (the
 * sanitizer run checks) and always end in "..." when cut.  gRPC fixtures
 * are message streams with their counts and the preview of the first
 * message; compressed ones are built with zlib here.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/txn.h"
#include "proto/grpc.h"
#include "proto/protobuf.h"

static unsigned long checks, failures;
static const char *cur = "-";
static char cur_mode[96] = "-";
static int budget;

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		checks++;                                                     \
		if (!(cond)) {                                                \
			failures++;                                           \
			if (budget-- > 0) {                                   \
				fprintf(stderr, "FAIL %s:%d [%s / %s]: ",     \
					__FILE__, __LINE__, cur, cur_mode);   \
				fprintf(stderr, __VA_ARGS__);                 \
				fputc('\n', stderr);                          \
			}                                                     \
		}                                                             \
	} while (0)

#define CHECK_STR(what, got, exp)                                             \
	CHECK(strcmp((got), (exp)) == 0, "%s: got \"%s\", expected \"%s\"",   \
	      (what), (got), (exp))

static void family(const char *name)
{
	cur = name;
	budget = getenv("TEST_GRPC_VERBOSE") ? 1000 : 3;
	snprintf(cur_mode, sizeof(cur_mode), "-");
}

/* Hex digits (others ignored) to bytes; a quoted run is ASCII. */
static size_t hex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v;

	for (; *s; s++) {
		if (*s == '"') {
			for (s++; *s && *s != '"'; s++)
				if (n < cap)
					out[n++] = (uint8_t)*s;
			continue;
		}
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

/* ---- protobuf previews ----------------------------------------------- */

struct pb_fixture {
	const char *name;
	const char *hex;
	const char *expect;
};

static const struct pb_fixture pb_fixtures[] = {
	/* 1: string, 2: varint 42, 3: message {1: 7} */
	{ "fields", "0a05 \"alice\" 102a 1a02 0807",
	  "1: \"alice\" 2: 42 3 {1: 7}" },
	{ "fixed32-fixed64", "25 0000803f 29 0100000000000000",
	  "4: 0x3f800000 5: 0x0000000000000001" },
	/* Not text, not a message: hex. */
	{ "bytes", "3203 fffefd", "6: <fffefd>" },
	{ "empty-message", "", "{}" },
	{ "empty-string", "0a00", "1: \"\"" },
	{ "escapes", "0a05 \"a\" 22 \"b\" 0a 09", "1: \"a\\\"b\\n\\t\"" },
	{ "utf8", "0a06 68c3a96c6c6f", "1: \"h\xc3\xa9llo\"" },
	/* Overlong UTF-8 (c0 af) is not text. */
	{ "bad-utf8", "0a03 61c0af", "1: <61c0af>" },
	/* int32 -1: a 10-byte varint, shown unsigned as protoc does. */
	{ "negative", "08 ffffffffffffffffff01", "1: 18446744073709551615" },
	/* Text that also parses as a message ("hi": field 13 = 105) is
	 * text; a nested message starting with a control byte is nested. */
	{ "text-over-message", "0a02 \"hi\"", "1: \"hi\"" },
	{ "nested-first", "0a05 0a03 \"abc\"", "1 {1: \"abc\"}" },
	/* A length past the end: not a message; top-level text or hex. */
	{ "not-a-message-text", "\"hello world\"", "\"hello world\"" },
	{ "not-a-message-bytes", "0a05 6162", "<0a056162>" },
	/* Groups (types 3 and 4) are not accepted. */
	{ "group", "0b 0801 0c", "<0b08010c>" },
	/* Field number 0 is invalid. */
	{ "field-zero", "00 01", "<0001>" },
	/* Nesting deeper than PB_DEPTH_MAX shows the innermost as hex. */
	{ "deep", "0a12 0a10 0a0e 0a0c 0a0a 0a08 0a06 0a04 0a02 0801",
	  "1 {1 {1 {1 {1 {1 {1 {1 {1: <0801>}}}}}}}}" },
	{ "packed-varints", "2204 01 02 03 04", "4: <01020304>" },
};

static void run_pb(const struct pb_fixture *f)
{
	uint8_t in[512];
	char out[512], small[64];
	size_t n = hex(f->hex, in, sizeof(in)), len, cut, cap;
	uint8_t *exact;

	family(f->name);
	/* The input in a buffer of its exact size, so that the sanitizer
	 * sees a read past it. */
	exact = malloc(n ? n : 1);
	memcpy(exact, in, n);
	len = pb_preview(exact, n, false, out, sizeof(out));
	CHECK_STR("preview", out, f->expect);
	CHECK(len == strlen(out), "length %zu", len);

	/* Every prefix, as the start of a longer message. */
	for (cut = 0; cut < n; cut++) {
		uint8_t *pre = malloc(cut ? cut : 1);

		memcpy(pre, exact, cut);
		snprintf(cur_mode, sizeof(cur_mode), "truncated at %zu", cut);
		len = pb_preview(pre, cut, true, out, sizeof(out));
		CHECK(len >= 3 && strcmp(out + len - 3, "...") == 0,
		      "ends with ...: \"%s\"", out);
		free(pre);
	}
	/* Every output size: a prefix of the full preview and "...". */
	for (cap = 1; cap < sizeof(small) && cap <= strlen(f->expect); cap++) {
		snprintf(cur_mode, sizeof(cur_mode), "cap %zu", cap);
		len = pb_preview(exact, n, false, small, cap);
		CHECK(len < cap && small[len] == '\0', "terminated");
		if (cap >= 5)
			CHECK(len >= 3 && strcmp(small + len - 3, "...") == 0,
			      "ends with ...: \"%s\"", small);
	}
	free(exact);
}

/* A long string field cut short shows what there is of it. */
static void run_pb_cut(void)
{
	char out[128];

	family("cut-string");
	pb_preview((const uint8_t *)"\x08\x01\x12\x20partial text", 16, true,
		   out, sizeof(out));
	CHECK_STR("preview", out, "1: 1 2: \"partial text\" ...");
}

/* ---- gRPC messages --------------------------------------------------- */

static size_t zip(int wbits, const uint8_t *in, size_t len, uint8_t *out,
		  size_t cap)
{
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 9, Z_DEFLATED, wbits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		exit(2);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		exit(2);
	len = cap - z.avail_out;
	deflateEnd(&z);
	return len;
}

/* Appends a message with its prefix. */
static size_t msg(uint8_t *out, bool compressed, const uint8_t *p, size_t len)
{
	out[0] = compressed;
	out[1] = (uint8_t)(len >> 24);
	out[2] = (uint8_t)(len >> 16);
	out[3] = (uint8_t)(len >> 8);
	out[4] = (uint8_t)len;
	memcpy(out + 5, p, len);
	return len + 5;
}

struct grpc_fixture {
	const char *name;
	const char *hex; /* the stream, unless built */
	enum grpc_coding coding;
	uint64_t messages, bytes, compressed;
	const char *preview;
	/* A gap: where, how long, and the counts then. */
	size_t gap_at, gap_len;
	uint64_t gap_messages, gap_lost;
	bool gap_sync_lost;
	const char *gap_preview;
};

static const struct grpc_fixture grpc_fixtures[] = {
{
	.name = "three-messages",
	.hex = "00 00000007 0a05 \"alice\""
	       "00 00000000"
	       "00 00000002 082a",
	.messages = 3, .bytes = 9, .preview = "1: \"alice\"",
	/* A gap inside the first message: counts hold, its preview is
	 * what was captured before the loss. */
	.gap_at = 8, .gap_len = 2, .gap_messages = 3, .gap_lost = 2,
	.gap_preview = "1: \"a\" ...",
},
{
	.name = "gap-over-prefix",
	.hex = "00 00000002 0801 00 00000002 0802 00 00000002 0803",
	.messages = 3, .bytes = 6, .preview = "1: 1",
	/* Losing the second prefix: message boundaries are lost. */
	.gap_at = 8, .gap_len = 3, .gap_messages = 1, .gap_lost = 0,
	.gap_sync_lost = true, .gap_preview = "1: 1",
},
{
	.name = "compressed-unknown-coding",
	.hex = "01 00000003 abcdef",
	.coding = GRPC_OTHER,
	.messages = 1, .bytes = 3, .compressed = 1,
	.preview = "(compressed: not decoded)",
},
{
	.name = "compressed-invalid",
	.hex = "01 00000003 abcdef",
	.coding = GRPC_GZIP,
	.messages = 1, .bytes = 3, .compressed = 1,
	.preview = "(compressed: invalid data)",
},
};

static void check_dir(const struct grpc_fixture *f, const uint8_t *in,
		      size_t n, int how, size_t at)
{
	struct grpc_dir d;
	char out[256];
	bool limited = false;
	size_t i;

	memset(&d, 0, sizeof(d));
	if (how == 0) {
		grpc_dir_feed(&d, in, n);
	} else if (how == 1) {
		grpc_dir_feed(&d, in, at);
		grpc_dir_feed(&d, in + at, n - at);
	} else {
		for (i = 0; i < n; i++)
			grpc_dir_feed(&d, in + i, 1);
	}
	CHECK(d.messages == f->messages, "messages %llu",
	      (unsigned long long)d.messages);
	CHECK(d.bytes == f->bytes, "bytes %llu", (unsigned long long)d.bytes);
	CHECK(d.compressed == f->compressed, "compressed %llu",
	      (unsigned long long)d.compressed);
	grpc_dir_preview(&d, f->coding, out, sizeof(out), &limited);
	CHECK_STR("preview", out, f->preview);
	grpc_dir_free(&d);
}

static void run_grpc(const struct grpc_fixture *f, const uint8_t *in, size_t n)
{
	struct grpc_dir d;
	char out[256];
	bool limited = false;
	size_t at;

	family(f->name);
	for (at = 0; at <= n + 1; at++) {
		int how = at == 0 ? 0 : at == n + 1 ? 2 : 1;

		snprintf(cur_mode, sizeof(cur_mode), "%s %zu",
			 how == 0 ? "whole" : how == 1 ? "split at" : "bytes", at);
		check_dir(f, in, n, how, at);
	}
	if (!f->gap_len)
		return;
	snprintf(cur_mode, sizeof(cur_mode), "gap");
	memset(&d, 0, sizeof(d));
	grpc_dir_feed(&d, in, f->gap_at);
	grpc_dir_feed(&d, NULL, f->gap_len);
	grpc_dir_feed(&d, in + f->gap_at + f->gap_len, n - f->gap_at - f->gap_len);
	CHECK(d.messages == f->gap_messages, "messages %llu",
	      (unsigned long long)d.messages);
	CHECK(d.lost_bytes == f->gap_lost, "lost %llu",
	      (unsigned long long)d.lost_bytes);
	CHECK(d.lost_sync == f->gap_sync_lost, "lost sync %d", d.lost_sync);
	grpc_dir_preview(&d, f->coding, out, sizeof(out), &limited);
	CHECK_STR("preview", out, f->gap_preview);
	grpc_dir_free(&d);
}

/* Compressed messages built here: gzip and deflate (zlib format), a
 * message larger than GRPC_KEEP_MAX, and a gzip bomb. */
static void run_grpc_compressed(void)
{
	static uint8_t plain[1 << 20], z[1 << 16], stream[1 << 17];
	struct grpc_fixture f = { .messages = 2, .compressed = 1 };
	size_t zn, n, i;
	char out[256];
	bool limited = false;
	struct grpc_dir d;

	/* 1: "alice" 2: 42, compressed, then one plain message. */
	n = hex("0a05 \"alice\" 102a", plain, sizeof(plain));
	for (i = 0; i < 2; i++) {
		f.name = i ? "deflate" : "gzip";
		f.coding = i ? GRPC_DEFLATE : GRPC_GZIP;
		zn = zip(i ? MAX_WBITS : 16 + MAX_WBITS, plain, n, z, sizeof(z));
		f.bytes = zn + 2;
		f.preview = "1: \"alice\" 2: 42";
		n = msg(stream, true, z, zn);
		n += msg(stream + n, false, (const uint8_t *)"\x08\x01", 2);
		run_grpc(&f, stream, n);
		n = hex("0a05 \"alice\" 102a", plain, sizeof(plain));
	}

	/* A gzip bomb: 1 MiB of zeros in a field.  Decoding stops at
	 * GRPC_DECODED_MAX; the preview is of that much, cut. */
	family("gzip-bomb");
	plain[0] = 0x0a;
	plain[1] = 0x80;
	plain[2] = 0x80;
	plain[3] = 0x40; /* length 1 MiB */
	memset(plain + 4, 'z', sizeof(plain) - 4);
	zn = zip(16 + MAX_WBITS, plain, sizeof(plain), z, sizeof(z));
	n = msg(stream, true, z, zn);
	memset(&d, 0, sizeof(d));
	grpc_dir_feed(&d, stream, n);
	grpc_dir_preview(&d, GRPC_GZIP, out, sizeof(out), &limited);
	CHECK(limited, "stopped at GRPC_DECODED_MAX");
	CHECK(strncmp(out, "1: \"zzzz", 8) == 0, "preview \"%s\"", out);
	CHECK(strcmp(out + strlen(out) - 3, "...") == 0, "preview \"%s\"", out);
	grpc_dir_free(&d);

	/* A plain message larger than GRPC_KEEP_MAX: counted whole,
	 * previewed from its start. */
	family("large-message");
	n = msg(stream, false, plain, 100000);
	memset(&d, 0, sizeof(d));
	grpc_dir_feed(&d, stream, n);
	CHECK(d.messages == 1 && d.bytes == 100000, "counts");
	CHECK(d.first_len == GRPC_KEEP_MAX, "kept %zu", d.first_len);
	limited = false;
	grpc_dir_preview(&d, GRPC_IDENTITY, out, sizeof(out), &limited);
	CHECK(!limited, "not compressed");
	CHECK(strncmp(out, "1: \"zzzz", 8) == 0, "preview \"%s\"", out);
	grpc_dir_free(&d);
}

/* ---- names, paths, percent-encoding ---------------------------------- */

static void run_helpers(void)
{
	static const struct {
		const char *in, *out;
	} pct[] = {
		{ "plain", "plain" },
		{ "a%20b", "a b" },
		{ "%E2%82%AC", "\xe2\x82\xac" },
		{ "100%", "100%" },	/* kept as is */
		{ "%zz%4", "%zz%4" },
		{ "%25%32", "%2" },
	};
	static const struct {
		const char *path, *svc, *method;
	} paths[] = {
		{ "/helloworld.Greeter/SayHello", "helloworld.Greeter", "SayHello" },
		{ "/a/b", "a", "b" },
		{ "/nomethod", NULL, NULL },
		{ "//m", NULL, NULL },
		{ "/s/", NULL, NULL },
		{ "/s/m/x", NULL, NULL },
		{ "s/m", NULL, NULL },
	};
	static const struct {
		const char *ct;
		bool grpc;
	} cts[] = {
		{ "application/grpc", true }, { "application/grpc+proto", true },
		{ "application/grpc;charset=utf-8", true },
		{ "Application/GRPC", true },
		{ "application/grpc-web", false }, { "application/json", false },
		{ "application/grp", false },
	};
	char out[64];
	const char *s, *m;
	size_t sl, ml, i;

	family("status-names");
	CHECK_STR("0", txn_grpc_status_name(0), "OK");
	CHECK_STR("5", txn_grpc_status_name(5), "NOT_FOUND");
	CHECK_STR("16", txn_grpc_status_name(16), "UNAUTHENTICATED");
	CHECK(txn_grpc_status_name(17) == NULL && txn_grpc_status_name(-1) == NULL, "out of range");

	family("percent-decode");
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		grpc_percent_decode(pct[i].in, strlen(pct[i].in), out, sizeof(out));
		CHECK_STR(pct[i].in, out, pct[i].out);
	}
	CHECK(grpc_percent_decode("abcdef", 6, out, 4) == 3 && !strcmp(out, "abc"),
	      "bounded");

	family("split-path");
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int r = grpc_split_path(paths[i].path, strlen(paths[i].path),
					&s, &sl, &m, &ml);

		if (!paths[i].svc) {
			CHECK(r < 0, "%s accepted", paths[i].path);
			continue;
		}
		CHECK(r == 0 && sl == strlen(paths[i].svc) &&
		      !memcmp(s, paths[i].svc, sl) && ml == strlen(paths[i].method) &&
		      !memcmp(m, paths[i].method, ml), "%s", paths[i].path);
	}

	family("content-type");
	for (i = 0; i < sizeof(cts) / sizeof(cts[0]); i++)
		CHECK(grpc_is_grpc(cts[i].ct, strlen(cts[i].ct)) == cts[i].grpc,
		      "%s", cts[i].ct);

	family("coding");
	CHECK(grpc_coding_parse("gzip", 4) == GRPC_GZIP, "gzip");
	CHECK(grpc_coding_parse(" deflate ", 9) == GRPC_DEFLATE, "deflate");
	CHECK(grpc_coding_parse("identity", 8) == GRPC_IDENTITY, "identity");
	CHECK(grpc_coding_parse(NULL, 0) == GRPC_IDENTITY, "none");
	CHECK(grpc_coding_parse("snappy", 6) == GRPC_OTHER, "snappy");
}

int main(int argc, char **argv)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	uint8_t buf[1024];
	size_t i, n;

	for (i = 0; i < sizeof(pb_fixtures) / sizeof(pb_fixtures[0]); i++)
		if (!only || strstr(pb_fixtures[i].name, only))
			run_pb(&pb_fixtures[i]);
	run_pb_cut();
	for (i = 0; i < sizeof(grpc_fixtures) / sizeof(grpc_fixtures[0]); i++) {
		if (only && !strstr(grpc_fixtures[i].name, only))
			continue;
		n = hex(grpc_fixtures[i].hex, buf, sizeof(buf));
		run_grpc(&grpc_fixtures[i], buf, n);
	}
	run_grpc_compressed();
	run_helpers();
	printf("test_grpc: %lu checks, %lu failures\n", checks, failures);
	return failures ? 1 : 0;
}
