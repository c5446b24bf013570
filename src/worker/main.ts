import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CompiledPlan } from '../compile/plan.js';
import { AccessLog } from '../observe/access-log.js';
import { EventLoopDelay } from '../observe/event-loop-delay.js';
import { createLogger, flushDestinationSync, logDestination } from '../observe/log.js';
import { readSeries, WorkerMetrics } from '../observe/worker-metrics.js';
import { EndpointHealth } from '../shared/endpoint-health.js';
import { UpstreamTable } from '../shared/upstream-table.js';
import { PoolSet } from '../upstream/pools.js';
import { KeptResources } from './kept-resources.js';
import { type Listener, openListener } from './listener.js';
import type { FromWorker, ToWorker, WorkerData } from './messages.js';
import { buildRuntime, type Runtime } from './runtime.js';
import { ServiceViews } from './service-views.js';
import { inFlight } from './uws-downstream.js';

/**
 * A worker thread: a uWS listener on each shared port (SO_REUSEPORT), its own connection pools, and
 * the runtime for the current config generation. It never reads config; plans arrive from the primary.
 */
const { index, plan: firstPlan, shared, services } = workerData as WorkerData;
const port = parentPort!;
const send = (m: FromWorker) => port.postMessage(m);
const pools = new PoolSet();
const dest = logDestination();
const log: Logger = createLogger(firstPlan.log.level, { worker: index }, firstPlan.log.mask, dest);
const access = new AccessLog(dest, { pid: process.pid, worker: index });
const kept = new KeptResources();
const health = new EndpointHealth(shared.endpointTable);
const upstreamTable = new UpstreamTable(shared.upstreamTable);
const serviceViews = new ServiceViews(services, (kind, value) => send({ type: 'service-signal', kind, value }));
const metrics = new WorkerMetrics();
const loopDelay = new EventLoopDelay();
const worker = String(index);
metrics.addGauges(() => [
  readSeries('workerInFlight', [worker], inFlight.count),
  readSeries('eventLoopDelay', [worker], loopDelay.p99Ms / 1000),
  readSeries('heapUsed', [worker], getHeapStatistics().used_heap_size),
]);
metrics.addGauges(() => pools.gauges());
const build = (plan: CompiledPlan): Runtime => buildRuntime(plan, { pools, log, access, shared, kept, health, upstreamTable, serviceViews, metrics });
let runtime: Runtime = build(firstPlan);
let listeners: Listener[] = [];

function applyPlan(plan: CompiledPlan): void {
  if (plan.log.level !== runtime.plan.log.level) log.level = plan.log.level;
  runtime = build(plan);
  plan.listeners.forEach((l, i) => listeners[i]?.update(l));
  send({ type: 'plan-applied', generation: plan.generation });
}

/**
 * Stop accepting, let in-flight requests finish (up to timeoutMs), then close every connection and
 * pool so the thread ends on its own: ending it with uWS sockets open aborts the process natively.
 * Every response written from now on says `Connection: close`. Idle keep-alive connections are closed
 * with the rest once nothing is in flight: uWS 20.30 can close only all of an App's connections at
 * once (app.close() aborts requests in flight too), never one idle connection.
 */
function drain(timeoutMs: number): void {
  inFlight.draining = true;
  for (const l of listeners) l.stopAccepting();
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    const abandoned = inFlight.count;
    for (const l of listeners) l.closeAll();
    pools.closeAll();
    void kept
      .closeAll()
      .catch(() => {})
      .finally(() => {
        send({ type: 'drained', abandoned });
        access.close();
        loopDelay.close();
        flushDestinationSync(dest);
        port.close();
      });
  };
  const timer = setTimeout(finish, timeoutMs);
  // A keep-alive client that was between two requests when the drain began sends its next one within
  // moments; it is answered (with Connection: close). Closing its connection before then would lose it.
  setTimeout(
    () => {
      if (inFlight.count === 0) finish();
      else inFlight.onIdle = finish;
    },
    Math.min(DRAIN_GRACE_MS, timeoutMs),
  );
}
const DRAIN_GRACE_MS = 200;

/**
 * An uncaught error (a bug in a stage's callback, a promise nobody awaited) ends this thread, never
 * the process: a thread that ends while uWS still holds sockets aborts the whole process natively
 * (uv_loop_close() with open handles), taking every other worker down with it. So stop accepting,
 * close this worker's connections (their clients see the connection close without an answer) and
 * pools, and end with exit code 1; the supervisor replaces the thread.
 */
function crash(err: unknown): void {
  if (crashed) return;
  crashed = true;
  log.fatal({ err, code: 'SLUICE_ERR_INTERNAL', in_flight: inFlight.count }, 'uncaught error: this worker closes its connections and ends');
  process.exitCode = 1;
  for (const l of listeners) l.closeAll();
  pools.closeAll();
  access.close();
  loopDelay.close();
  flushDestinationSync(dest);
  port.close();
  // Whatever still holds the loop (a stage's kept resource, a timer) must not keep a dead worker's seat.
  setTimeout(() => process.exit(1), CRASH_EXIT_MS).unref();
}
let crashed = false;
const CRASH_EXIT_MS = 500;
process.on('uncaughtException', crash);

port.on('message', (m: ToWorker) => {
  if (m.type === 'plan') applyPlan(m.plan);
  else if (m.type === 'drain') drain(m.timeoutMs);
  else if (m.type === 'service') serviceViews.update(m.kind, m.value);
  else if (m.type === 'metrics') send({ type: 'metrics', id: m.id, generation: runtime.plan.generation, series: metrics.snapshot() });
});

/** Every listener of the plan, in order; a plain one with redirect_to_https learns its TLS listener's port. */
async function openListeners(plan: CompiledPlan): Promise<Listener[]> {
  const opened: Listener[] = [];
  try {
    for (const l of plan.listeners) {
      const redirectPort = l.redirectTo === null ? null : plan.listeners[l.redirectTo].port;
      opened.push(await openListener(l, redirectPort, () => runtime, log));
    }
  } catch (err) {
    for (const l of opened) l.closeAll();
    throw err;
  }
  return opened;
}

openListeners(firstPlan).then(
  (opened) => {
    listeners = opened;
    send({ type: 'listening', port: opened[0].port });
  },
  (err: Error) => {
    send({ type: 'fatal', code: 'SLUICE_ERR_PORT_IN_USE', message: err.message });
    flushDestinationSync(dest);
    port.close();
  },
);
