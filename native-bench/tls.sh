#!/usr/bin/env bash
# native-bench/tls.sh: sluice's TLS listener against its plain one and nginx terminating TLS with the same
# certificate, wrk interleaved as in run.sh. --close sends Connection: close, so every request is a
# new TCP connection and TLS handshake (wrk resumes no sessions); the default keeps connections alive.
#   bash native-bench/tls.sh [--seconds 10] [--runs 3] [--connections 64] [--workers 1] [--close]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=10 RUNS=3 CONNECTIONS=64 WORKERS=1 CLOSE=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --close) CLOSE=(-H "Connection: close"); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in wrk nginx openssl; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "needs $tool: sudo apt-get install -y wrk nginx-light openssl" >&2; exit 2; }
done
[ -f dist/perf/origin.js ] || npx tsc -p tsconfig.json
export PATH="$PATH:/usr/sbin"
DIR=$(mktemp -d /tmp/sluice-tls-bench.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
source native-bench/common.sh

# One RSA 2048 certificate for both proxies (what most public certificates still are).
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/key.pem" -out "$DIR/cert.pem" -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null

ORIGIN_PORT=$(free_port)
node dist/perf/origin.js "$ORIGIN_PORT" >/dev/null & PIDS+=($!)
wait_port "$ORIGIN_PORT"
declare -A URL
HTTP_PORT=$(free_port) HTTPS_PORT=$(free_port) NGINX_PORT=$(free_port)
cat >"$DIR/sluice.yaml" <<YAML
listen:
  - { host: 127.0.0.1, port: $HTTP_PORT }
  - { host: 127.0.0.1, port: $HTTPS_PORT, tls: { cert: $DIR/cert.pem, key: $DIR/key.pem } }
upstreams:
  origin: { endpoints: [ { url: "http://127.0.0.1:$ORIGIN_PORT" } ], pool: { connections: 64 } }
routes:
  - { name: all, match: { prefix: / }, upstream: origin }
YAML
SLUICE_ADMIN_PORT=0 SLUICE_WORKERS=$WORKERS node --single-threaded-gc dist/src/cli.js start --config "$DIR/sluice.yaml" >"$DIR/sluice.log" & PIDS+=($!)
wait_port "$HTTPS_PORT"
mkdir -p "$DIR/body" "$DIR/proxy"
sed -e "s#@ORIGIN@#127.0.0.1:$ORIGIN_PORT#; s#@DIR@#$DIR#g; s#@WORKERS@#$WORKERS#" \
  -e "s#listen 127.0.0.1:@PORT@ reuseport;#listen 127.0.0.1:$NGINX_PORT ssl reuseport; ssl_certificate $DIR/cert.pem; ssl_certificate_key $DIR/key.pem;#" \
  native-bench/nginx.conf >"$DIR/nginx.conf"
nginx -c "$DIR/nginx.conf" -p "$DIR" & PIDS+=($!)
wait_port "$NGINX_PORT"
URL=([sluice-http]="http://127.0.0.1:$HTTP_PORT/tiny" [sluice-https]="https://127.0.0.1:$HTTPS_PORT/tiny" [nginx]="https://127.0.0.1:$NGINX_PORT/tiny")
TARGETS="sluice-http sluice-https nginx"

echo "tls-bench: $RUNS run(s) × ${SECONDS_PER_RUN}s, wrk -t1 -c$CONNECTIONS GET /tiny, workers $WORKERS, $([ ${#CLOSE[@]} -gt 0 ] && echo 'a handshake per request' || echo keep-alive)" >&2
for target in $TARGETS; do wrk -t1 -c"$CONNECTIONS" -d2s "${CLOSE[@]}" "${URL[$target]}" >/dev/null; done
: >"$DIR/results.tsv"
for run in $(seq "$RUNS"); do
  for target in $TARGETS; do
    out=$(wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "${CLOSE[@]}" "${URL[$target]}")
    record_run "$DIR/results.tsv" "$run" "$target" "$out"
  done
done
node native-bench/table.mjs "$DIR/results.tsv"
