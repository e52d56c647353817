/* http1.h -- HTTP/1.x over a reassembled connection: parses both directions with llhttp and pairs requests with responses. */
#ifndef HS_HTTP1_H
#define HS_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

/* The protocol's ops (proto.h).  A connection whose role is unknown
 * learns from its first bytes which way requests flow.  A 101 Switching
 * Protocols or a CONNECT 2xx ends HTTP/1 on the connection (PROTO_SWITCH
 * after the response's last byte); requests still waiting are reported
 * at close(). */
extern const struct proto_ops http1_proto;

/* Requests that may wait for responses on one connection; past this the
 * oldest is reported without a response. */
#define HTTP1_PIPELINE_MAX 256

/* True if data begins like a request (is_request) or a response, as the
 * probe's inference does; exported for tests. */
bool http1_looks_like_start(const uint8_t *data, size_t len, bool is_request);

#endif
