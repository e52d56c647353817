#!/bin/bash
# test-har.sh -- --har: every entry's HAR 1.2 fields and types, the entries against nginx's access log, query strings and bodies as sent, and a document that parses after SIGINT in mid-run.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/prof.sh"
need_tools nginx jq
need_bpf

PORT=$(free_port)
prof_nginx ngx "$PORT"

# "whole" sees the whole run; "cut" is stopped while requests fly.
hs_spawn_raw whole -P "$PORT" --har "$T/whole.har" -b 4096
hs_spawn_raw cut -P "$PORT" --har "$T/cut.har"
hs_wait whole
hs_wait cut
$PROF_LOAD "$PORT" 8000 --conns 2 --slow 12 >"$T/load.json" &
LOAD=$!
track "$LOAD"
# in mid-run: once a few hundred requests are in the log
for i in $(seq 100); do
	[ "$(wc -l <"$NGINX_LOG")" -gt 300 ] && break
	sleep 0.05
done
kill -INT "${HS_PID[cut]}"
wait "${HS_PID[cut]}" || fail "httpsnoop (cut) exited with status $? after SIGINT"
wait "$LOAD" || die "the client failed"
hs_stop whole
n=$(jq '.log.entries | length' "$T/cut.har")
[ "$n" -lt "$(wc -l <"$NGINX_LOG")" ] || fail "the SIGINT came after the load: $n entries"

$CHECK_PROF har --har "$T/cut.har" --log "$NGINX_LOG" --side server --subset --min 10 ||
	fail "the HAR written up to SIGINT"
$CHECK_PROF har --har "$T/whole.har" --log "$NGINX_LOG" --side server ||
	fail "the HAR of the whole run"
$CHECK_PROF har --har "$T/whole.har" --log "$NGINX_LOG" --side client ||
	fail "the client side's HAR"
ls -l "$T/whole.har" | grep -q '^-rw-------' || fail "the HAR file is not 0600"

# what was sent, as HAR shows it
q=$(jq -r '[.log.entries[] | select(.request.url | contains("/reviews?")) | .request.queryString
	| map(.name + "=" + .value) | join("&")] | unique | map(select(test("^page=[0-4]&q=a b!$") | not)) | length' "$T/whole.har")
[ "$q" = 0 ] || fail "queryString not decoded as page=K&q=a b! ($q others)"
n=$(jq '[.log.entries[] | select(.request.method == "POST" and ._side == "client") | .request.postData
	| select(.mimeType == "application/x-www-form-urlencoded" and (.text | test("^item=[0-9]+&qty=[0-9]$")))] | length' "$T/whole.har")
[ "$n" -gt 0 ] || fail "no form postData as text"
n=$(jq '[.log.entries[] | select(.request.method == "POST" and ._side == "client") | .request.postData
	| select(.mimeType == "application/octet-stream" and .encoding == "base64" and ((.text | @base64d | length) >= 200))] | length' "$T/whole.har")
[ "$n" -gt 0 ] || fail "no binary postData in base64"
n=$(jq '[.log.entries[] | select(.request.url | endswith("/static/app.css")) | .response.content
	| select(.mimeType == "text/plain" and .size == 840 and (.text | startswith("body { color: red; }")))] | length' "$T/whole.har")
[ "$n" -gt 0 ] || fail "no response content as text"
n=$(jq '[.log.entries[] | select(._side == "server" and .serverIPAddress == "127.0.0.1"
	and (.connection | test("^[0-9]+$")) and .request.httpVersion == "HTTP/1.1")] | length' "$T/whole.har")
[ "$n" = "$(wc -l <"$NGINX_LOG")" ] || fail "serverIPAddress, connection or httpVersion missing ($n entries)"
n=$(jq '[.log.entries[] | select(.request.url | endswith("/slow")) | select(.timings.receive > 100)] | length' "$T/whole.har")
[ "$n" -ge 4 ] || fail "the slow responses' receive time is not over 100 ms ($n)"
finish
