# nginx-tls.sh -- sourced by the integration and container TLS tests: a throwaway certificate and an nginx TLS configuration.
#
# nginx_tls_conf DIR PORT: writes DIR/cert.pem, DIR/key.pem and
# DIR/nginx.conf (1 worker on 127.0.0.1:PORT with TLS, the access log in
# DIR/logs/access.log in check.py's format; / answers 200, /echo 201,
# /missing 404).  Returns non-zero if openssl fails.
nginx_tls_conf() {
	local d=$1 port=$2
	mkdir -p "$d/logs" "$d/tmp"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
		-days 1 -subj /CN=localhost >/dev/null 2>&1 || return 1
	cat >"$d/nginx.conf" <<NGX
daemon off;
worker_processes 1;
user root root;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 1024; }
http {
    log_format hs '\$request_method \$request_uri \$status \$body_bytes_sent \$request_length \$connection \$connection_requests \$remote_port';
    access_log $d/logs/access.log hs;
    client_body_temp_path $d/tmp/body;
    keepalive_requests 100000;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $d/cert.pem;
        ssl_certificate_key $d/key.pem;
        location = /echo { return 201 "created\n"; }
        location / { return 200 "hello over tls\n"; }
        location /missing { return 404; }
    }
}
NGX
}

# nginx_tls_start DIR PORT: nginx_tls_conf, then nginx itself, tracked for
# the test's cleanup; sets NGINX_MASTER and NGINX_WORKER.  Needs lib.sh's
# track, wait_listen and die.
nginx_tls_start() {
	local d=$1 port=$2
	nginx_tls_conf "$d" "$port" || die "openssl could not make a certificate"
	nginx -p "$d" -c "$d/nginx.conf" >"$d/logs/stdout" 2>&1 &
	NGINX_MASTER=$!
	track "$NGINX_MASTER"
	wait_listen "$port" || die "nginx did not listen on $port"
	NGINX_WORKER=$(pgrep -P "$NGINX_MASTER" | head -n 1)
	[ -n "$NGINX_WORKER" ] || die "nginx worker not found"
}
