/* h2.h -- HTTP/2 over a reassembled connection (RFC 9113): one transaction per stream, gRPC calls among them. */
#ifndef HS_H2_H
#define HS_H2_H

#include "proto/proto.h"

/* The protocol's ops (proto.h).  Detected by the client preface, by the
 * SETTINGS frame a server's preface is, or -- on a connection joined
 * midway -- by a run of well-formed frames; reached from HTTP/1 by an
 * "Upgrade: h2c" answered 101, where the upgraded request becomes stream
 * 1.  Each stream is one transaction: reported when both sides have
 * ended it, or when it is reset (RST_STREAM), refused by a GOAWAY, or
 * the connection ends.  A stream the server pushes (PUSH_PROMISE) is a
 * transaction of its own, marked pushed. */
extern const struct proto_ops h2_proto;

/* Streams tracked at once per connection: a peer may allow more
 * (SETTINGS_MAX_CONCURRENT_STREAMS), but each costs a transaction's
 * memory here.  Streams past it are counted (h2_streams_over) and not
 * reported; their header blocks are still decoded, so that HPACK stays
 * in step. */
#define H2_STREAMS_MAX 256

/* A connection taken for HTTP/2 is not HTTP/2 after all
 * (PROTO_NOT_MINE) when this many of its bytes made no frame before a
 * single header block could be decoded. */
#define H2_GIVE_UP_BYTES (64 * 1024)

#endif
