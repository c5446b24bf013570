import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

// config/ reads, validates and types a config; turning it into a plan happens above it
// (primary/load-plan.ts). An import from config/ into compile/ or primary/ would bring back the
// cycle (compile/ imports config/ for its types).
test('src/config imports nothing outside config/ but errors/', () => {
  const dir = new URL('../../../src/config/', import.meta.url);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const source = readFileSync(new URL(name, dir), 'utf8');
    for (const m of source.matchAll(/from '(\.[^']*)'/g)) {
      assert.ok(m[1].startsWith('./') || m[1].startsWith('../errors/'), `src/config/${name} imports ${m[1]}`);
    }
  }
});
