import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FAMILIES } from '../../src/observe/metric-families.js';

// docs/observability.md is where an operator looks a metric up: every family has its row, with its labels.

test('every metric family has a row in docs/observability.md with its type and labels', () => {
  const doc = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
  for (const f of Object.values(FAMILIES)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${f.name}\` |`));
    assert.ok(row !== undefined, `${f.name} has no row`);
    assert.ok(row.includes(`| ${f.type} |`), `${f.name}: type ${f.type}`);
    for (const l of f.labels) assert.ok(row.includes(l), `${f.name}: label ${l}`);
  }
});
