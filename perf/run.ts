import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { htmlReport } from './html-report.js';
import { type LoadResult, runLoad } from './load.js';
import { hasTaskset, pinSelf, rssMiB, type Started, startGateway, startOrigin } from './processes.js';
import {
  type Baseline,
  type Cost,
  compareWithBaseline,
  costOf,
  costTable,
  markdownTable,
  median,
  type PerfResults,
  type RunMeta,
  type ScenarioReport,
} from './report.js';
import { gatewayConfig, type Scenario, scenarios } from './scenarios.js';
import { overlayOf, variantName, variants } from './variants.js';

/**
 * npm run perf [-- options]: every scenario against the origin directly and through sluice,
 * interleaved run by run, on this machine, in this one run. See perf/README.md.
 */
const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '64' },
    workers: { type: 'string', default: process.env.SLUICE_WORKERS ?? '1' },
    scenario: { type: 'string' },
    pin: { type: 'boolean', default: false },
    soak: { type: 'string' },
    'update-baseline': { type: 'boolean', default: false },
    report: { type: 'string' },
  },
});

const quick = opt.quick;
const runs = quick ? 1 : Number(opt.runs);
const seconds = quick ? 1 : Number(opt.seconds);
const connections = quick ? 8 : Number(opt.connections);
const workers = Number(opt.workers);
const chosen = opt.scenario === undefined ? scenarios : scenarios.filter((s) => opt.scenario!.split(',').includes(s.name));
const root = new URL('./', new URL('../../perf/', import.meta.url));

// --pin: the gateway gets the first `workers` CPUs; the origin and this load generator share the rest.
const ncpu = cpus().length;
const pinning = opt.pin && hasTaskset && ncpu > workers;
const gatewayCpus = pinning ? `0-${workers - 1}` : null;
const restCpus = pinning ? `${workers}-${ncpu - 1}` : null;
if (restCpus !== null) pinSelf(restCpus);

const log = (line: string) => process.stderr.write(line + '\n');
const pool = Number(process.env.SLUICE_POOL_CONNECTIONS ?? 64);
const env = { SLUICE_WORKERS: String(workers) };

async function main(): Promise<number> {
  const origin = await startOrigin(restCpus);
  const gateway = await startGateway(gatewayConfig(origin.port, pool), gatewayCpus, env);
  log(
    `perf: origin :${origin.port}, sluice :${gateway.port} (${workers} worker(s))${pinning ? `, pinned: sluice cpu ${gatewayCpus}, origin+load cpu ${restCpus}` : ''}; ` +
      `${runs} run(s) × ${seconds} s × ${connections} connections per target`,
  );
  const reports: ScenarioReport[] = [];
  const costs: Cost[] = [];
  try {
    if (opt.soak !== undefined) return await soak(gateway.port, gateway.proc.pid!, Number(opt.soak));
    for (const s of chosen) {
      const own = variants.filter((v) => v.scenarios.includes(s.name));
      const extra: Started[] = [];
      try {
        for (const v of own) extra.push(await startGateway(gatewayConfig(origin.port, pool, overlayOf(v, origin.port)), gatewayCpus, env));
        const targets: Target[] = [
          { port: origin.port, path: s.directPath },
          { port: gateway.port, path: s.path },
          ...extra.map((g) => ({ port: g.port, path: s.path })),
        ];
        const [direct, sluice, ...withVariant] = await measure(s, targets);
        const base = scenarioReport(s.name, s.what, direct, sluice, gateway.proc.pid!);
        reports.push(base);
        own.forEach((v, k) => {
          const report = scenarioReport(
            variantName(s.name, v),
            `${s.what}; ${JSON.stringify(overlayOf(v, origin.port))}`,
            direct,
            withVariant[k],
            extra[k].proc.pid!,
          );
          reports.push(report);
          costs.push(v.turns === 'off' ? costOf(v.feature, base, report) : costOf(v.feature, report, base));
        });
      } finally {
        for (const g of extra) await g.stop();
      }
    }
  } finally {
    await gateway.stop();
    await origin.stop();
  }
  return finish(reports, costs);
}

interface Target {
  readonly port: number;
  readonly path: string;
}

/** A scenario against each target (the origin, sluice, sluice with each variant), run by run, interleaved. */
async function measure(s: Scenario, targets: readonly Target[]): Promise<LoadResult[][]> {
  const load = { connections, seconds };
  // warm every path (JIT, pools) before measuring
  if (!quick) for (const t of targets) await runLoad(t.port, t.path, s, { connections, seconds: 1 });
  const results: LoadResult[][] = targets.map(() => []);
  const order = targets.map((_, i) => i);
  for (let r = 0; r < runs; r++) {
    // Alternate the order of the targets, so drift on a noisy machine does not favour one.
    for (const i of r % 2 === 0 ? order : [...order].reverse()) results[i].push(await runLoad(targets[i].port, targets[i].path, s, load));
  }
  return results;
}

function scenarioReport(name: string, what: string, direct: LoadResult[], sluice: LoadResult[], pid: number): ScenarioReport {
  const ratios = sluice.map((x, i) => x.rps / direct[i].rps);
  const report = { name, what, direct, sluice, ratio: median(ratios), noise: (Math.max(...ratios) - Math.min(...ratios)) / 2, rssMiB: rssMiB(pid) };
  log(
    `  ${name}: sluice ${Math.round(median(sluice.map((x) => x.rps)))} req/s, direct ${Math.round(median(direct.map((x) => x.rps)))} req/s, ratio ${report.ratio.toFixed(3)}`,
  );
  return report;
}

function finish(reports: ScenarioReport[], costs: Cost[]): number {
  const failures = reports.flatMap((r) =>
    [...r.direct, ...r.sluice].some((x) => x.errors > 0 || x.requests === 0) ? [`${r.name}: errors or no requests`] : [],
  );
  const baselineFile = new URL('baseline.json', root);
  const baseline: Baseline | null = existsSync(baselineFile) ? JSON.parse(readFileSync(baselineFile, 'utf8')) : null;
  const flags = quick || baseline === null ? [] : compareWithBaseline(reports, baseline);
  const meta: RunMeta = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: ncpu,
    cpuModel: cpus()[0]?.model,
    workers,
    connections,
    seconds,
    runs,
    pinned: pinning,
    quick,
  };
  const table = [markdownTable(reports, baseline), costTable(costs)].filter((t) => t !== '').join('\n\n');
  process.stdout.write(`${table}\n`);
  mkdirSync(new URL('results/', root), { recursive: true });
  const stamp = meta.date.replace(/[:.]/g, '-');
  const results: PerfResults = { meta, reports, costs, baseline };
  writeFileSync(new URL(`results/${stamp}.json`, root), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(new URL('results/latest.md', root), `# npm run perf, ${meta.date}\n\n${JSON.stringify(meta)}\n\n${table}\n`);
  const html = htmlReport(results);
  writeFileSync(new URL(`results/${stamp}.html`, root), html);
  writeFileSync(new URL('results/latest.html', root), html);
  log(`perf: report in perf/results/${stamp}.html (and latest.html)`);
  if (!quick && opt['update-baseline']) {
    const scenariosOut = Object.fromEntries(reports.map((r) => [r.name, { ratio: round(r.ratio), noise: round(r.noise) }]));
    writeFileSync(baselineFile, JSON.stringify({ meta, scenarios: { ...(baseline?.scenarios ?? {}), ...scenariosOut } }, null, 2) + '\n');
    log('perf: baseline.json updated');
  }
  for (const f of [...failures, ...flags]) log(`perf: ${f}`);
  if (failures.length > 0) return 1;
  return flags.length > 0 ? 3 : 0;
}

/** --report FILE.json: draw the HTML report of a saved run again, beside it (FILE.html); nothing is measured. */
function redraw(file: string): number {
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  const out = file.replace(/\.json$/, '') + '.html';
  writeFileSync(out, htmlReport({ costs: [], baseline: null, ...saved }));
  log(`perf: report in ${out}`);
  return 0;
}

/** --soak SECONDS: tiny GETs through sluice, RSS sampled every 5 s; growth is reported. */
async function soak(port: number, pid: number, total: number): Promise<number> {
  const tiny = scenarios[0];
  const samples: number[] = [rssMiB(pid)];
  let errors = 0;
  let requests = 0;
  for (let t = 0; t < total; t += 5) {
    const r = await runLoad(port, tiny.path, tiny, { connections, seconds: 5 });
    errors += r.errors;
    requests += r.requests;
    samples.push(rssMiB(pid));
  }
  const afterWarmup = samples.slice(2);
  log(`soak: ${requests} requests, ${errors} errors, RSS MiB every 5 s: ${samples.join(' ')}`);
  log(`soak: growth after the first 10 s: ${(afterWarmup[afterWarmup.length - 1] - afterWarmup[0]).toFixed(1)} MiB (max ${Math.max(...afterWarmup)} MiB)`);
  return errors === 0 ? 0 : 1;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

(opt.report !== undefined ? Promise.resolve(redraw(opt.report)) : main()).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    log(`perf: ${err?.stack ?? err}`);
    process.exitCode = 1;
  },
);
