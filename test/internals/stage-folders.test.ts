import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { stageRegistry } from '../../src/stages/registry.js';

// Every registered stage has the same shape: a folder under src/stages/ with its schema, compile,
// stage, factory and README, and its tests under test/stages/ (docs/architecture.md, "Adding a stage").
const root = new URL('../../../', import.meta.url);

test('every stage in the registry has its folder, README and tests', () => {
  for (const f of stageRegistry) {
    const folder = f.kind.replace(/_/g, '-');
    for (const file of ['schema.ts', 'compile.ts', 'stage.ts', 'index.ts', 'README.md']) {
      assert.ok(existsSync(new URL(`src/stages/${folder}/${file}`, root)), `src/stages/${folder}/${file}`);
    }
    assert.ok(existsSync(new URL(`test/stages/${folder}/`, root)), `test/stages/${folder}/`);
  }
});
