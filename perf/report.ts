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

export interface Baseline {
  scenarios: Record<string, { ratio: number; noise: number }>;
}

/** How the run was made (written with the results; shown at the top of the reports). */
export interface RunMeta {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string | undefined;
  readonly workers: number;
  readonly connections: number;
  readonly seconds: number;
  readonly runs: number;
  readonly pinned: boolean;
  readonly quick: boolean;
}

/** The cost of a feature, from a scenario and its variant run in the same rounds (variants.ts). */
export interface Cost {
  readonly feature: string;
  /** The reports (scenario names) run with and without the feature. */
  readonly on: string;
  readonly off: string;
  /** Median of the per-round ratios req/s with ÷ req/s without; 1 = free, 0.97 = 3 % fewer req/s. */
  readonly ratio: number;
  /** Half the spread of those ratios. */
  readonly noise: number;
}

/** Everything one `npm run perf` measured: the JSON file, and what the HTML report is drawn from. */
export interface PerfResults {
  readonly meta: RunMeta;
  readonly reports: readonly ScenarioReport[];
  readonly costs: readonly Cost[];
  /** perf/baseline.json as it was when the run started, or null. */
  readonly baseline: Baseline | null;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The lowest ratio a scenario may show before it is flagged: the baseline minus the larger noise band
 * (the baseline's or this run's, at least 3 points). Null when the baseline does not have the scenario.
 */
export function floorOf(r: ScenarioReport, baseline: Baseline | null): number | null {
  const b = baseline?.scenarios[r.name];
  return b === undefined ? null : b.ratio - Math.max(b.noise, r.noise, 0.03);
}

export const isRegression = (r: ScenarioReport, baseline: Baseline | null): boolean => {
  const floor = floorOf(r, baseline);
  return floor !== null && r.ratio < floor;
};

/** A ratio is flagged when it fell below the baseline by more than the larger noise band (at least 3 points). */
export function compareWithBaseline(reports: readonly ScenarioReport[], baseline: Baseline): string[] {
  return reports
    .filter((r) => isRegression(r, baseline))
    .map((r) => {
      const b = baseline.scenarios[r.name];
      return `${r.name}: ratio ${r.ratio.toFixed(3)} fell below baseline ${b.ratio.toFixed(3)} − noise ${(b.ratio - floorOf(r, baseline)!).toFixed(3)}`;
    });
}

/** The cost of `feature` from the runs with it (`on`) and without it (`off`), paired round by round. */
export function costOf(feature: string, on: ScenarioReport, off: ScenarioReport): Cost {
  const ratios = on.sluice.map((x, i) => x.rps / off.sluice[i].rps);
  return { feature, on: on.name, off: off.name, ratio: median(ratios), noise: (Math.max(...ratios) - Math.min(...ratios)) / 2 };
}

const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function markdownTable(reports: readonly ScenarioReport[], baseline: Baseline | null): string {
  const rows = [
    '| scenario | direct req/s | sluice req/s | ratio (± noise) | baseline | sluice p50 / p99 / p99.9 ms | direct p99 ms | errors | sluice RSS MiB |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of reports) {
    const m = (xs: LoadResult[], k: 'rps' | 'p50' | 'p99' | 'p999') => median(xs.map((x) => x[k]));
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

export function costTable(costs: readonly Cost[]): string {
  if (costs.length === 0) return '';
  const rows = ['| cost of | with | without | req/s with ÷ without (± noise) |', '|---|---|---|---|'];
  for (const c of costs) rows.push(`| ${c.feature} | ${c.on} | ${c.off} | ${c.ratio.toFixed(3)} (± ${c.noise.toFixed(3)}) |`);
  return rows.join('\n');
}
