/* proto.c -- the registry of protocols: which one parses a connection, from its first bytes or from the upgrade that switched it. */
#include "proto/proto.h"

#include <string.h>

#include "core/util.h"
#include "proto/http1.h"

/* In the order detection asks them (one reached only by an upgrade has
 * no detect).  A new protocol is one file and one line here. */
static const struct proto_ops *const protos[] = {
	&http1_proto,
};
#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

/* Taken when no protocol recognises a connection: HTTP/1 looks for a
 * message start at every syscall, which is what today's tracing of
 * connections joined mid-stream relies on. */
static const struct proto_ops *const fallback = &http1_proto;

const struct proto_ops *proto_fallback(void)
{
	return fallback;
}

const struct proto_ops *proto_detect(const uint8_t *data, size_t len, int dir,
				     const struct conn_info *conn)
{
	for (size_t i = 0; i < NPROTOS; i++) {
		enum proto_guess g;

		if (!protos[i]->detect)
			continue;
		g = protos[i]->detect(data, len, dir, conn);

		if (g == PROTO_YES)
			return protos[i];
		if (g == PROTO_MAYBE && len < PROTO_DETECT_MAX)
			return NULL;
	}
	return fallback;
}

const struct proto_ops *proto_by_upgrade(const char *token, size_t len)
{
	const char *slash = memchr(token, '/', len);

	/* RFC 9110 section 7.8: protocol-name [ "/" protocol-version ] */
	if (slash)
		len = slash - token;
	for (size_t i = 0; i < NPROTOS; i++)
		if (protos[i]->upgrade && util_token_eq(token, len, protos[i]->upgrade))
			return protos[i];
	return NULL;
}
