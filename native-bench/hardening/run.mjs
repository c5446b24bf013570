#!/usr/bin/env node
// The hardening catalog: black-box cases over raw sockets against sluice (a built checkout) and,
// with --nginx, against nginx configured alike, in the same run. See native-bench/README.md.
//
//   node native-bench/hardening/run.mjs --sluice DIR [--nginx] [--json] [--only 2.1,3.] [--concurrency 6]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLASSES, catalog, describe, FAULT_ROUTES, lifecycle } from './cases.mjs';
import { startNginx, startSluice } from './targets.mjs';
import { blackhole, refusedPort, startUpstream } from './upstreams.mjs';
import { open } from './wire.mjs';

const SETTLE_MS = 300;

function parseArgs(argv) {
  const args = { sluice: null, nginx: false, json: false, only: null, concurrency: 6 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--sluice') args.sluice = resolve(argv[++i]);
    else if (a === '--nginx') args.nginx = true;
    else if (a === '--json') args.json = true;
    else if (a === '--only') args.only = argv[++i].split(',');
    else if (a === '--concurrency') args.concurrency = Number(argv[++i]);
    else throw new Error(`unknown option ${a}; usage: run.mjs --sluice DIR [--nginx] [--json] [--only IDS] [--concurrency N]`);
  }
  if (args.sluice === null && !args.nginx) throw new Error('nothing to run: give --sluice DIR and/or --nginx');
  return args;
}

/** One set of upstreams per target: public, admin, one per fault behaviour, a refused port, a SYN-dropping port. */
async function startUpstreams() {
  const recorders = {};
  for (const name of ['public', 'admin']) recorders[name] = await startUpstream(name);
  for (const [route, behaviour] of Object.entries(FAULT_ROUTES)) recorders[route] = await startUpstream(behaviour);
  const hole = await blackhole();
  const ports = Object.fromEntries(Object.entries(recorders).map(([name, r]) => [name, r.port]));
  ports.refused = await refusedPort();
  ports.blackhole = hole.port;
  return {
    recorders,
    ports,
    async close() {
      hole.close();
      await Promise.all(Object.values(recorders).map((r) => r.close()));
    },
  };
}

async function runCase(c, target, ups, signal, signalled) {
  const t0 = performance.now();
  let rec;
  try {
    rec = await c.run(() => open(target.port), signal, signalled);
  } catch (err) {
    return { pass: false, seen: `runner error: ${err.message}` };
  }
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const byUpstream = {};
  const reqs = [];
  for (const [name, r] of Object.entries(ups.recorders)) {
    byUpstream[name] = r.requests.filter((q) => q.caseId === c.id).map((q) => ({ ...q, upstream: name }));
    reqs.push(...byUpstream[name]);
  }
  const o = {
    rec,
    reqs,
    byUpstream,
    fault: c.fault ? (ups.recorders[c.fault]?.requests ?? []) : [],
    elapsedMs: Math.round(performance.now() - t0 - SETTLE_MS),
  };
  let pass;
  try {
    pass = Boolean(c.judge(o));
  } catch (err) {
    pass = false;
    o.note = `judge error: ${err.message}`;
  }
  return { pass, seen: describe(o) };
}

/** Run `items` through `fn` with at most `n` in flight. */
async function pool(items, n, fn) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(n, queue.length) }, async () => {
      while (queue.length > 0) await fn(queue.shift());
    }),
  );
}

/** Long waits first (slow clients, timeouts), so they overlap the quick cases. */
const LONG = new Set([5, 6]);

async function runTarget(name, start, cases, finalCases, concurrency) {
  const ups = await startUpstreams();
  const work = mkdtempSync(join(tmpdir(), `sluice-hardening-${name}-`));
  // A gateway that does not start (a config it refuses) must not leave the upstreams holding the process.
  const target = await start(work, ups.ports).catch(async (err) => {
    await ups.close();
    throw err;
  });
  const results = {};
  try {
    const ordered = [...cases.filter((c) => LONG.has(c.cls)), ...cases.filter((c) => !LONG.has(c.cls))];
    await pool(ordered, concurrency, async (c) => {
      results[c.id] = await runCase(c, target, ups);
    });
    // The lifecycle cases end the target: run together, after everything else.
    let signal;
    const signalled = new Promise((r) => (signal = r));
    void signalled.then(() => target.gracefulStop());
    await Promise.all(
      finalCases.map(async (c) => {
        results[c.id] = await runCase(c, target, ups, signal, signalled);
      }),
    );
  } finally {
    await target.stop();
    await ups.close();
  }
  return { name, note: `${target.note}; work dir ${work}`, results };
}

function counts(cases, targets) {
  const rows = [];
  for (const cls of Object.keys(CLASSES).map(Number)) {
    const inClass = cases.filter((c) => c.cls === cls);
    if (inClass.length === 0) continue;
    const row = { cls, what: CLASSES[cls], cases: inClass.length };
    for (const t of targets) row[t.name] = inClass.filter((c) => t.results[c.id]?.pass).length;
    rows.push(row);
  }
  const counted = cases.filter((c) => c.cls !== 0);
  const total = { cls: 'total', what: 'classes 1–10', cases: counted.length };
  for (const t of targets) total[t.name] = counted.filter((c) => t.results[c.id]?.pass).length;
  return [...rows, total];
}

function printText(cases, targets, table) {
  for (const t of targets) console.log(`${t.name}: ${t.note}`);
  console.log('Skipped: restart takeover and worker-crash isolation (issue 21 classes 11–12) need process control only sluice has.\n');
  let cls = null;
  for (const c of cases) {
    if (c.cls !== cls) {
      cls = c.cls;
      console.log(`── class ${cls}: ${CLASSES[cls]}`);
    }
    console.log(`${c.id.padEnd(5)} ${c.name}  — sends: ${c.sends}`);
    console.log(`      rule: ${c.rule}`);
    for (const t of targets) {
      const r = t.results[c.id];
      console.log(`      ${t.name.padEnd(6)} ${r?.pass ? 'pass' : 'FAIL'}  ${r?.seen ?? 'not run'}`);
    }
  }
  console.log('\nclass  cases  ' + targets.map((t) => t.name.padStart(6)).join('  ') + '  what');
  for (const row of table)
    console.log(
      `${String(row.cls).padEnd(5)}  ${String(row.cases).padStart(5)}  ${targets.map((t) => String(row[t.name]).padStart(6)).join('  ')}  ${row.what}`,
    );
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const pick = (list) => (args.only ? list.filter((c) => args.only.some((p) => c.id === p || (p.endsWith('.') && c.id.startsWith(p)))) : list);
  const cases = pick(catalog());
  const finalCases = pick(lifecycle());
  const runs = [];
  if (args.sluice !== null) runs.push(runTarget('sluice', (work, ports) => startSluice(args.sluice, work, ports), cases, finalCases, args.concurrency));
  if (args.nginx) runs.push(runTarget('nginx', (work, ports) => startNginx(work, ports), cases, finalCases, args.concurrency));
  const t0 = performance.now();
  const targets = await Promise.all(runs);
  const all = [...cases, ...finalCases];
  const table = counts(all, targets);
  if (args.json) {
    const out = {
      seconds: Math.round((performance.now() - t0) / 1000),
      targets: targets.map((t) => ({ name: t.name, note: t.note })),
      cases: all.map(({ id, cls, name, sends, rule }) => ({
        id,
        cls,
        name,
        sends,
        rule,
        results: Object.fromEntries(targets.map((t) => [t.name, t.results[id]])),
      })),
      counts: table,
    };
    console.log(JSON.stringify(out, null, 2));
  } else {
    printText(all, targets, table);
    console.log(`\n${Math.round((performance.now() - t0) / 1000)} s`);
  }
}

main().catch((err) => {
  console.error(err.stack ?? String(err));
  process.exitCode = 1;
});
