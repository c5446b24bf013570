/**
 * How node is started for the gateway (bin/sluice.js, npm start, the Dockerfile, tests and benches).
 * V8 flags are per process and cannot be set safely once the heap exists, so they live on the
 * command line, not in code.
 *
 * --single-threaded-gc: with one worker per core every core is busy under load, and V8's parallel
 * GC helper threads only take time from the workers (+27 % req/s for 64 KiB responses on a pinned
 * core, no change for small ones: perf/README.md).
 */
export const NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];

/** Said in the ready line, so a gateway started without the flag shows it. */
export function gcMode(): 'single-threaded' | 'parallel' {
  return process.execArgv.includes('--single-threaded-gc') ? 'single-threaded' : 'parallel';
}
