import { BUCKET_BOUNDS_S, type HistogramSnapshot, mergeHistogram, quantileMs } from './latency-histogram.js';
import { FAMILIES, type MetricFamily } from './metric-families.js';
import type { SeriesSnapshot } from './worker-metrics.js';

const BY_NAME = new Map<string, MetricFamily>(Object.values(FAMILIES).map((f) => [f.name, f]));

/**
 * The percentiles `sluice_request_duration_percentile_seconds` carries, read from the fine buckets.
 * Not a `quantile` label: Prometheus keeps that name for summaries, and this family is a gauge.
 */
export const PERCENTILES: readonly number[] = [50, 90, 99, 99.9];

/** Every worker's series added up: the same family and label values become one series. */
export function mergeSeries(lists: readonly (readonly SeriesSnapshot[])[]): SeriesSnapshot[] {
  const merged = new Map<string, SeriesSnapshot>();
  for (const list of lists) {
    for (const s of list) {
      const key = `${s.family}\u0000${s.labels.join('\u0000')}`;
      const had = merged.get(key);
      if (had === undefined) merged.set(key, s);
      else merged.set(key, { ...had, value: had.value + s.value, hist: addHistograms(had.hist, s.hist) });
    }
  }
  return [...merged.values()];
}

/** What a worker that died leaves behind: its counters and histograms (gauges die with it). */
export function countersOnly(series: readonly SeriesSnapshot[]): SeriesSnapshot[] {
  return series.filter((s) => BY_NAME.get(s.family)?.type !== 'gauge');
}

/** Which gauge family carries the percentiles of which histogram family. */
const PERCENTILES_OF = new Map([
  [FAMILIES.requestDuration.name, FAMILIES.requestPercentiles.name],
  [FAMILIES.tryDuration.name, FAMILIES.tryPercentiles.name],
]);

/** p50/p90/p99/p99.9 of every route's and upstream's duration histogram, as gauges. */
export function quantileSeries(series: readonly SeriesSnapshot[]): SeriesSnapshot[] {
  const out: SeriesSnapshot[] = [];
  for (const s of series) {
    const name = PERCENTILES_OF.get(s.family);
    if (name === undefined || s.hist === null || s.hist.count === 0) continue;
    for (const p of PERCENTILES) out.push({ family: name, labels: [...s.labels, String(p)], value: quantileMs(s.hist, p / 100) / 1000, hist: null });
  }
  return out;
}

export const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/**
 * The text exposition format: Prometheus 0.0.4, or OpenMetrics 1.0 (counter families named without
 * `_total` in their TYPE line, and `# EOF` at the end). Families come in the order of FAMILIES.
 */
export function renderMetrics(series: readonly SeriesSnapshot[], openMetrics: boolean): string {
  const byFamily = new Map<string, SeriesSnapshot[]>();
  for (const s of series) {
    const list = byFamily.get(s.family);
    if (list === undefined) byFamily.set(s.family, [s]);
    else list.push(s);
  }
  const lines: string[] = [];
  for (const f of Object.values(FAMILIES)) {
    const list = byFamily.get(f.name);
    if (list === undefined) continue;
    const typeName = openMetrics && f.type === 'counter' ? f.name.replace(/_total$/, '') : f.name;
    lines.push(`# HELP ${typeName} ${escapeHelp(f.help)}`, `# TYPE ${typeName} ${f.type}`);
    for (const s of list) {
      const labels = labelText(f, s.labels);
      if (f.type === 'histogram') histogramLines(lines, f.name, labels, s.hist);
      else lines.push(`${f.name}${braces(labels)} ${number(s.value)}`);
    }
  }
  if (openMetrics) lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

function histogramLines(lines: string[], name: string, labels: string, h: HistogramSnapshot | null): void {
  const sep = labels === '' ? '' : ',';
  let cumulative = 0;
  const buckets = h === null ? [] : h.buckets;
  BUCKET_BOUNDS_S.forEach((le, i) => {
    cumulative += buckets[i] ?? 0;
    lines.push(`${name}_bucket{${labels}${sep}le="${le}"} ${cumulative}`);
  });
  const count = h === null ? 0 : h.count;
  lines.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${count}`);
  lines.push(`${name}_sum${braces(labels)} ${number(h === null ? 0 : h.sumMs / 1000)}`);
  lines.push(`${name}_count${braces(labels)} ${count}`);
}

function labelText(f: MetricFamily, values: readonly string[]): string {
  return f.labels.map((l, i) => `${l}="${escapeLabel(values[i] ?? '')}"`).join(',');
}

function braces(labels: string): string {
  return labels === '' ? '' : `{${labels}}`;
}

function number(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  return String(n);
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function addHistograms(a: HistogramSnapshot | null, b: HistogramSnapshot | null): HistogramSnapshot | null {
  if (a === null) return b;
  if (b === null) return a;
  return mergeHistogram(a, b);
}
