/* protobuf.h -- schema-less preview of a protobuf message (field numbers and values) as one line of text. */
#ifndef HS_PROTOBUF_H
#define HS_PROTOBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Nested messages shown; a length-delimited field deeper than this is
 * shown as text or hex. */
#define PB_DEPTH_MAX 8

/* Writes a preview of the message in buf to out (cap bytes, NUL included)
 * and returns its length.  The syntax is protoc --decode_raw's on one
 * line:
 *   1: "alice" 2: 42 3 {1: 7} 4: 0x3f800000 5: <0aff>
 * varints in decimal, fixed32 and fixed64 as 0x and 8 or 16 hex digits,
 * length-delimited fields nested in braces when they parse as a message,
 * quoted (with \" \\ \n \r \t \xNN escapes) when they are printable
 * UTF-8, else as hex in angle brackets.  An empty message is "{}".  Bytes
 * that do not parse as a message at all are shown as one quoted string
 * or hex.  truncated: buf is only the start of the message, so a field
 * cut short at its end is not an error.  Output that does not fit, and a
 * truncated message, end in "...".  Never reads outside buf. */
size_t pb_preview(const uint8_t *buf, size_t len, bool truncated, char *out,
		  size_t cap);

/* True if buf is a whole protobuf message: fields 1 to 2^29 - 1 with
 * wire types 0, 1, 2 or 5 (groups are not accepted), every length inside
 * buf.  Exported for tests. */
bool pb_is_message(const uint8_t *buf, size_t len);

#endif
