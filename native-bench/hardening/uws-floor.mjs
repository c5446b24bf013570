#!/usr/bin/env node
// The floor under sluice's front door: the catalog's request cases (classes 1, 2 and 4's head cases)
// sent to a bare uWebSockets.js app, loaded from a sluice checkout, that answers 200 to every request
// it is handed. A case whose handler never ran is decided below JS, by uWS's parser: what sluice can
// still do about it is limited to what uWS lets it configure (docs/security.md).
//
//   node native-bench/hardening/uws-floor.mjs --sluice DIR
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { catalog } from './cases.mjs';
import { open } from './wire.mjs';

const at = process.argv.indexOf('--sluice');
const dir = resolve(at > 0 ? process.argv[at + 1] : '.');
const uws = createRequire(join(dir, 'package.json'))('uWebSockets.js');

const handled = new Set();
const app = uws.App().any('/*', (res, req) => {
  handled.add(req.getHeader('x-case'));
  res.onAborted(() => {});
  res.onData((_chunk, last) => {
    if (last) res.cork(() => res.writeStatus('200 OK').end('handled'));
  });
});
const port = await new Promise((done) => app.listen('127.0.0.1', 0, (s) => done(uws.us_socket_local_port(s))));

const cases = catalog().filter((c) => c.cls === 1 || c.cls === 2 || ['4.2', '4.4', '4.5'].includes(c.id));
const rows = await Promise.all(
  cases.map(async (c) => {
    const rec = await c.run(() => open(port));
    const r = rec.responses.find((x) => x.status !== null && x.status >= 200);
    const answer = r ? `${r.status} at ${rec.firstByteMs} ms` : 'no status line';
    const end = rec.closedMs !== null ? `closed at ${rec.closedMs} ms` : 'open';
    return { id: c.id, name: c.name, handler: handled.has(c.id) ? 'ran' : 'never ran', seen: `${answer}, ${end}` };
  }),
);
console.log(`bare uWS app from ${dir}: answers 200 to whatever reaches its handler\n`);
console.log(`${'case'.padEnd(6)}${'what'.padEnd(30)}${'handler'.padEnd(11)}client saw`);
for (const r of rows) console.log(`${r.id.padEnd(6)}${r.name.padEnd(30)}${r.handler.padEnd(11)}${r.seen}`);
app.close();
process.exit(0);
