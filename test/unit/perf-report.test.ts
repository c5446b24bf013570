import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import { htmlReport } from '../../perf/html-report.js';
import { type LoadResult, percentileCurve } from '../../perf/load.js';
import type { PerfResults, ScenarioReport } from '../../perf/report.js';

/** A run with a latency curve rising from `p50` ms. */
function run(rps: number, p50: number): LoadResult {
  const curve: [number, number][] = [0, 50, 90, 99, 99.9, 100].map((p, i) => [p, p50 * (1 + i)]);
  return { rps, p50, p99: p50 * 4, p999: p50 * 5, requests: rps * 5, errors: 0, curve };
}

function scenario(name: string, what: string, sluice: number[], direct: number[]): ScenarioReport {
  const ratios = sluice.map((x, i) => x / direct[i]);
  return {
    name,
    what,
    direct: direct.map((x) => run(x, 0.5)),
    sluice: sluice.map((x) => run(x, 2)),
    ratio: [...ratios].sort((a, b) => a - b)[1],
    noise: (Math.max(...ratios) - Math.min(...ratios)) / 2,
    rssMiB: 140,
  };
}

/** tiny-get holds its baseline, get-4k fell far below its own, tiny-get+log-off is a variant. */
function results(quick = false): PerfResults {
  return {
    meta: {
      date: '2026-12-07T22:00:00.000Z',
      node: 'v20.20.2',
      cpus: 2,
      cpuModel: 'AMD EPYC',
      workers: 1,
      connections: 64,
      seconds: 5,
      runs: 3,
      pinned: false,
      quick,
    },
    reports: [
      scenario('tiny-get', 'GET, 11-byte <response> & keep-alive', [7000, 7200, 7100], [14000, 14100, 13900]),
      scenario('get-4k', 'GET, 4 KiB response', [3000, 3100, 2900], [12000, 12100, 11900]),
      scenario('tiny-get+log-off', 'GET, 11-byte response; {"log":{"access":false}}', [7600, 7700, 7500], [14000, 14100, 13900]),
    ],
    costs: [{ feature: 'access log', on: 'tiny-get', off: 'tiny-get+log-off', ratio: 0.934, noise: 0.01 }],
    baseline: { scenarios: { 'tiny-get': { ratio: 0.516, noise: 0.041 }, 'get-4k': { ratio: 0.579, noise: 0.058 } } },
  };
}

/** The section of the report that draws one scenario. */
function sectionOf(html: string, name: string): string {
  const start = html.indexOf(`data-scenario="${name}"`);
  assert.ok(start > 0, `no section for ${name}`);
  return html.slice(html.lastIndexOf('<section', start), html.indexOf('</section>', start));
}

const VOID = new Set(['meta', 'br', 'hr', 'img', 'input', 'link']);

/** Every element is closed, in order (self-closed SVG elements count as closed). */
function assertBalanced(html: string): void {
  const open: string[] = [];
  for (const m of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(\/?)>/g)) {
    const [, closing, tag, selfClosing] = m;
    if (selfClosing === '/' || VOID.has(tag.toLowerCase())) continue;
    if (closing === '') open.push(tag);
    else assert.equal(open.pop(), tag, `</${tag}> closes <${open[open.length]}> at ${m.index}`);
  }
  assert.deepEqual(open, []);
}

test('the HTML report is one well-formed, self-contained page', () => {
  const html = htmlReport(results());
  assert.ok(html.startsWith('<!doctype html>'));
  assertBalanced(html.slice(html.indexOf('<html')));
  assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\s*(https?:)?\/\//i, 'nothing fetched from the network');
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i, 'no external resource of any kind');
  assert.match(html, /GET, 11-byte &lt;response&gt; &amp; keep-alive/, 'text from the results is escaped');
});

test('every scenario has its own SVG, with a latency line per run', () => {
  const html = htmlReport(results());
  for (const name of ['tiny-get', 'get-4k', 'tiny-get+log-off']) {
    const section = sectionOf(html, name);
    assert.equal(section.match(/<svg /g)?.length, 1, name);
    assert.equal(section.match(/<polyline /g)?.length, 6, `${name}: 3 direct + 3 sluice runs`);
  }
});

test('a regression is flagged on its scenario and in the verdict, and only there', () => {
  const html = htmlReport(results());
  assert.match(sectionOf(html, 'get-4k'), /class="scenario regression"[\s\S]*REGRESSION/);
  assert.doesNotMatch(sectionOf(html, 'tiny-get'), /regression|REGRESSION/);
  assert.match(html, /class="verdict bad">Regression in 1 scenario\(s\): <a href="#s-get-4k">get-4k<\/a>/);
});

test('a quick run is not compared with the baseline', () => {
  const html = htmlReport(results(true));
  assert.doesNotMatch(html, /class="scenario regression"|REGRESSION/);
  assert.match(html, /class="verdict none">Quick run/);
});

test('the cost of a feature is shown as the ratio with ÷ without', () => {
  const html = htmlReport(results());
  assert.match(html, /cost of the <b>access log<\/b><\/td><td>tiny-get<\/td><td>tiny-get\+log-off<\/td>/);
  assert.match(html, /<b>0\.934<\/b> \(± 0\.010\)<\/td><td>6\.6 % fewer<\/td>/);
  const noisy = htmlReport({ ...results(), costs: [{ feature: 'access log', on: 'tiny-get', off: 'tiny-get+log-off', ratio: 0.9, noise: 0.2 }] });
  assert.match(noisy, /<b>0\.900<\/b> \(± 0\.200\)<\/td><td>within the noise<\/td>/, 'no cost claimed inside the noise');
});

test('the percentile curve goes up with the percentile and ends at the maximum', () => {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  for (let i = 1; i <= 10_000; i++) h.recordValue(i); // 1 µs .. 10 ms
  const curve = percentileCurve(h);
  assert.deepEqual(curve[0], [0, 0.001]);
  assert.deepEqual(curve[curve.length - 1], [100, 10]);
  assert.ok(curve[curve.length - 2][0] >= 99.99 && curve[curve.length - 2][0] < 100, 'as far as 10,000 samples resolve');
  for (let i = 1; i < curve.length; i++) assert.ok(curve[i][0] > curve[i - 1][0] && curve[i][1] >= curve[i - 1][1]);
  h.destroy();
});
