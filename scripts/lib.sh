# lib.sh -- sourced by the scripts in scripts/: run as root, through sudo when there is one.

# need_root NAME ARGS...: returns if this process is root.  Otherwise runs
# the calling script again through sudo with ARGS (keeping the HS_* and
# HTTPSNOOP_* environment) if sudo is installed, and never returns; without
# sudo it says how to become root and returns 1.  A fresh Debian machine on
# which one logs in as root often has no sudo: the README's commands must
# work there as they are written.
need_root() {
	local me=$1 self
	local -a keep=()
	shift
	[ "$(id -u)" -eq 0 ] && return 0
	self=$(readlink -f "$0")
	if command -v sudo >/dev/null 2>&1; then
		mapfile -t keep < <(compgen -e | grep -E '^(HS_|HTTPSNOOP_)' || true)
		echo "$me: not root: running again through sudo" >&2
		if [ "${#keep[@]}" -gt 0 ]; then
			exec sudo "--preserve-env=$(IFS=,; echo "${keep[*]}")" -- "$self" "$@"
		fi
		exec sudo -- "$self" "$@"
	fi
	echo "$me: ERROR: must run as root, and sudo is not installed: run it from a root shell (su -)" >&2
	return 1
}
