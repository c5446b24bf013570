import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { catalog } from '../../src/errors/catalog.js';

// The README's error table is the user-facing contract for error codes: it must list exactly the
// codes the gateway can emit, with the same status.
test('README error table and the error catalog list the same codes with the same statuses', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const documented = new Map<string, string>();
  for (const m of readme.matchAll(/^\| `(SLUICE_ERR_[A-Z_]+)` \| ([0-9]{3}|—) \|/gm)) documented.set(m[1], m[2]);
  for (const [code, entry] of Object.entries(catalog)) {
    assert.ok(documented.has(code), `${code} is missing from README's error table`);
    const status = entry.source === 'config' || entry.source === 'startup' ? '—' : String(entry.status);
    assert.equal(documented.get(code), status, `${code}: README says ${documented.get(code)}, catalog says ${status}`);
  }
  for (const code of documented.keys()) assert.ok(code in catalog, `README documents ${code}, which the catalog does not have`);
});
