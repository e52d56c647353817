/* fixture.h -- what a fixture is: a connection as chunks of bytes in time order, and the transactions it must give. */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "event.h"

#define MAX_CHUNKS 48
#define MAX_TXNS 4
#define MAX_HDRS 4
#define MAX_BODY 4096 /* preview size unless a fixture says otherwise */
#define TGID 4242
#define FD 7
#define CONN_ID 0x1234
#define MIDSTREAM_POS 5000 /* where role-unknown fixtures start */

enum side { REQ, RESP };

struct chunk {
	enum side side;
	const void *data; /* NULL ends the list */
	size_t len;	  /* 0 and no gap: strlen(data) */
	uint64_t gap;	  /* bytes after data that were not captured */
	bool keep_head;	  /* the parser looks for a message start here:
			   * keep the first HEAD_KEEP bytes in one record */
};

/* The layer resyncs only where a record begins like a message, and it
 * looks at most at the longest method ("OPTIONS ") to say so. */
#define HEAD_KEEP 8

struct hdr {
	const char *name, *value; /* value NULL: the header must be absent */
};

/* One transaction as the HTTP layer must report it.  Zero is the default
 * throughout, so a fixture states only what differs from an empty,
 * error-free HTTP/1.1 exchange. */
struct expect {
	const char *method, *target;
	int status;		/* 0: no response expected */
	const char *reason;
	int req_ver, resp_ver;	/* 10 or 11; 0 means 11; -1 unchecked */
	struct hdr req_hdrs[MAX_HDRS], resp_hdrs[MAX_HDRS];
	size_t req_nhdrs;	/* 0: unchecked */
	bool req_head_trunc;
	uint64_t req_body, resp_body;
	uint64_t req_missing, resp_missing;
	const char *req_preview, *resp_preview; /* NULL: empty */
	size_t req_preview_len, resp_preview_len; /* 0: strlen */
	bool req_decoded, resp_decoded;
	bool req_trunc, resp_trunc;
	bool req_chunked, resp_chunked;
	const char *resp_decode_error; /* NULL: none */
	bool resp_preview_skip;	/* response preview not checked */
	bool req_incomplete, resp_incomplete;
	int interim;
	bool upgraded;
	const char *error;	/* NULL: no error */
	bool skip_resp;		/* response not checked */
};

enum end_kind {
	END_CLOSE,     /* an HS_EV_CLOSE record */
	END_CLOSE_ALL, /* stream_close_all(), as at exit */
	END_EXIT,      /* an HS_EV_EXIT record for the tgid */
};

/* A capture gap put into one chunk: its bytes [off, off + len) are not
 * copied (the record before them has span > captured). */
struct gapspec {
	bool on;
	int chunk;
	size_t off;	 /* in the chunk, or in its body if from_body */
	bool from_body;	 /* off counts from the end of the chunk's headers */
	uint64_t len;
	int txn;	 /* the transaction affected */
	bool resp;	 /* body gap: in the response body */
	const char *preview; /* body gap: the preview that remains */
	bool coded;	     /* body gap in a gzip/deflate body */
};

struct fixture {
	const char *name;
	uint8_t role;
	uint8_t req_dir;  /* role unknown only: direction of requests */
	size_t max_body;  /* 0: MAX_BODY */
	enum end_kind end;
	struct chunk chunks[MAX_CHUNKS];
	size_t ntxns;
	struct expect txns[MAX_TXNS];
	int parse_errors, unpaired_reqs, unpaired_resps, upgrades; /* stats;
						     * unpaired_reqs -1: unchecked */
	/* body_gap: bytes of a body never copied; body_size stays, and
	 * body_missing and the preview say what was lost.  hdr_gap: bytes
	 * of a request's headers never copied; the request is reported as
	 * far as it was seen, with its response and the error "request
	 * lost to a capture gap", and the next request is traced. */
	struct gapspec body_gap, hdr_gap;
	bool big; /* skip the split and one-byte modes */
};

#define OK200_0 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

#endif
