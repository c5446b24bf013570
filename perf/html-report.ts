import type { LoadResult } from './load.js';
import { type Baseline, type Cost, floorOf, isRegression, median, type PerfResults, type ScenarioReport } from './report.js';
import { circle, esc, line, linear, logarithmic, logTicks, polyline, rect, type Scale, svg, text, ticks } from './svg.js';

/**
 * The HTML report of one `npm run perf`: one self-contained file (inline CSS and SVG, no script, no
 * network), drawn from the same results as the markdown table and flagged by the same rule
 * (report.ts, `isRegression`). From the top: the verdict, every scenario's ratio against its baseline
 * band, the cost of each feature measured with a variant, then one card per scenario: req/s, p50/p99
 * and the latency by percentile, direct against sluice, a dot or a line per run.
 */
export function htmlReport(results: PerfResults): string {
  const { meta, reports, costs, baseline } = results;
  // A quick run (1 run × 1 s) is a smoke test: its baseline is drawn but nothing is flagged, as in the text report.
  const flagged = new Set(meta.quick ? [] : reports.filter((r) => isRegression(r, baseline)).map((r) => r.name));
  const view: View = { baseline, flagged };
  const title = `sluice perf, ${meta.date}${meta.quick ? ' (quick)' : ''}`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<h1>${esc(title)}</h1>`,
    `<p class="meta">${esc(describeRun(results))}</p>`,
    verdict(results, flagged),
    '<h2>Ratio sluice ÷ direct, per scenario</h2>',
    '<p class="legend">Dot: median of the runs; small dots: each run; black tick: the baseline (perf/baseline.json); grey band: ' +
      'its noise band (at least 0.03). A median left of the band is a regression (red).</p>',
    overview(reports, view),
    costSection(costs, reports),
    '<h2>Scenarios</h2>',
    ...reports.map((r) => scenarioCard(r, view)),
    '</body></html>',
    '',
  ].join('\n');
}

/** What the drawings need besides a scenario: the baseline, and which scenarios are regressions. */
interface View {
  readonly baseline: Baseline | null;
  readonly flagged: ReadonlySet<string>;
}

const COLOR = { direct: '#7c8591', sluice: '#2563eb', regression: '#dc2626', baseline: '#111827', band: '#d9dde3' } as const;

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111827; max-width: 1320px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px; } h3 { font-size: 16px; margin: 0; }
.meta, .legend, .what { color: #4b5563; margin: 2px 0 8px; }
.verdict { padding: 10px 14px; border-radius: 6px; font-weight: 600; font-size: 16px; }
.verdict.ok { background: #dcfce7; color: #14532d; } .verdict.bad { background: #fee2e2; color: #7f1d1d; border: 2px solid ${COLOR.regression}; }
.verdict.none { background: #f3f4f6; color: #374151; }
.scenario { border: 1px solid #e5e7eb; border-radius: 6px; padding: 10px 14px; margin: 12px 0; }
.scenario.regression { border: 2px solid ${COLOR.regression}; background: #fff7f7; }
.flag { color: #fff; background: ${COLOR.regression}; border-radius: 4px; padding: 1px 8px; font-size: 13px; margin-left: 8px; }
table { border-collapse: collapse; } td, th { padding: 4px 10px; border-bottom: 1px solid #e5e7eb; text-align: right; }
td:first-child, th:first-child { text-align: left; }
svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, sans-serif; fill: #374151; paint-order: stroke; stroke: #fff; stroke-width: 3px; stroke-linejoin: round; }
svg .title { font-weight: 600; fill: #111827; }
a { color: inherit; }
`;

function describeRun({ meta }: PerfResults): string {
  return (
    `${meta.runs} run(s) × ${meta.seconds} s × ${meta.connections} connections per target, interleaved; ` +
    `${meta.workers} worker(s)${meta.pinned ? ', pinned' : ''}; node ${meta.node}; ${meta.cpus} × ${meta.cpuModel ?? 'CPU'}`
  );
}

function verdict(results: PerfResults, flagged: ReadonlySet<string>): string {
  if (results.meta.quick) return '<p class="verdict none">Quick run (a smoke test): not compared with the baseline.</p>';
  if (results.baseline === null) return '<p class="verdict none">No perf/baseline.json: nothing to compare with.</p>';
  const bad = results.reports.filter((r) => flagged.has(r.name));
  if (bad.length === 0) return '<p class="verdict ok">No regression: every ratio is within its baseline’s noise band (or above it).</p>';
  const names = bad.map((r) => `<a href="#${anchor(r.name)}">${esc(r.name)}</a>`).join(', ');
  return `<p class="verdict bad">Regression in ${bad.length} scenario(s): ${names}. The ratio sluice ÷ direct fell below its baseline minus the noise band.</p>`;
}

const anchor = (name: string) => `s-${name.replace(/[^A-Za-z0-9_-]/g, '_')}`;
const ratiosOf = (r: ScenarioReport) => r.sluice.map((x, i) => x.rps / r.direct[i].rps);
const med = (xs: readonly LoadResult[], k: 'rps' | 'p50' | 'p99' | 'p999') => median(xs.map((x) => x[k]));
const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** One row per scenario: its ratio (median and runs) against the baseline and its noise band. */
function overview(reports: readonly ScenarioReport[], { baseline, flagged }: View): string {
  const rowH = 26;
  const top = 24;
  const height = top + rowH * reports.length + 10;
  const maxRatio = Math.max(1, ...reports.flatMap((r) => [...ratiosOf(r), baseline?.scenarios[r.name]?.ratio ?? 0])) * 1.05;
  const x = linear(0, maxRatio, 250, 860);
  const parts: string[] = [];
  for (const t of ticks(maxRatio, 10).filter((t) => t <= maxRatio)) {
    parts.push(line(x(t), top - 4, x(t), height - 10, 'stroke="#eef0f3"'), text(x(t), top - 8, fmt(t, 1), 'text-anchor="middle"'));
  }
  reports.forEach((r, i) => {
    const y = top + rowH * i + rowH / 2;
    const bad = flagged.has(r.name);
    const b = baseline?.scenarios[r.name];
    const floor = floorOf(r, baseline);
    if (bad) parts.push(rect(0, y - rowH / 2, 1300, rowH, 'fill="#fee2e2"'));
    parts.push(`<a href="#${anchor(r.name)}">${text(240, y + 4, r.name, 'text-anchor="end"')}</a>`);
    if (b !== undefined && floor !== null) {
      parts.push(
        rect(x(floor), y - 8, x(b.ratio) - x(floor), 16, `fill="${COLOR.band}"`),
        line(x(b.ratio), y - 10, x(b.ratio), y + 10, `stroke="${COLOR.baseline}" stroke-width="2"`),
      );
    }
    const color = bad ? COLOR.regression : COLOR.sluice;
    for (const q of ratiosOf(r)) parts.push(circle(x(q), y, 3, `fill="${color}" fill-opacity="0.45"`));
    parts.push(circle(x(r.ratio), y, 6, `fill="${color}"`));
    const label = `${r.ratio.toFixed(3)} ± ${r.noise.toFixed(3)}` + (b ? ` · baseline ${b.ratio.toFixed(3)}` : ' · no baseline') + (bad ? ' · REGRESSION' : '');
    parts.push(text(875, y + 4, label, bad ? `style="fill:${COLOR.regression};font-weight:600"` : ''));
  });
  return svg(1300, height, parts.join(''), 'ratio sluice ÷ direct per scenario against the baseline');
}

/** The cost of each feature measured with a variant (variants.ts): req/s and p99 with and without it. */
function costSection(costs: readonly Cost[], reports: readonly ScenarioReport[]): string {
  if (costs.length === 0) return '';
  const byName = new Map(reports.map((r) => [r.name, r]));
  const rows = costs.map((c) => {
    const on = byName.get(c.on)!;
    const off = byName.get(c.off)!;
    const share = (1 - c.ratio) * 100;
    return (
      `<tr><td>cost of the <b>${esc(c.feature)}</b></td><td>${esc(c.on)}</td><td>${esc(c.off)}</td>` +
      `<td>${fmt(med(on.sluice, 'rps'))}</td><td>${fmt(med(off.sluice, 'rps'))}</td>` +
      `<td><b>${c.ratio.toFixed(3)}</b> (± ${c.noise.toFixed(3)})</td>` +
      `<td>${Math.abs(share) <= c.noise * 100 ? 'within the noise' : share >= 0 ? `${fmt(share, 1)} % fewer` : `${fmt(-share, 1)} % more`}</td>` +
      `<td>${fmt(med(on.sluice, 'p99'), 2)} / ${fmt(med(off.sluice, 'p99'), 2)}</td></tr>`
    );
  });
  return [
    '<h2>Cost of features (variants run in the same rounds)</h2>',
    '<p class="legend">Each ratio is the median of the per-round ratios req/s with the feature ÷ req/s without it; ' +
      'the noise is half their spread. A cost inside the noise is not measurable on this run.</p>',
    '<table class="costs"><tr><th>feature</th><th>with</th><th>without</th><th>req/s with</th><th>req/s without</th>' +
      '<th>with ÷ without</th><th>req/s</th><th>p99 ms with / without</th></tr>',
    ...rows,
    '</table>',
  ].join('\n');
}

/** One scenario: req/s and p50/p99 (direct vs sluice, dots per run, the baseline's expectation) and the percentile plot. */
function scenarioCard(r: ScenarioReport, { baseline, flagged }: View): string {
  const bad = flagged.has(r.name);
  const errors = [...r.direct, ...r.sluice].reduce((n, x) => n + x.errors, 0);
  const body = [throughputPanel(r, baseline, bad), latencyPanel(r, bad), percentilePanel(r, bad)].join('');
  return [
    `<section class="scenario${bad ? ' regression' : ''}" id="${anchor(r.name)}" data-scenario="${esc(r.name)}">`,
    `<h3>${esc(r.name)}${bad ? '<span class="flag">REGRESSION</span>' : ''}</h3>`,
    `<p class="what">${esc(r.what)} · ratio ${r.ratio.toFixed(3)} ± ${r.noise.toFixed(3)}` +
      `${baseline?.scenarios[r.name] ? ` (baseline ${baseline.scenarios[r.name].ratio.toFixed(3)})` : ''} · ` +
      `errors ${errors} · sluice RSS ${r.rssMiB} MiB</p>`,
    svg(1290, 250, body, `${r.name}: req/s, latency and percentiles, direct and sluice`),
    '</section>',
  ].join('\n');
}

const PANEL = { top: 30, bottom: 215 } as const;

/** Bars for the median req/s of direct and sluice, a dot per run; the band where the baseline expects sluice. */
function throughputPanel(r: ScenarioReport, baseline: Baseline | null, bad: boolean): string {
  const direct = med(r.direct, 'rps');
  const b = baseline?.scenarios[r.name];
  const max = Math.max(...r.direct.map((x) => x.rps), ...r.sluice.map((x) => x.rps));
  const yTicks = ticks(max, 4);
  const y = linear(0, yTicks[yTicks.length - 1], PANEL.bottom, PANEL.top);
  const parts = [text(0, 14, 'req/s', 'class="title"'), ...axisY(yTicks, y, 55, 300, (v) => fmt(v))];
  const floor = floorOf(r, baseline);
  if (b !== undefined && floor !== null) {
    // Where sluice should be, given this run's direct req/s: baseline ratio × direct, and the flag line below it.
    parts.push(
      rect(175, y(b.ratio * direct), 90, y(floor * direct) - y(b.ratio * direct), `fill="${COLOR.band}"`),
      line(170, y(b.ratio * direct), 270, y(b.ratio * direct), `stroke="${COLOR.baseline}" stroke-width="2" stroke-dasharray="5 3"`),
      text(272, y(b.ratio * direct) + 4, 'baseline'),
    );
  }
  parts.push(
    ...bar(
      r.direct.map((x) => x.rps),
      80,
      70,
      y,
      COLOR.direct,
      'direct',
    ),
    ...bar(
      r.sluice.map((x) => x.rps),
      185,
      70,
      y,
      bad ? COLOR.regression : COLOR.sluice,
      'sluice',
    ),
  );
  return `<g>${parts.join('')}</g>`;
}

/** A bar at the median of `values` with a dot per value and the median written above them. */
function bar(values: readonly number[], x: number, w: number, y: Scale, color: string, label: string, digits = 0): string[] {
  const m = median([...values]);
  const parts = [
    rect(x, y(m), w, PANEL.bottom - y(m), `fill="${color}" fill-opacity="0.8"`),
    text(x + w / 2, y(Math.max(...values)) - 7, fmt(m, digits), 'text-anchor="middle"'),
  ];
  values.forEach((v, i) => {
    parts.push(circle(x + w / 2 + (i - (values.length - 1) / 2) * 8, y(v), 3, `fill="#fff" stroke="${COLOR.baseline}" stroke-width="1.2"`));
  });
  parts.push(text(x + w / 2, PANEL.bottom + 16, label, 'text-anchor="middle"'));
  return parts;
}

function axisY(values: readonly number[], y: Scale, x0: number, x1: number, label: (v: number) => string): string[] {
  return values.flatMap((v) => [line(x0, y(v), x1, y(v), 'stroke="#eef0f3"'), text(x0 - 5, y(v) + 4, label(v), 'text-anchor="end"')]);
}

/** p50 and p99 in ms: direct and sluice side by side, a dot per run. */
function latencyPanel(r: ScenarioReport, bad: boolean): string {
  const ox = 340;
  const max = Math.max(...[...r.direct, ...r.sluice].map((x) => x.p99));
  const yTicks = ticks(max, 4);
  const y = linear(0, yTicks[yTicks.length - 1], PANEL.bottom, PANEL.top);
  const parts = [text(ox, 14, 'latency, ms (p50, p99)', 'class="title"'), ...axisY(yTicks, y, ox + 45, ox + 330, (v) => fmt(v, v < 1 ? 2 : 1))];
  const sluiceColor = bad ? COLOR.regression : COLOR.sluice;
  (['p50', 'p99'] as const).forEach((k, g) => {
    const gx = ox + 60 + g * 140;
    parts.push(
      ...bar(
        r.direct.map((x) => x[k]),
        gx,
        55,
        y,
        COLOR.direct,
        'direct',
        2,
      ),
      ...bar(
        r.sluice.map((x) => x[k]),
        gx + 62,
        55,
        y,
        sluiceColor,
        'sluice',
        2,
      ),
      text(gx + 58, PANEL.bottom + 32, k, 'text-anchor="middle" class="title"'),
    );
  });
  return `<g>${parts.join('')}</g>`;
}

/** Latency by percentile as HdrHistogram plots it: x is 1 / (1 − p) on a log scale; a line per run. */
function percentilePanel(r: ScenarioReport, bad: boolean): string {
  const ox = 730;
  const width = 540;
  const curves = [...r.direct, ...r.sluice].map((x) => (x.curve ?? []).filter(([p]) => p < 100));
  const all = curves.flat();
  const parts = [text(ox, 14, 'latency by percentile, ms (log scales)', 'class="title"')];
  if (all.length === 0) return `<g>${parts.join('')}${text(ox, 60, 'no histogram in these results')}</g>`;
  const nines = Math.max(1, Math.ceil(Math.max(...all.map(([p]) => Math.log10(100 / (100 - p))))));
  const x = logarithmic(1, 10 ** nines, ox + 50, ox + width - 10);
  const lo = Math.min(...all.map(([, ms]) => ms).filter((ms) => ms > 0));
  const hi = Math.max(...all.map(([, ms]) => ms));
  const yLo = roundDown125(lo);
  const yHi = roundUp125(hi);
  const y = logarithmic(yLo, yHi, PANEL.bottom, PANEL.top);
  parts.push(...axisY(logTicks(yLo, yHi), y, ox + 50, ox + width - 10, (v) => fmt(v, v < 1 ? String(v).length - 2 : 0)));
  for (let d = 0; d <= nines; d++) {
    const label = d === 0 ? '0%' : `${(100 - 100 / 10 ** d).toFixed(Math.max(0, d - 2))}%`;
    parts.push(line(x(10 ** d), PANEL.top, x(10 ** d), PANEL.bottom, 'stroke="#eef0f3"'), text(x(10 ** d), PANEL.bottom + 16, label, 'text-anchor="middle"'));
  }
  const toXY = (c: readonly (readonly [number, number])[]) => c.map(([p, ms]): [number, number] => [x(100 / (100 - p)), y(ms)]);
  const sluiceColor = bad ? COLOR.regression : COLOR.sluice;
  curves.forEach((c, i) => {
    const color = i < r.direct.length ? COLOR.direct : sluiceColor;
    parts.push(polyline(toXY(c), `stroke="${color}" stroke-width="1.8" stroke-opacity="0.85"`));
  });
  // The legend sits beside the title, above the plot, where no curve can run under it.
  parts.push(
    line(ox + 280, 10, ox + 300, 10, `stroke="${COLOR.direct}" stroke-width="3"`),
    text(ox + 305, 14, 'direct'),
    line(ox + 355, 10, ox + 375, 10, `stroke="${sluiceColor}" stroke-width="3"`),
    text(ox + 380, 14, 'sluice (a line per run)'),
    text(ox + width / 2 + 20, PANEL.bottom + 32, 'percentile', 'text-anchor="middle"'),
  );
  return `<g>${parts.join('')}</g>`;
}

/** The largest 1, 2 or 5 × 10^n at or below x, and the smallest at or above it: the ends of a log axis. */
function roundDown125(x: number): number {
  const e = 10 ** Math.floor(Math.log10(x));
  return [5, 2, 1].map((m) => m * e).find((v) => v <= x) ?? e;
}

function roundUp125(x: number): number {
  const e = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * e).find((v) => v >= x * 0.9999) ?? 10 * e;
}
