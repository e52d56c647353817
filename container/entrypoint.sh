#!/bin/bash
# entrypoint.sh -- the httpsnoop image's entrypoint: pass every flag through, defaulting the output to /traces/http-trace.txt.
#
# The rule, in full:
#   - the arguments go to httpsnoop unchanged, in order;
#   - if they name no output (-o FILE, -oFILE, --output FILE, --output=FILE,
#     or an unambiguous prefix such as --out FILE), "-o /traces/http-trace.txt"
#     is added, so traces land on the volume mounted at /traces;
#   - "-o -" means stdout (httpsnoop's own rule): use it to send JSON Lines
#     to a log collector, as container/kubernetes/daemonset.yaml does;
#   - nothing is added when httpsnoop will not trace: -h/--help,
#     -V/--version, --ebpf and --replay (which decodes to stdout).
# Options are read the way httpsnoop's getopt_long reads them, so that a value
# that looks like "-o" (e.g. "-c -o") is not taken for the option.
set -u

DEFAULT_OUTPUT=${HTTPSNOOP_DEFAULT_OUTPUT:-/traces/http-trace.txt}
HTTPSNOOP=${HTTPSNOOP:-/usr/local/bin/httpsnoop}

# Short options that take a value, as in httpsnoop's optstring.
SHORT_WITH_VALUE=pcPofbd
# Long options that take a value.
LONG_WITH_VALUE=(pid comm port output format max-body duration container probe
	record replay redact-header redact-query)
# Long options after which httpsnoop does not trace.
LONG_NO_TRACE=(help version ebpf replay)

has_output=0
no_trace=0

# long_is NAME CANDIDATE...: is NAME (as typed, possibly abbreviated) a
# prefix of one of the candidates?
long_is() {
	local name=$1 c
	shift
	for c in "$@"; do
		case "$c" in "$name"*) return 0 ;; esac
	done
	return 1
}

args=("$@")
i=0
while [ "$i" -lt "${#args[@]}" ]; do
	a=${args[$i]}
	i=$((i + 1))
	case "$a" in
	--)
		break ;;
	--?*)
		name=${a#--}
		value_inline=0
		case "$name" in *=*) name=${name%%=*}; value_inline=1 ;; esac
		# "output" is the only long option starting with "o".
		case "output" in "$name"*) has_output=1 ;; esac
		long_is "$name" "${LONG_NO_TRACE[@]}" && no_trace=1
		if [ "$value_inline" = 0 ] && long_is "$name" "${LONG_WITH_VALUE[@]}"; then
			i=$((i + 1))
		fi
		;;
	-?*)
		# A cluster of short options: -v, -vo FILE, -oFILE, -f json.
		j=1
		while [ "$j" -lt "${#a}" ]; do
			c=${a:$j:1}
			j=$((j + 1))
			case "$c" in h|V) no_trace=1 ;; esac
			case "$SHORT_WITH_VALUE" in
			*"$c"*)
				[ "$c" = o ] && has_output=1
				# the value is the rest of the cluster, or the next argument
				[ "$j" -ge "${#a}" ] && i=$((i + 1))
				break ;;
			esac
		done
		;;
	esac
done

if [ "$has_output" = 0 ] && [ "$no_trace" = 0 ]; then
	dir=$(dirname "$DEFAULT_OUTPUT")
	if ! mkdir -p "$dir"; then
		echo "httpsnoop-entrypoint: failed to create $dir: mount a volume there, or pass -o FILE (-o - for stdout)" >&2
		exit 1
	fi
	echo "httpsnoop-entrypoint: writing transactions to $DEFAULT_OUTPUT (-o FILE to change, -o - for stdout)" >&2
	# in front: after a "--" it would be an operand
	set -- -o "$DEFAULT_OUTPUT" "$@"
fi
exec "$HTTPSNOOP" "$@"
