import { getHeapStatistics } from 'node:v8';
import { type CompiledPlan, planNames, type UpstreamPlan } from '../compile/plan.js';
import type { SourceStatus } from '../discovery/discovery.js';
import { mergeSeries, quantileSeries } from '../observe/exposition.js';
import { FAMILIES } from '../observe/metric-families.js';
import { inConfig, readSeries, type SeriesSnapshot } from '../observe/worker-metrics.js';
import { nowMs } from '../shared/clock.js';
import type { EndpointHealth } from '../shared/endpoint-health.js';
import { BREAKER_STATES, type UpstreamTable } from '../shared/upstream-table.js';
import type { Supervisor, WorkerScrape } from './supervisor.js';

/** Reloads since the start, as GET /metrics and the dashboard show them. */
export interface ReloadCounts {
  ok: number;
  failed: number;
  /** The latest reload was applied (true before any). */
  lastOk: boolean;
}

/** What a scrape reads besides the workers. */
export interface ScrapeSources {
  readonly supervisor: Supervisor;
  /** The plan workers run now (with discovered endpoints). */
  readonly plan: () => CompiledPlan;
  readonly health: EndpointHealth;
  readonly table: UpstreamTable;
  /** How each upstream's discovery source is doing, by upstream name. */
  readonly discovery: ReadonlyMap<string, SourceStatus>;
  readonly reloads: ReloadCounts;
  /** Date.now() when the process started. */
  readonly startedAt: number;
}

export interface Scrape {
  /** Every series, merged across workers (and the threads that died), plus the primary's own. */
  readonly series: SeriesSnapshot[];
  readonly workers: WorkerScrape[];
}

/** GET /metrics and GET /workers: ask every worker, add the primary's view of shared memory and itself. */
export async function scrape(src: ScrapeSources): Promise<Scrape> {
  const workers = await src.supervisor.scrape();
  const names = planNames(src.plan());
  // Threads that died, and workers that answered before the last reload, may still hold series of
  // routes, upstreams and endpoints the config no longer has.
  const fromWorkers = [src.supervisor.retiredSeries, ...workers.map((w) => w.series)].map((list) => list.filter((s) => inConfig(s, names)));
  const merged = mergeSeries([...fromWorkers, upstreamSeries(src), processSeries(src, workers)]);
  return { series: [...merged, ...quantileSeries(merged)], workers };
}

/** Circuit, health and in-flight counts as every worker sees them: read from the shared tables. */
function upstreamSeries(src: ScrapeSources): SeriesSnapshot[] {
  const now = nowMs();
  const out: SeriesSnapshot[] = [];
  for (const u of src.plan().upstreams) {
    if (u.breaker !== null) {
      const state = src.table.breakerState(u.row);
      BREAKER_STATES.forEach((name, i) => out.push(readSeries('circuit', [u.name, name], i === state ? 1 : 0)));
    }
    out.push(readSeries('upstreamInFlight', [u.name], src.table.inFlight(u.row)));
    out.push(readSeries('discoveryEndpoints', [u.name, u.discovery.kind], u.endpoints.length));
    discoverySeries(out, u, src.discovery.get(u.name));
    for (const e of u.endpoints) {
      out.push(readSeries('healthy', [u.name, e.origin], src.health.isHealthy(e.row, now) ? 1 : 0));
      out.push(readSeries('ejected', [u.name, e.origin], src.health.isEjected(e.row, now) ? 1 : 0));
    }
  }
  return out;
}

/** A source's state beside its endpoint count, so a broken one shows before its endpoints go stale. */
function discoverySeries(out: SeriesSnapshot[], u: UpstreamPlan, status: SourceStatus | undefined): void {
  if (u.discovery.kind === 'static') return;
  const labels = [u.name, u.discovery.kind];
  out.push(readSeries('discoveryUp', labels, status?.up === true ? 1 : 0));
  out.push(readSeries('discoveryLastSuccess', labels, Math.floor((status?.lastSuccessMs ?? 0) / 1000)));
  out.push(readSeries('discoveryErrors', labels, status?.errors ?? 0));
}

function processSeries(src: ScrapeSources, workers: readonly WorkerScrape[]): SeriesSnapshot[] {
  const r = src.reloads;
  return [
    ...workers.map((w) => readSeries('workerUp', [String(w.index)], w.answered ? 1 : 0)),
    readSeries('restarts', [], src.supervisor.restarts),
    readSeries('generation', [], src.plan().generation),
    readSeries('reloads', ['ok'], r.ok),
    readSeries('reloads', ['failed'], r.failed),
    readSeries('lastReload', [], r.lastOk ? 1 : 0),
    readSeries('rss', [], process.memoryUsage.rss()),
    readSeries('primaryHeap', [], getHeapStatistics().used_heap_size),
    readSeries('startTime', [], Math.floor(src.startedAt / 1000)),
  ];
}

/** GET /workers: one row per configured worker. */
export function describeWorkers(s: Scrape, generation: number): unknown {
  return {
    generation,
    workers: s.workers.map((w) => {
      const read = (family: string) => (w.answered ? (w.series.find((x) => x.family === family)?.value ?? null) : null);
      const delay = read(FAMILIES.eventLoopDelay.name);
      return {
        index: w.index,
        alive: w.answered,
        generation: w.generation,
        restarts: w.restarts,
        in_flight: read(FAMILIES.workerInFlight.name),
        event_loop_delay_p99_ms: delay === null ? null : delay * 1000,
        heap_used_bytes: read(FAMILIES.heapUsed.name),
      };
    }),
  };
}
