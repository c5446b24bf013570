import type { LoadResult } from './load.js';

export interface ScenarioReport {
  readonly name: string;
  readonly what: string;
  readonly direct: LoadResult[];
  readonly sluice: LoadResult[];
  /** Median of the per-run ratios sluice req/s ÷ direct req/s (runs are paired and interleaved). */
  readonly ratio: number;
  /** Half the spread of the per-run ratios: the noise band of this run. */
  readonly noise: number;
  /** Gateway process RSS (all workers) right after the scenario. */
  readonly rssMiB: number;
}

interface Baseline {
  scenarios: Record<string, { ratio: number; noise: number }>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A ratio is flagged when it fell below the baseline by more than the larger noise band (at least 3 points). */
export function compareWithBaseline(reports: ScenarioReport[], baseline: Baseline): string[] {
  const flags: string[] = [];
  for (const r of reports) {
    const b = baseline.scenarios[r.name];
    if (b === undefined) continue;
    const band = Math.max(b.noise, r.noise, 0.03);
    if (r.ratio < b.ratio - band) flags.push(`${r.name}: ratio ${r.ratio.toFixed(3)} fell below baseline ${b.ratio.toFixed(3)} − noise ${band.toFixed(3)}`);
  }
  return flags;
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function markdownTable(reports: ScenarioReport[], baseline: Baseline | null): string {
  const rows = [
    '| scenario | direct req/s | sluice req/s | ratio (± noise) | baseline | sluice p50 / p99 / p99.9 ms | direct p99 ms | errors | sluice RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of reports) {
    const m = (xs: LoadResult[], k: keyof LoadResult) => median(xs.map((x) => x[k]));
    const errors = [...r.direct, ...r.sluice].reduce((n, x) => n + x.errors, 0);
    const b = baseline?.scenarios[r.name];
    rows.push(
      `| ${r.name} | ${fmt(m(r.direct, 'rps'))} | ${fmt(m(r.sluice, 'rps'))} | ${r.ratio.toFixed(3)} (± ${r.noise.toFixed(3)}) | ` +
        `${b ? b.ratio.toFixed(3) : '—'} | ${fmt(m(r.sluice, 'p50'), 2)} / ${fmt(m(r.sluice, 'p99'), 2)} / ${fmt(m(r.sluice, 'p999'), 2)} | ` +
        `${fmt(m(r.direct, 'p99'), 2)} | ${errors} | ${r.rssMiB} |`,
    );
  }
  return rows.join('\n');
}
