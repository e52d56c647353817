/* websocket.h -- WebSocket (RFC 6455) after an HTTP/1 upgrade: frames parsed in each direction, messages reassembled and reported. */
#ifndef HS_WEBSOCKET_H
#define HS_WEBSOCKET_H

#include "proto/proto.h"

/* The protocol's ops (proto.h): reached only by a 101 whose Upgrade is
 * "websocket".  Each message is emitted through env->emit.ws once its
 * last frame is seen: a data message reassembled from its fragments, a
 * control frame (close, ping, pong) on its own.  Payloads are unmasked,
 * and inflated when the handshake agreed on permessage-deflate (RFC
 * 7692); a preview keeps max_body bytes of each. */
extern const struct proto_ops websocket_proto;

/* Limits, from RFC 6455 section 5.5: a control frame carries at most
 * 125 bytes; a frame header is at most 14 bytes. */
#define WS_CONTROL_MAX 125
#define WS_HEADER_MAX 14

#endif
