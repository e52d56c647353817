/* txn.h -- an HTTP transaction as the HTTP layer hands it to the output writers. */
#ifndef HS_TXN_H
#define HS_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "event.h"

/* Who the traced process is on a connection, and where it talks. */
struct conn_info {
	uint64_t conn_id;
	uint64_t cgroup_id;
	uint32_t pid;
	uint32_t tid; /* thread of the first event seen */
	int32_t fd;
	uint8_t role; /* enum hs_role */
	bool tls;     /* plaintext from the TLS library */
	char comm[HS_COMM_LEN + 1];
	char container_id[65]; /* CONTAINER_ID_LEN hex digits, "" on the
				* host or when unknown */
	struct hs_addr local;
	struct hs_addr remote;
};

/* A header is two slices of msg->buf. */
struct http_header {
	uint32_t name_off, name_len;
	uint32_t value_off, value_len;
};

/* Limits on what one message keeps; anything past them is counted and
 * flagged, never kept. */
#define HTTP_MSG_BUF_MAX (64 * 1024) /* start line + headers */
#define HTTP_MSG_HDRS_MAX 256	     /* headers kept per message */

/* One request or response.  Strings are slices of buf, NUL-terminated.
 * The preview holds at most the writer's max-body bytes of the decoded
 * (de-chunked, gunzipped/inflated) body. */
struct http_msg {
	bool present;
	bool complete;	     /* the parser saw its end */
	bool head_truncated; /* start line + headers overflowed buf */
	char *buf;	     /* owned; grows to HTTP_MSG_BUF_MAX */
	size_t buf_len, buf_cap;
	uint32_t method_off, method_len; /* request */
	uint32_t target_off, target_len; /* request */
	uint32_t reason_off, reason_len; /* response */
	int status;			 /* response */
	int version_major, version_minor;
	struct http_header *hdrs; /* owned */
	size_t nhdrs, hdrs_cap;
	uint64_t body_size;    /* body bytes on the wire after de-chunking,
				* including bytes lost to gaps */
	uint64_t body_missing; /* of those, bytes never captured */
	bool chunked;
	uint8_t *preview;      /* owned; decoded body, max_body bytes */
	size_t preview_len;
	bool preview_truncated; /* the body had more than the preview holds */
	bool preview_decoded;	/* preview is the decoded content-coding */
	const char *decode_error; /* static string, or NULL */
	uint64_t first_ts;	/* CLOCK_MONOTONIC ns of first byte */
	uint64_t last_ts;	/* of last byte */
};

/* A request and its response (response.present false if none came). */
struct txn {
	struct conn_info conn;
	struct http_msg req;
	struct http_msg resp;
	int interim_status;  /* last 1xx (not 101) seen before the final
			      * response, or 0 */
	bool upgraded;	     /* 101 or CONNECT 2xx: the connection left
			      * HTTP/1 after this transaction */
	const char *error;   /* static string: why the response is missing
			      * or incomplete; NULL when all is well */
	struct txn *next;    /* FIFO link, owned by the HTTP layer */
};

/* Accessors for the slices; the returned pointers live as long as msg. */
static inline const char *http_str(const struct http_msg *m, uint32_t off)
{
	return m->buf ? m->buf + off : "";
}

/* Returns the value of the first header called `name` (ASCII
 * case-insensitive), or NULL; *len receives its length. */
const char *http_msg_header(const struct http_msg *m, const char *name,
			    size_t *len);

#endif
