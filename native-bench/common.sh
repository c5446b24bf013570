# Shared by native-bench scripts (sourced, not run): free loopback ports, waiting for a listener, and
# the sluice config every bench proxies through (one route to the origin, 64 pooled connections).
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_port() { for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
# write_sluice_config FILE ORIGIN_PORT
write_sluice_config() {
  cat >"$1" <<YAML
upstreams:
  origin: { endpoints: [ { url: "http://127.0.0.1:$2" } ], pool: { connections: 64 } }
routes:
  - { name: all, match: { prefix: / }, upstream: origin }
YAML
}
# record_run RESULTS RUN TARGET WRK_OUTPUT: one results.tsv row (run, target, req/s, p50, p99, error
# lines) from wrk --latency output, and a progress line on stderr.
record_run() {
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$4")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$4")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$4")
  errs=$(awk '/Non-2xx|Socket errors/ {n++} END {print n+0}' <<<"$4")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$rps" "$p50" "$p99" "$errs" >>"$1"
  echo "  run $2 $3: $rps req/s p50 $p50 p99 $p99" >&2
}
