#!/usr/bin/env bash
# native-bench: wrk against the origin, sluice, nginx and HAProxy, configured alike, side by side in one run.
#   bash native-bench/run.sh [--seconds 10] [--runs 3] [--connections 64] [--workers 1] [--path /tiny]
#                            [--script native-bench/post-64k.lua] [--targets "direct sluice nginx haproxy bare"] [--no-pin]
# Installs nothing: it checks for its tools and prints the install line. See native-bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=10 RUNS=3 CONNECTIONS=64 WORKERS=1 PATH_UNDER_TEST=/tiny PIN=1 TARGETS="direct sluice nginx haproxy" SCRIPT=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --path) PATH_UNDER_TEST=$2; shift 2 ;;
    --targets) TARGETS=$2; shift 2 ;;
    --script) SCRIPT=(-s "$2"); shift 2 ;;
    --no-pin) PIN=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

missing=()
for tool in wrk nginx haproxy taskset; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "native-bench needs: ${missing[*]}. Install with:" >&2
  echo "  sudo apt-get install -y wrk nginx-light haproxy util-linux" >&2
  exit 2
fi
[ -f dist/perf/origin.js ] || npx tsc -p tsconfig.json
export PATH="$PATH:/usr/sbin"

NCPU=$(nproc)
DIR=$(mktemp -d /tmp/sluice-native-bench.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

# The proxy under test gets CPUs 0..WORKERS-1; the origin and wrk share the rest.
pin_proxy=() pin_rest=()
if [ "$PIN" = 1 ] && [ "$NCPU" -gt "$WORKERS" ]; then
  pin_proxy=(taskset -c "0-$((WORKERS - 1))") pin_rest=(taskset -c "$WORKERS-$((NCPU - 1))")
fi

source native-bench/common.sh

ORIGIN_PORT=$(free_port)
"${pin_rest[@]}" node dist/perf/origin.js "$ORIGIN_PORT" >/dev/null & PIDS+=($!)
wait_port "$ORIGIN_PORT"
declare -A PORT=([direct]=$ORIGIN_PORT)

for target in $TARGETS; do
  case $target in
    sluice)
      PORT[sluice]=$(free_port)
      write_sluice_config "$DIR/sluice.yaml" "$ORIGIN_PORT"
      SLUICE_PORT=${PORT[sluice]} SLUICE_ADMIN_PORT=0 SLUICE_WORKERS=$WORKERS \
        "${pin_proxy[@]}" node --single-threaded-gc dist/src/cli.js start --config "$DIR/sluice.yaml" >"$DIR/sluice.log" & PIDS+=($!)
      wait_port "${PORT[sluice]}" ;;
    nginx)
      PORT[nginx]=$(free_port)
      mkdir -p "$DIR/body" "$DIR/proxy"
      sed -e "s#@ORIGIN@#127.0.0.1:$ORIGIN_PORT#; s#@PORT@#${PORT[nginx]}#; s#@DIR@#$DIR#g; s#@WORKERS@#$WORKERS#" native-bench/nginx.conf >"$DIR/nginx.conf"
      "${pin_proxy[@]}" nginx -c "$DIR/nginx.conf" -p "$DIR" & PIDS+=($!)
      wait_port "${PORT[nginx]}" ;;
    bare)
      PORT[bare]=$(free_port)
      "${pin_proxy[@]}" node dist/perf/bare-proxy.js "${PORT[bare]}" "$ORIGIN_PORT" & PIDS+=($!)
      wait_port "${PORT[bare]}" ;;
    haproxy)
      PORT[haproxy]=$(free_port)
      sed -e "s#@ORIGIN@#127.0.0.1:$ORIGIN_PORT#; s#@PORT@#${PORT[haproxy]}#; s#@WORKERS@#$WORKERS#" native-bench/haproxy.cfg >"$DIR/haproxy.cfg"
      "${pin_proxy[@]}" haproxy -db -f "$DIR/haproxy.cfg" >"$DIR/haproxy.log" 2>&1 & PIDS+=($!)
      wait_port "${PORT[haproxy]}" ;;
  esac
done

echo "native-bench: $RUNS run(s) × ${SECONDS_PER_RUN}s, wrk -t1 -c$CONNECTIONS ${SCRIPT[1]:-GET} $PATH_UNDER_TEST, proxy workers $WORKERS, pinned: $([ ${#pin_proxy[@]} -gt 0 ] && echo "proxy ${pin_proxy[2]}, origin+wrk ${pin_rest[2]}" || echo no)" >&2
# Warm-up (JIT, pools), then interleaved runs.
for target in $TARGETS; do "${pin_rest[@]}" wrk -t1 -c"$CONNECTIONS" -d2s "${SCRIPT[@]}" "http://127.0.0.1:${PORT[$target]}$PATH_UNDER_TEST" >/dev/null; done
: >"$DIR/results.tsv"
for run in $(seq "$RUNS"); do
  for target in $TARGETS; do
    out=$("${pin_rest[@]}" wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "${SCRIPT[@]}" "http://127.0.0.1:${PORT[$target]}$PATH_UNDER_TEST")
    record_run "$DIR/results.tsv" "$run" "$target" "$out"
  done
done
node native-bench/table.mjs "$DIR/results.tsv"
