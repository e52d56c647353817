/* hpack.h -- HPACK header blocks of one direction (RFC 7541) through libnghttp2's inflater, decoding what it can when the table state is unknown. */
#ifndef HS_HPACK_H
#define HS_HPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest dynamic table kept (RFC 7541 section 4.2).  A
 * SETTINGS_HEADER_TABLE_SIZE above it is taken as this, and a dynamic
 * table size update above it is a decoding error: a peer cannot make the
 * table cost more memory than this per direction.  Browsers ask for 64
 * KiB; most peers use the default 4096. */
#define HPACK_TABLE_MAX 65536

/* Per header block: fields handed up stop at HPACK_LIST_MAX bytes,
 * counted as RFC 9113 section 6.5.2 counts a header list (name + value +
 * 32 per field), or at HPACK_FIELDS_MAX fields.  Fields past either are
 * counted as dropped; the block is still decoded to its end, so that the
 * table stays in step.  An HPACK bomb (one large entry referenced over
 * and over) hits these limits, not memory. */
#define HPACK_LIST_MAX (64 * 1024)
#define HPACK_FIELDS_MAX 256

/* Settings frames sent but not yet acknowledged that are remembered
 * (RFC 9113 section 6.5.3: acknowledgements come in order).  Past this
 * the decoder stops checking table size updates against the setting
 * (it accepts up to HPACK_TABLE_MAX). */
#define HPACK_SETTINGS_PENDING_MAX 16

/* Called for each decoded field; name and value are valid during the
 * call only.  sensitive: sent as never indexed (RFC 7541 section
 * 6.2.3). */
typedef void (*hpack_field_fn)(void *ctx, const uint8_t *name, size_t nlen,
			       const uint8_t *value, size_t vlen,
			       bool sensitive);

/* What became of one header block. */
struct hpack_result {
	uint32_t fields;  /* handed to the callback */
	uint32_t unknown; /* fields that could not be decoded: references to
			   * table entries from before what was seen */
	uint32_t dropped; /* decoded, but past HPACK_LIST_MAX or
			   * HPACK_FIELDS_MAX */
	uint32_t invalid; /* decoded, but not a valid HTTP/2 field (RFC
			   * 9113 section 8.2.1: a name with characters
			   * other than lowercase token ones, a value with
			   * NUL, CR or LF): not handed up.  A peer would
			   * reject the message; bytes taken for a block by
			   * mistake look like this. */
	bool error;	  /* the block is malformed (or broke a limit) */
	bool incomplete;  /* the fields handed up are not all the block
			   * held: unknown, dropped, invalid, error, or a
			   * block that was not whole */
};

/* Counters; several decoders may share one. */
struct hpack_stats {
	uint64_t blocks;	 /* header blocks decoded */
	uint64_t blocks_partial; /* decoded with the table state unknown */
	uint64_t blocks_failed;	 /* malformed, or over a limit */
	uint64_t fields_unknown; /* fields that could not be decoded */
	uint64_t fields_dropped; /* fields over the list limits */
	uint64_t fields_invalid; /* fields that are not valid HTTP/2 */
	uint64_t resyncs;	 /* table state known again after a loss */
	uint64_t blocks_memo;	 /* of blocks, those that repeated the last
				  * one that left the table as it was, and
				  * were answered with its fields */
};

struct hpack;

/* synced: the decoder sees the direction from its start, so the table
 * state is known; otherwise (a connection joined midway) it is not until
 * the peer empties or refills the table.  Returns NULL on allocation
 * failure; hpack_free() accepts NULL. */
struct hpack *hpack_new(bool synced, struct hpack_stats *stats);
void hpack_free(struct hpack *hp);

/* Decodes a header block, in wire order with the others of its
 * direction.  whole: the block is complete; otherwise it is a prefix
 * (the rest was lost or too long), decoded as far as it goes, after
 * which the table state is unknown.  Fills *res. */
void hpack_decode(struct hpack *hp, const uint8_t *block, size_t len,
		  bool whole, hpack_field_fn fn, void *ctx,
		  struct hpack_result *res);

/* Bytes of the direction that may have held a header block were lost:
 * the table state is unknown from here. */
void hpack_lost(struct hpack *hp);

/* SETTINGS_HEADER_TABLE_SIZE, applied as RFC 9113 section 6.5.3 says.
 * The receiver of this direction's blocks sent a SETTINGS frame (a
 * table size, or -1 when the frame had none); the sender of the blocks
 * acknowledged the oldest one (the ACK comes in this direction, before
 * the blocks that rely on it); or a SETTINGS frame of either was lost. */
void hpack_settings_sent(struct hpack *hp, int64_t table_size);
void hpack_settings_acked(struct hpack *hp);
void hpack_settings_lost(struct hpack *hp);

/* True while the table state is known. */
bool hpack_synced(const struct hpack *hp);

/* RFC 7541 section 5.1: the integer at *p with an n-bit prefix.
 * Returns 0 and advances *p, -EAGAIN if it runs past end, -ERANGE if it
 * exceeds 2^32 - 1.  Exported for tests. */
int hpack_int(const uint8_t **p, const uint8_t *end, int n, uint32_t *out);

#endif
