# prof.sh -- helpers of the profiler's integration tests (--summary, --top, --metrics, --har, display filters), sourced after lib.sh.

PROF_LOAD="$PY $LIB_DIR/prof_load.py"
CHECK_PROF="$PY $LIB_DIR/check_prof.py"

# hs_spawn_raw NAME ARGS...: httpsnoop with exactly ARGS (no -f/-o of
# hs_spawn), stdout to $T/NAME.out, stderr to $T/NAME.err; hs_wait NAME
# and hs_stop NAME work on it.
hs_spawn_raw() {
	local name=$1
	shift
	: >"$T/$name.err"
	"$HTTPSNOOP" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	HS_PID[$name]=$!
	track "$!"
}

# prof_nginx NAME PORT: an nginx on 127.0.0.1:PORT with the routes that
# prof_load.py asks for, its access log in check.py's format and a second
# one, $NGINX_DIR/logs/time.log, with "$request_method $request_uri
# $status $request_time $host" per request.
#   /user/N              200 "user"
#   /item/N/reviews?...  201 "reviews"
#   /orders (POST)       201, the body read
#   /static/app.css      200, a file
#   /slow                200, 48 KiB sent at 128 KiB/s (about 0.25 s)
#   /error               503
#   /p/WORD              200 (the cardinality test's paths)
#   anything else        404
prof_nginx() {
	local name=$1 port=$2 d="$T/$1"
	mkdir -p "$d/html/static"
	for _ in $(seq 40); do echo 'body { color: red; }'; done >"$d/html/static/app.css"
	head -c 49152 /dev/urandom >"$d/html/slow.bin"
	nginx_conf "$d" <<NGINX
    default_type text/plain;
    log_format tm '\$request_method \$request_uri \$status \$request_time \$host';
    server {
        listen 127.0.0.1:$port;
        root $d/html;
        access_log $d/logs/time.log tm;
        access_log $d/logs/access.log hs;
        location /user/ { return 200 "user\n"; }
        location ~ ^/item/[0-9]+/reviews\$ { return 201 "reviews\n"; }
        location = /orders {
            client_body_buffer_size 1m;
            return 201 "created\n";
        }
        location /static/ { }
        location = /slow {
            limit_rate 128k;
            limit_rate_after 0;
            try_files /slow.bin =404;
        }
        location = /error { return 503 "unavailable\n"; }
        location /p/ { return 200 "p\n"; }
        location / { return 404 "no\n"; }
    }
NGINX
	nginx_run "$d" "$port"
}

# vmhwm PID: the process's peak resident set, in kB.
vmhwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"; }
