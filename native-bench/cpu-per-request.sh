#!/usr/bin/env bash
# Gateway CPU per request, two or more builds side by side: the A/B behind perf/README.md's tuning table.
#   bash native-bench/cpu-per-request.sh [--runs 5] [--seconds 5] [--path /tiny] [--script FILE] BUILD...
# A BUILD is a checkout with dist/ built (e.g. `git worktree add /tmp/base HEAD~1 && (cd /tmp/base &&
# ln -s "$PWD/node_modules" node_modules && npx tsc -p tsconfig.json)`), optionally NAME=DIR, and an env
# prefix after a colon: "pipelined=.:SLUICE_PIPELINING=8 SLUICE_POOL_CONNECTIONS=8" (it may override
# SLUICE_WORKERS: "two=.:SLUICE_WORKERS=2" runs two workers on CPU 0, the CPU cost of a second worker).
# Each gateway runs one worker pinned to CPU 0; the origin and wrk share CPU 1. Runs are interleaved
# (build 1, build 2, ..., build 1, ...) so the machine's noise hits them alike; CPU time of the whole
# gateway process (all threads) is read from /proc/PID/stat around each wrk run. Prints medians.
# Loopback only, bounded: runs × builds × seconds. Needs wrk and taskset (see native-bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=5 SECS=5 URLPATH=/tiny SCRIPT=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --path) URLPATH=$2; shift 2 ;;
    --script) SCRIPT=(-s "$2"); shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [options] BUILD..." >&2; exit 2; }
for tool in wrk taskset; do command -v "$tool" >/dev/null || { echo "needs $tool: apt-get install -y wrk util-linux" >&2; exit 2; }; done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (gateway on one, origin and wrk on the other)" >&2; exit 2; }

DIR=$(mktemp -d /tmp/sluice-cpu.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
source native-bench/common.sh

ORIGIN_PORT=$(free_port)
taskset -c 1 node dist/perf/origin.js "$ORIGIN_PORT" >/dev/null & PIDS+=($!)
wait_port "$ORIGIN_PORT"
write_sluice_config "$DIR/sluice.yaml" "$ORIGIN_PORT"

NAMES=() PORTS=() GW=()
for spec in "$@"; do
  build=${spec%%:*}; envs=${spec#"$build"}; envs=${envs#:}
  name=${build%%=*}; dir=${build#*=}
  port=$(free_port)
  # The access log goes to a file, as in native-bench (and as most deployments have it).
  # The build's env prefix comes last, so it may override these (e.g. SLUICE_WORKERS=2: both on CPU 0).
  (cd "$dir" && exec env SLUICE_PORT="$port" SLUICE_ADMIN_PORT=0 SLUICE_WORKERS=1 $envs \
    taskset -c 0 node --single-threaded-gc dist/src/cli.js start --config "$DIR/sluice.yaml") >"$DIR/$name.log" 2>&1 & 
  GW+=($!) PIDS+=($!) NAMES+=("$name") PORTS+=("$port")
  wait_port "$port"
done
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for i in "${!NAMES[@]}"; do taskset -c 1 wrk -t1 -c64 -d2s "${SCRIPT[@]}" "http://127.0.0.1:${PORTS[$i]}$URLPATH" >/dev/null; done
: >"$DIR/results.tsv"
for run in $(seq "$RUNS"); do
  for i in "${!NAMES[@]}"; do
    before=$(cpu_ticks "${GW[$i]}")
    rps=$(taskset -c 1 wrk -t1 -c64 -d"${SECS}s" "${SCRIPT[@]}" "http://127.0.0.1:${PORTS[$i]}$URLPATH" | awk '/^Requests\/sec/ {print $2}')
    after=$(cpu_ticks "${GW[$i]}")
    us=$(awk -v t=$((after - before)) -v r="$rps" -v s="$SECS" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / (r * s) }')
    printf '%s\t%s\t%s\n' "${NAMES[$i]}" "$rps" "$us" >>"$DIR/results.tsv"
    echo "  run $run ${NAMES[$i]}: $rps req/s, $us µs CPU per request" >&2
  done
done
echo "| build | req/s (median) | gateway CPU µs per request (median) |"
echo "|---|---|---|"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for name in "${NAMES[@]}"; do
  rps=$(awk -F'\t' -v n="$name" '$1 == n { print $2 }' "$DIR/results.tsv" | median)
  us=$(awk -F'\t' -v n="$name" '$1 == n { print $3 }' "$DIR/results.tsv" | median)
  printf '| %s | %.0f | %s |\n' "$name" "$rps" "$us"
done
