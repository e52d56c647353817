/* fixtures.h -- the HTTP/1 fixture table: connections as chunks of bytes in time order, and the transactions each must give.
 *
 * In the manner of http-parser's `struct message` table.  test_http1.c
 * feeds every fixture whole, split, one byte at a time, reordered and
 * with gaps (harness.c); fixtures whose bytes are made at run time
 * (compressed bodies, a 10 MB body, oversized headers) are built there.
 * test_stream.c and test_record.c borrow the first one.
 */
#ifndef TEST_FIXTURES_H
#define TEST_FIXTURES_H

#include "fixture.h"

static const struct fixture fixtures[] = {
{
	.name = "keep-alive GET x3",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n0123456789" },
		{ REQ, "GET /b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n" },
		{ RESP, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found" },
		{ REQ, "GET /c?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n" },
		{ RESP, OK200_0 },
	},
	.ntxns = 3,
	.txns = {
		{ .method = "GET", .target = "/a", .status = 200, .reason = "OK",
		  .req_hdrs = { { "Host", "example.com" }, { "user-agent", "t/1" } },
		  .resp_hdrs = { { "Content-Type", "text/plain" }, { "content-length", "10" } },
		  .req_nhdrs = 2, .resp_body = 10, .resp_preview = "0123456789" },
		{ .method = "GET", .target = "/b", .status = 404, .reason = "Not Found",
		  .req_hdrs = { { "Accept", "*/*" } },
		  .resp_body = 9, .resp_preview = "not found" },
		{ .method = "GET", .target = "/c?x=1", .status = 200, .reason = "OK" },
	},
	.body_gap = { .on = true, .chunk = 1, .off = 3, .from_body = true, .len = 4,
		      .txn = 0, .resp = true, .preview = "012" },
	.hdr_gap = { .on = true, .chunk = 2, .off = 20, .len = 5, .txn = 1 },
},
{
	.name = "POST Content-Length then GET",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n"
		       "Content-Length: 17\r\n\r\n{\"key\": \"value1\"}" },
		{ RESP, "HTTP/1.1 201 Created\r\nLocation: /submit/1\r\nContent-Length: 2\r\n\r\nok" },
		{ REQ, "GET /submit/1 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{\"key\": \"value1\"}" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "POST", .target = "/submit", .status = 201, .reason = "Created",
		  .req_hdrs = { { "Content-Type", "application/json" } },
		  .resp_hdrs = { { "Location", "/submit/1" } },
		  .req_body = 17, .req_preview = "{\"key\": \"value1\"}",
		  .resp_body = 2, .resp_preview = "ok" },
		{ .method = "GET", .target = "/submit/1", .status = 200, .reason = "OK",
		  .resp_body = 17, .resp_preview = "{\"key\": \"value1\"}" },
	},
	.body_gap = { .on = true, .chunk = 0, .off = 5, .from_body = true, .len = 6,
		      .txn = 0, .resp = false, .preview = "{\"key" },
	.hdr_gap = { .on = true, .chunk = 0, .off = 30, .len = 4, .txn = 0 },
},
{
	.name = "chunked response",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
			"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n" },
		{ REQ, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			"1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/stream", .status = 200, .reason = "OK",
		  .resp_hdrs = { { "Transfer-Encoding", "chunked" } },
		  .resp_body = 11, .resp_preview = "hello world", .resp_chunked = true },
		{ .method = "GET", .target = "/next", .status = 200, .reason = "OK",
		  .resp_body = 26, .resp_preview = "abcdefghijklmnopqrstuvwxyz",
		  .resp_chunked = true },
	},
	.body_gap = { .on = true, .chunk = 1, .off = 4, .from_body = true, .len = 3,
		      .txn = 0, .resp = true, .preview = "h" },
	.hdr_gap = { .on = true, .chunk = 0, .off = 24, .len = 2, .txn = 0 },
},
{
	.name = "chunked request",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" },
		{ REQ, "4\r\nWiki\r\n" },
		{ REQ, "5\r\npedia\r\n" },
		{ REQ, "0\r\n\r\n" },
		{ RESP, OK200_0 },
		{ REQ, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "POST", .target = "/upload", .status = 200, .reason = "OK",
		  .req_body = 9, .req_preview = "Wikipedia", .req_chunked = true },
		{ .method = "GET", .target = "/x", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "x" },
	},
	.body_gap = { .on = true, .chunk = 2, .off = 4, .len = 2, .txn = 0,
		      .resp = false, .preview = "Wikip" },
	.hdr_gap = { .on = true, .chunk = 0, .off = 25, .len = 10, .txn = 0 },
},
{
	.name = "HEAD with Content-Length, then GET",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nContent-Type: text/html\r\n\r\n" },
		{ REQ, "GET /small HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "HEAD", .target = "/big", .status = 200, .reason = "OK",
		  .resp_hdrs = { { "Content-Length", "1234" } } },
		{ .method = "GET", .target = "/small", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "hi" },
	},
	.body_gap = { .on = true, .chunk = 3, .off = 1, .from_body = true, .len = 1,
		      .txn = 1, .resp = true, .preview = "h" },
	.hdr_gap = { .on = true, .chunk = 0, .off = 22, .len = 3, .txn = 0 },
},
{
	.name = "HEAD pipelined with GET",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
			"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "HEAD", .target = "/a", .status = 200, .reason = "OK",
		  .resp_hdrs = { { "Content-Length", "5" } } },
		{ .method = "GET", .target = "/b", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "hi" },
	},
},
{
	.name = "204 and 304 have no body",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n" },
		{ REQ, "GET /y HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"e\"\r\n\r\n" },
		{ RESP, "HTTP/1.1 304 Not Modified\r\nETag: \"e\"\r\nContent-Length: 50\r\n\r\n" },
		{ REQ, "GET /z HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" },
	},
	.ntxns = 3,
	.txns = {
		{ .method = "DELETE", .target = "/x", .status = 204, .reason = "No Content",
		  .resp_hdrs = { { "X-A", "1" } } },
		{ .method = "GET", .target = "/y", .status = 304, .reason = "Not Modified",
		  .req_hdrs = { { "If-None-Match", "\"e\"" } },
		  .resp_hdrs = { { "ETag", "\"e\"" } } },
		{ .method = "GET", .target = "/z", .status = 200, .reason = "OK",
		  .resp_body = 3, .resp_preview = "abc" },
	},
	.hdr_gap = { .on = true, .chunk = 2, .off = 20, .len = 4, .txn = 1 },
},
{
	.name = "100-continue",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n" },
		{ RESP, "HTTP/1.1 100 Continue\r\n\r\n" },
		{ REQ, "hello" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone" },
		{ REQ, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, OK200_0 },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "POST", .target = "/up", .status = 200, .reason = "OK",
		  .req_hdrs = { { "Expect", "100-continue" } },
		  .interim = 100, .req_body = 5, .req_preview = "hello",
		  .resp_body = 4, .resp_preview = "done" },
		{ .method = "GET", .target = "/next", .status = 200, .reason = "OK" },
	},
	.body_gap = { .on = true, .chunk = 2, .off = 1, .len = 3, .txn = 0,
		      .resp = false, .preview = "h" },
},
{
	.name = "103 Early Hints then 200",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "GET /page HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npage" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/page", .status = 200, .reason = "OK",
		  .resp_hdrs = { { "Link", NULL }, { "Content-Length", "4" } },
		  .interim = 103, .resp_body = 4, .resp_preview = "page" },
	},
},
{
	.name = "101 Switching Protocols",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n" },
		{ RESP, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05" "hello" },
		{ REQ, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" },
		{ REQ, "GET /not-http HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
		{ RESP, "\x88\x02\x03\xe8" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/ws", .status = 101,
		  .reason = "Switching Protocols", .upgraded = true,
		  .req_hdrs = { { "Upgrade", "websocket" } },
		  .resp_hdrs = { { "Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" } } },
	},
	.upgrades = 1,
},
{
	.name = "CONNECT tunnel",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 Connection Established\r\n\r\n" },
		{ REQ, "\x16\x03\x01\x02\x05" "abcde" },
		{ RESP, "\x16\x03\x03\x01\x01" "xyz" },
		{ REQ, "GET / HTTP/1.1\r\n\r\n" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "CONNECT", .target = "example.com:443", .status = 200,
		  .reason = "Connection Established", .upgraded = true },
	},
	.upgrades = 1,
},
{
	.name = "pipelined x3, one chunk each way",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
		       "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"
			"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\n2"
			"HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n3" },
	},
	.ntxns = 3,
	.txns = {
		{ .method = "GET", .target = "/1", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "1" },
		{ .method = "GET", .target = "/2", .status = 404, .reason = "Not Found",
		  .resp_body = 1, .resp_preview = "2" },
		{ .method = "POST", .target = "/3", .status = 201, .reason = "Created",
		  .req_body = 3, .req_preview = "abc", .resp_body = 1, .resp_preview = "3" },
	},
},
{
	.name = "pipelined, interleaved",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1" },
		{ REQ, "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2"
			"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1\r\n\r\n3" },
	},
	.ntxns = 3,
	.txns = {
		{ .method = "GET", .target = "/1", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "1" },
		{ .method = "GET", .target = "/2", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "2" },
		{ .method = "GET", .target = "/3", .status = 500,
		  .reason = "Internal Server Error", .resp_body = 1, .resp_preview = "3" },
	},
},
{
	.name = "close-delimited HTTP/1.0 body",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /old HTTP/1.0\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello " },
		{ RESP, "world" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/old", .status = 200, .reason = "OK",
		  .req_ver = 10, .resp_ver = 10, .resp_body = 11,
		  .resp_preview = "hello world" },
	},
	.body_gap = { .on = true, .chunk = 2, .off = 2, .len = 2, .txn = 0,
		      .resp = true, .preview = "hello wo" },
},
{
	.name = "no response: closed",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /hang HTTP/1.1\r\nHost: h\r\n\r\n" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/hang",
		  .error = "connection closed before a response" },
	},
	.unpaired_reqs = 1,
},
{
	.name = "no response: tracing stopped",
	.role = HS_ROLE_SERVER,
	.end = END_CLOSE_ALL,
	.chunks = {
		{ REQ, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "POST", .target = "/p", .req_body = 2, .req_preview = "hi",
		  .error = "tracing stopped" },
	},
	.unpaired_reqs = 1,
},
{
	.name = "no response: process exited",
	.role = HS_ROLE_CLIENT,
	.end = END_EXIT,
	.chunks = {
		{ REQ, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1" },
		{ REQ, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/1", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "1" },
		{ .method = "GET", .target = "/2", .error = "process exited" },
	},
	.unpaired_reqs = 1,
},
{
	.name = "closed mid-response",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /part HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/part", .status = 200, .reason = "OK",
		  .resp_body = 7, .resp_preview = "partial", .resp_incomplete = true,
		  .error = "connection ended mid-response" },
	},
},
{
	.name = "role unknown, requests received",
	.role = HS_ROLE_UNKNOWN,
	.req_dir = HS_DIR_RECV,
	.chunks = {
		{ REQ, "GET /u1 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nu1" },
		{ REQ, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 2\r\n\r\nu2" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/u1", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "u1" },
		{ .method = "OPTIONS", .target = "*", .status = 200, .reason = "OK",
		  .resp_hdrs = { { "Allow", "GET" } },
		  .resp_body = 2, .resp_preview = "u2" },
	},
},
{
	.name = "role unknown, response seen first",
	.role = HS_ROLE_UNKNOWN,
	.req_dir = HS_DIR_SEND,
	.chunks = {
		/* first seen mid-connection: a response whose request
		 * went before tracing began */
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", .keep_head = true },
		{ REQ, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/after", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "ok" },
	},
	.unpaired_resps = 1,
},
{
	.name = "garbage request, then a valid one",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "\x16\x03\x01 not http at all\r\n\r\n" },
		{ REQ, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", .keep_head = true },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/ok", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "ok" },
	},
	.parse_errors = 1,
},
{
	.name = "garbage method letters, then a valid one",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "BREW /pot HTCPCP/1.0\r\n\r\n" },
		{ REQ, "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n", .keep_head = true },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/ok", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "ok" },
	},
	.parse_errors = 1,
},
{
	.name = "garbage response, then a valid exchange",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "garbage!\r\n\r\n" },
		{ REQ, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", .keep_head = true },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/1", .skip_resp = true,
		  .error = "unparsable response" },
		{ .method = "GET", .target = "/2", .status = 200, .reason = "OK",
		  .resp_body = 2, .resp_preview = "ok" },
	},
	.parse_errors = 1,
},
{
	.name = "response without a request",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" },
		{ REQ, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/x", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "x" },
	},
	.unpaired_resps = 1,
},
{
	.name = "--max-body 16 truncation",
	.role = HS_ROLE_CLIENT,
	.max_body = 16,
	.chunks = {
		{ REQ, "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 20\r\n\r\nABCDEFGHIJKLMNOPQRST" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
			"0123456789012345678901234567890123456789" },
		{ REQ, "GET /exact HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\nabcdefghijklmnop" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "POST", .target = "/m", .status = 200, .reason = "OK",
		  .req_body = 20, .req_preview = "ABCDEFGHIJKLMNOP", .req_trunc = true,
		  .resp_body = 40, .resp_preview = "0123456789012345", .resp_trunc = true },
		{ .method = "GET", .target = "/exact", .status = 200, .reason = "OK",
		  .resp_body = 16, .resp_preview = "abcdefghijklmnop" },
	},
	.body_gap = { .on = true, .chunk = 1, .off = 30, .from_body = true, .len = 5,
		      .txn = 0, .resp = true, .preview = "0123456789012345" },
},
{
	.name = "Upgrade: h2c refused, connection stays HTTP/1",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
		       "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n" },
		/* Apache advertises h2 like this on ordinary responses */
		{ RESP, "HTTP/1.1 200 OK\r\nUpgrade: h2,h2c\r\nConnection: Upgrade\r\n"
			"Content-Length: 2\r\n\r\nok" },
		{ REQ, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/", .status = 200, .reason = "OK",
		  .req_hdrs = { { "Upgrade", "h2c" } },
		  .resp_hdrs = { { "Upgrade", "h2,h2c" } },
		  .resp_body = 2, .resp_preview = "ok" },
		{ .method = "GET", .target = "/2", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "x" },
	},
},
{
	.name = "CONNECT refused (407), then granted",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n" },
		{ RESP, "HTTP/1.1 407 Proxy Authentication Required\r\n"
			"Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 4\r\n\r\nauth" },
		{ REQ, "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n"
		       "Proxy-Authorization: Basic dTpw\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\n\r\n" },
		{ REQ, "\x16\x03\x01\x02\x05" "abcde" },
		{ RESP, "\x16\x03\x03\x01\x01" "xyz" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "CONNECT", .target = "a.example:443", .status = 407,
		  .reason = "Proxy Authentication Required",
		  .resp_body = 4, .resp_preview = "auth" },
		{ .method = "CONNECT", .target = "a.example:443", .status = 200,
		  .reason = "OK", .upgraded = true },
	},
	.upgrades = 1,
},
{
	/* RFC 9112 section 6.3: Transfer-Encoding overrides Content-Length;
	 * the peers accepted it, so the tracer must follow them */
	.name = "response with Transfer-Encoding and Content-Length",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /te HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
			"3\r\nabc\r\n0\r\n\r\n" },
		{ REQ, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/te", .status = 200, .reason = "OK",
		  .resp_body = 3, .resp_preview = "abc", .resp_chunked = true },
		{ .method = "GET", .target = "/next", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "x" },
	},
},
{
	.name = "Connection: close that the peers ignore",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n" },
		{ RESP, "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n1" },
		{ REQ, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/1", .status = 200, .reason = "OK",
		  .resp_ver = 10, .resp_body = 1, .resp_preview = "1" },
		{ .method = "GET", .target = "/2", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "2" },
	},
},
{
	.name = "request start lost to a gap",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na" },
		{ REQ, "", .gap = 4 }, /* "GET " never copied */
		{ REQ, "/b HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb" },
		{ REQ, "GET /c HTTP/1.1\r\nHost: h\r\n\r\n", .keep_head = true },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc" },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "GET", .target = "/a", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "a" },
		{ .method = "GET", .target = "/c", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "c" },
	},
	.unpaired_resps = 1, /* the 404, whose request was lost */
},
{
	/* The response to /2 lost its start: /2 must not take the
	 * response to /3, which begins in a record of its own. */
	.name = "response start lost to a gap",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1" },
		{ REQ, "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "", .gap = 5 }, /* "HTTP/" never copied */
		{ RESP, "1.1 404 Not Found\r\nContent-Length: 1\r\n\r\n2" },
		{ REQ, "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n3", .keep_head = true },
	},
	.ntxns = 3,
	.txns = {
		{ .method = "GET", .target = "/1", .status = 200, .reason = "OK",
		  .resp_body = 1, .resp_preview = "1" },
		{ .method = "GET", .target = "/2", .skip_resp = true,
		  .error = "response lost to a capture gap" },
		{ .method = "GET", .target = "/3", .status = 201, .reason = "Created",
		  .resp_body = 1, .resp_preview = "3" },
	},
	.unpaired_reqs = -1, /* /2: not checked */
},
{
	.name = "closed mid-request",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "POST", .target = "/p", .req_body = 3, .req_preview = "abc",
		  .req_incomplete = true, .error = "connection closed before a response" },
	},
	.unpaired_reqs = 1,
},
{
	.name = "unknown Content-Encoding (br) previewed as is",
	.role = HS_ROLE_CLIENT,
	.chunks = {
		{ REQ, "GET /br HTTP/1.1\r\nHost: h\r\nAccept-Encoding: br\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 9\r\n\r\n"
			"\x0b\x02\x80" "hello\x03" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "/br", .status = 200, .reason = "OK",
		  .resp_body = 9, .resp_preview = "\x0b\x02\x80" "hello\x03" },
	},
},
{
	.name = "absolute-form target, header whitespace",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "GET http://example.com/x?y=1 HTTP/1.1\r\nHost:example.com\r\n"
		       "X-Pad: \t padded \t \r\nX-Empty:\r\n\r\n" },
		{ RESP, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" },
	},
	.ntxns = 1,
	.txns = {
		{ .method = "GET", .target = "http://example.com/x?y=1", .status = 200,
		  .reason = "OK",
		  .req_hdrs = { { "Host", "example.com" }, { "X-Pad", "padded" },
				{ "X-Empty", "" } } },
	},
},
{
	.name = "early 413 before the request body ends",
	.role = HS_ROLE_SERVER,
	.chunks = {
		{ REQ, "POST /big HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabcd" },
		{ RESP, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n" },
		{ REQ, "efghij" },
		{ REQ, "GET /after HTTP/1.1\r\nHost: h\r\n\r\n" },
		{ RESP, OK200_0 },
	},
	.ntxns = 2,
	.txns = {
		{ .method = "POST", .target = "/big", .status = 413,
		  .reason = "Payload Too Large", .req_body = 4, .req_preview = "abcd",
		  .req_incomplete = true },
		{ .method = "GET", .target = "/after", .status = 200, .reason = "OK" },
	},
},
};

#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

#endif
