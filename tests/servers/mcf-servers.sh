#!/bin/sh
# Starts one loopback test server in the foreground (exec), so the caller's
# child PID is the server itself and "kill PID" stops it.
#   mcf-servers.sh nginx PREFIX PORT [TLS_PORT]   (TLS: PREFIX/cert.pem, self-signed)
#   mcf-servers.sh s3 DIR PORT ACCESS_KEY SECRET [BUCKET...]
#   mcf-servers.sh python-http DIR PORT  (python3 -m http.server: ignores Range)
# Exit 77 = a prerequisite is missing (the test skips and prints this reason).
# s3rver is installed on first use with "npm ci" into $MCF_S3RVER_HOME
# (default build/s3rver, relative to the repository root).
HERE=$(cd "$(dirname "$0")" && pwd)
what=$1; shift
case "$what" in
nginx)
    prefix=$1; port=$2; tls_port=${3:-}
    NGINX=${MCF_NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
    [ -x "$NGINX" ] || { echo "nginx not found (apt-get install nginx)"; exit 77; }
    mkdir -p "$prefix/data" "$prefix/logs" "$prefix/tmp" || exit 1
    sed -e "s#@PREFIX@#$prefix#g" -e "s#@PORT@#$port#g" "$HERE/nginx.conf.in" > "$prefix/nginx.conf" || exit 1
    : > "$prefix/tls.conf"
    if [ -n "$tls_port" ] && command -v openssl >/dev/null 2>&1 &&
       openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
           -addext subjectAltName=IP:127.0.0.1 -keyout "$prefix/key.pem" -out "$prefix/cert.pem" >/dev/null 2>&1; then
        printf 'server {\n listen 127.0.0.1:%s ssl;\n ssl_certificate %s/cert.pem;\n ssl_certificate_key %s/key.pem;\n root %s/data;\n location / { }\n}\n' \
            "$tls_port" "$prefix" "$prefix" "$prefix" > "$prefix/tls.conf"
    fi
    exec "$NGINX" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log"
    ;;
s3)
    command -v node >/dev/null 2>&1 || { echo "node not found (node >= 20 is needed for @20minutes/s3rver)"; exit 77; }
    home=${MCF_S3RVER_HOME:-build/s3rver}
    if [ ! -f "$home/node_modules/@20minutes/s3rver/package.json" ]; then
        command -v npm >/dev/null 2>&1 || { echo "npm not found"; exit 77; }
        mkdir -p "$home" && cp "$HERE/s3rver/package.json" "$HERE/s3rver/package-lock.json" "$home/" || exit 1
        (cd "$home" && npm ci --omit=dev --no-audit --no-fund --loglevel=error) >&2 ||
            { echo "npm ci of @20minutes/s3rver failed in $home (offline?)"; exit 77; }
    fi
    home=$(cd "$home" && pwd)
    NODE_PATH="$home/node_modules" exec node "$HERE/s3-server.js" "$@"
    ;;
python-http)
    dir=$1; port=$2
    PY=${MCF_PYTHON:-}
    if [ -z "$PY" ]; then
        for p in /usr/bin/python3 python3; do
            if command -v "$p" >/dev/null 2>&1; then PY=$p; break; fi
        done
    fi
    [ -n "$PY" ] || { echo "python3 not found"; exit 77; }
    mkdir -p "$dir" || exit 1
    exec "$PY" -m http.server --bind 127.0.0.1 --directory "$dir" "$port"
    ;;
*)
    echo "usage: $0 nginx PREFIX PORT | s3 DIR PORT ACCESS_KEY SECRET [BUCKET...] | python-http DIR PORT"; exit 2
    ;;
esac
