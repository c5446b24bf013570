// Reads run.sh's results.tsv and prints one markdown table: medians over runs, ratios to nginx.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8')
  .trim()
  .split('\n')
  .map((l) => l.split('\t'));
const ms = (s) => (s.endsWith('us') ? parseFloat(s) / 1000 : s.endsWith('ms') ? parseFloat(s) : parseFloat(s) * 1000);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const by = new Map();
for (const [, target, rps, p50, p99, errs] of rows) {
  const t = by.get(target) ?? { rps: [], p50: [], p99: [], errs: 0 };
  t.rps.push(Number(rps));
  t.p50.push(ms(p50));
  t.p99.push(ms(p99));
  t.errs += Number(errs);
  by.set(target, t);
}
const nginx = by.get('nginx');
console.log('| target | req/s (median) | ×nginx | p50 ms | p99 ms | p99 ×nginx | runs with errors |');
console.log('|---|---|---|---|---|---|---|');
for (const [target, t] of by) {
  const rps = median(t.rps);
  const p99 = median(t.p99);
  console.log(
    `| ${target} | ${Math.round(rps).toLocaleString('en-US')} | ${nginx ? (rps / median(nginx.rps)).toFixed(2) : '—'} | ` +
      `${median(t.p50).toFixed(2)} | ${p99.toFixed(2)} | ${nginx ? (p99 / median(nginx.p99)).toFixed(2) : '—'} | ${t.errs} |`,
  );
}
