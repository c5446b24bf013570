import type { ErrorCode } from '../errors/catalog.js';
import { type HistogramSnapshot, LatencyHistogram } from './latency-histogram.js';
import { FAMILIES, type FamilyKey } from './metric-families.js';

/** A number a hot path adds to: `c.value++` is the whole cost. */
export interface Counter {
  value: number;
}

/** One labelled series of a family, as a worker keeps it. */
class Series implements Counter {
  value = 0;
  hist: LatencyHistogram | null = null;
  constructor(
    readonly family: string,
    readonly labels: readonly string[],
  ) {}
}

/** One series as it crosses to the primary: a value, or a histogram. */
export interface SeriesSnapshot {
  readonly family: string;
  readonly labels: readonly string[];
  readonly value: number;
  readonly hist: HistogramSnapshot | null;
}

/**
 * A worker's metrics for its whole life: series are found by family and label values, and outlive
 * config generations, so a counter never goes back when a reload rebuilds routes and upstreams. Each
 * runtime resolves the series it writes once, when it is built (RouteMetrics, UpstreamMetrics); the
 * hot path only adds. The primary asks for a snapshot at scrape time (worker/main.ts) and merges
 * every worker's (primary/metrics-scrape.ts).
 */
export class WorkerMetrics {
  private readonly series = new Map<string, Series>();
  private readonly routes = new Map<string, RouteMetrics>();
  private readonly upstreams = new Map<string, UpstreamMetrics>();
  /** Values read at snapshot time (in-flight counts, pool sizes): replaced on every snapshot. */
  private readonly gauges: Array<() => SeriesSnapshot[]> = [];

  counter(f: FamilyKey, labels: readonly string[]): Counter {
    return this.get(f, labels);
  }

  histogram(f: FamilyKey, labels: readonly string[]): LatencyHistogram {
    const s = this.get(f, labels);
    s.hist ??= new LatencyHistogram();
    return s.hist;
  }

  route(name: string): RouteMetrics {
    let r = this.routes.get(name);
    if (r === undefined) this.routes.set(name, (r = new RouteMetrics(this, name)));
    return r;
  }

  upstream(name: string): UpstreamMetrics {
    let u = this.upstreams.get(name);
    if (u === undefined) this.upstreams.set(name, (u = new UpstreamMetrics(this, name)));
    return u;
  }

  /**
   * Drop every series of a route, upstream or endpoint the config no longer has (a reload renamed
   * it, discovery replaced an address): kept forever, renames and address churn would grow them
   * without bound. One that comes back starts again from zero, which rate() reads as a reset.
   */
  forgetAllBut(current: ConfigNames): void {
    for (const [key, s] of this.series) if (!inConfig(s, current)) this.series.delete(key);
    for (const name of this.routes.keys()) if (name !== '' && !current.routes.has(name)) this.routes.delete(name);
    for (const name of this.upstreams.keys()) if (!current.upstreams.has(name)) this.upstreams.delete(name);
  }

  /** Series whose values are read when a snapshot is taken, not recorded as they happen. */
  addGauges(read: () => SeriesSnapshot[]): void {
    this.gauges.push(read);
  }

  snapshot(): SeriesSnapshot[] {
    const out: SeriesSnapshot[] = [];
    for (const s of this.series.values()) {
      out.push({ family: s.family, labels: s.labels, value: s.value, hist: s.hist === null ? null : s.hist.snapshot() });
    }
    for (const r of this.routes.values()) out.push(readSeries('inFlight', [r.name], r.inFlight));
    for (const read of this.gauges) out.push(...read());
    return out;
  }

  private get(f: FamilyKey, labels: readonly string[]): Series {
    const name = FAMILIES[f].name;
    const key = `${name}\u0000${labels.join('\u0000')}`;
    let s = this.series.get(key);
    if (s === undefined) this.series.set(key, (s = new Series(name, labels)));
    return s;
  }
}

/** The names a config has: series labelled with others belong to an earlier config. */
export interface ConfigNames {
  readonly routes: ReadonlySet<string>;
  readonly upstreams: ReadonlySet<string>;
  readonly endpoints: ReadonlySet<string>;
}

const LABELS_BY_NAME = new Map(Object.values(FAMILIES).map((f) => [f.name, f.labels]));

/** Whether every route, upstream and endpoint label of the series names one the config has (route "" always). */
export function inConfig(s: { readonly family: string; readonly labels: readonly string[] }, current: ConfigNames): boolean {
  const labels = LABELS_BY_NAME.get(s.family) ?? [];
  for (let i = 0; i < labels.length; i++) {
    const v = s.labels[i];
    if (labels[i] === 'route' && v !== '' && !current.routes.has(v)) return false;
    if (labels[i] === 'upstream' && !current.upstreams.has(v)) return false;
    if (labels[i] === 'endpoint' && !current.endpoints.has(v)) return false;
  }
  return true;
}

/**
 * A series whose value is read at scrape time rather than counted as it happens: a gauge (pool
 * sizes, health), or a counter kept elsewhere (reloads, restarts, discovery errors).
 */
export function readSeries(f: FamilyKey, labels: readonly string[], value: number): SeriesSnapshot {
  return { family: FAMILIES[f].name, labels, value, hist: null };
}

/** What a finished request tells its route's metrics. */
export interface FinishedRequest {
  readonly status: number;
  readonly errorCode: ErrorCode | null;
  readonly bytesOut: number;
  /** Request body bytes as received. */
  readonly bytesIn: number;
  readonly durationMs: number;
  readonly tries: number;
  readonly upstreamName: string | null;
  /** The stage that answered the request itself, or null. */
  readonly answeredBy: string | null;
}

/** One route's series, by name: the same object for every generation that has the route. */
export class RouteMetrics {
  /** Requests started on this route and not finished (the front door adds, finished() takes away). */
  inFlight = 0;
  /** Answers without a gateway error code, by status class (index = status / 100). */
  private readonly plain: Counter[];
  private readonly coded = new Map<ErrorCode, Counter[]>();
  private readonly local = new Map<string, Counter>();
  private readonly retries = new Map<string, Counter>();
  private readonly requestBytes: Counter;
  private readonly responseBytes: Counter;
  private readonly duration: LatencyHistogram;

  constructor(
    private readonly all: WorkerMetrics,
    readonly name: string,
  ) {
    this.plain = this.byClass('');
    this.requestBytes = all.counter('requestBytes', [name]);
    this.responseBytes = all.counter('responseBytes', [name]);
    this.duration = all.histogram('requestDuration', [name]);
  }

  /** The request is over. */
  finished(r: FinishedRequest): void {
    const cls = r.status < 100 || r.status > 599 ? 0 : (r.status / 100) | 0;
    const code = r.errorCode;
    if (code === null) this.plain[cls].value++;
    else this.codedCounters(code)[cls].value++;
    this.requestBytes.value += r.bytesIn;
    this.responseBytes.value += r.bytesOut;
    this.duration.record(r.durationMs);
    if (r.answeredBy !== null) this.localCounter(r.answeredBy).value++;
    if (r.tries > 1 && r.upstreamName !== null) this.retryCounter(r.upstreamName).value += r.tries - 1;
  }

  /** Counters for one code, made the first time a request of this route gets it. */
  private codedCounters(code: ErrorCode): Counter[] {
    let c = this.coded.get(code);
    if (c === undefined) this.coded.set(code, (c = this.byClass(code)));
    return c;
  }

  private byClass(code: string): Counter[] {
    return ['', '1xx', '2xx', '3xx', '4xx', '5xx'].map((cls) => (cls === '' ? { value: 0 } : this.all.counter('requests', [this.name, cls, code])));
  }

  private localCounter(stage: string): Counter {
    let c = this.local.get(stage);
    if (c === undefined) this.local.set(stage, (c = this.all.counter('localReplies', [this.name, stage])));
    return c;
  }

  private retryCounter(upstream: string): Counter {
    let c = this.retries.get(upstream);
    if (c === undefined) this.retries.set(upstream, (c = this.all.counter('retries', [this.name, upstream])));
    return c;
  }
}

/** One upstream's series, by name; endpoints' counters are resolved per generation (endpoints()). */
export class UpstreamMetrics {
  readonly tryDuration: LatencyHistogram;
  readonly budgetRefusals: Counter;

  constructor(
    private readonly all: WorkerMetrics,
    readonly name: string,
  ) {
    this.tryDuration = all.histogram('tryDuration', [name]);
    this.budgetRefusals = all.counter('budgetRefusals', [name]);
  }

  /** Counters of one endpoint (its origin) of this upstream. */
  endpoint(origin: string): EndpointMetrics {
    return {
      ok: this.all.counter('tries', [this.name, origin, 'ok']),
      failed: this.all.counter('tries', [this.name, origin, 'failed']),
      ejections: this.all.counter('ejections', [this.name, origin]),
      resends: this.all.counter('resends', [this.name, origin]),
    };
  }
}

export interface EndpointMetrics {
  readonly ok: Counter;
  readonly failed: Counter;
  readonly ejections: Counter;
  readonly resends: Counter;
}
