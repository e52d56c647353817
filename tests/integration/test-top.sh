#!/bin/bash
# test-top.sh -- --top under tmux: rows appear, the sort keys work, a resize is followed, and q or Ctrl-C quit with the terminal given back.
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/prof.sh"
need_tools nginx tmux
need_bpf

PORT=$(free_port)
prof_nginx ngx "$PORT"
SOCK="hs-top-$$"
tm() { tmux -L "$SOCK" "$@"; }
ON_EXIT+=("tmux -L $SOCK kill-server 2>/dev/null")

# top_run NAME: httpsnoop --top in a 120x30 tmux window; the shell
# around it says how it ended and stays, so that the screen can be read.
top_run() {
	tm new-session -d -s "$1" -x 120 -y 30 \
		"TERM=screen $HTTPSNOOP --top -P $PORT; echo \"[exit \$?]\"; sleep 600"
	# the view's title once tracing runs
	for i in $(seq $((START_TIMEOUT * 10))); do
		tm capture-pane -p -t "$1" | grep -q '^httpsnoop top ' && return 0
		sleep 0.1
	done
	tm capture-pane -p -t "$1" >&2
	die "--top did not draw its screen"
}

# screen_has NAME TEXT [SECONDS]: until the screen shows TEXT.
screen_has() {
	local i
	for i in $(seq $((${3:-5} * 10))); do
		tm capture-pane -p -t "$1" >"$T/screen.txt"
		grep -qF -- "$2" "$T/screen.txt" && return 0
		sleep 0.1
	done
	return 1
}

# first_row NAME: the first endpoint row on the screen.
first_row() { tm capture-pane -p -t "$1" | sed -n '6p'; }

top_run one
$PROF_LOAD "$PORT" 1500 >"$T/load.json" || die "the client failed"
screen_has one '/user/{id}' || { cat "$T/screen.txt" >&2; fail "no /user/{id} row"; }
screen_has one '/item/{id}/reviews' || fail "no /item/{id}/reviews row"
screen_has one 'Sort: rate' || fail "not sorted by rate at first"
tm send-keys -t one e
screen_has one 'Sort: errors' || fail "e did not sort by errors"
sleep 1.2 # an interval: the rows are sorted again
first_row one | grep -q ' /error ' || fail "sorted by errors, the first row is not /error: $(first_row one)"
tm send-keys -t one p
screen_has one 'Sort: p99' || fail "p did not sort by p99"
tm send-keys -t one r
screen_has one 'Sort: rate' || fail "r did not sort by rate"
# a resize: redrawn to the new width
tm resize-window -t one -x 80 -y 24
sleep 1.5
tm capture-pane -p -t one >"$T/screen80.txt"
# in characters, not bytes ("µs")
"$PY" -c 'import sys; sys.exit(any(len(l.rstrip("\n")) > 80 for l in open(sys.argv[1], encoding="utf-8")))' \
	"$T/screen80.txt" || fail "wider than 80 after the resize"
grep -q 'ROUTE' "$T/screen80.txt" || fail "no column headings after the resize"
[ "$(tm display -p -t one '#{alternate_on}')" = 1 ] || fail "--top is not on the alternate screen"
tm send-keys -t one q
screen_has one '[exit 0]' 10 || { cat "$T/screen.txt" >&2; fail "q did not end httpsnoop with status 0"; }
[ "$(tm display -p -t one '#{alternate_on}')" = 0 ] || fail "the terminal was not given back after q"
tm capture-pane -p -t one -S - | grep -q 'httpsnoop statistics' || fail "no statistics on the terminal after q"
grep -q '^httpsnoop top ' "$T/screen.txt" && fail "the view is still on the screen after q"

# Ctrl-C
top_run two
tm send-keys -t two C-c
screen_has two '[exit 0]' 10 || { cat "$T/screen.txt" >&2; fail "Ctrl-C did not end httpsnoop with status 0"; }
[ "$(tm display -p -t two '#{alternate_on}')" = 0 ] || fail "the terminal was not given back after Ctrl-C"
tm capture-pane -p -t two -S - | grep -q 'httpsnoop statistics' || fail "no statistics after Ctrl-C"
finish
