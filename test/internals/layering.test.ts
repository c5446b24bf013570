import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The folders of src/ follow the request, and each may import only the folders below it
 * (docs/architecture.md, "Layers"). So, among others: upstream/ never imports worker/, pipeline/
 * imports neither upstream/ nor worker/, and config/ knows nothing of compile/. A new import that
 * breaks this is a design decision: change this table and the architecture doc together.
 */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  http: [],
  shared: [],
  demo: [],
  observe: ['config', 'errors'],
  config: ['errors'],
  router: [],
  pipeline: ['config', 'errors', 'http', 'observe'],
  stages: ['config', 'errors', 'http', 'observe', 'pipeline', 'shared'],
  compile: ['config', 'errors', 'http', 'pipeline', 'router', 'shared', 'stages'],
  discovery: ['compile', 'errors', 'observe'],
  upstream: ['compile', 'errors', 'http', 'observe', 'pipeline', 'shared'],
  worker: ['compile', 'errors', 'http', 'observe', 'pipeline', 'router', 'shared', 'stages', 'upstream'],
  primary: ['compile', 'config', 'discovery', 'errors', 'observe', 'pipeline', 'shared', 'stages', 'worker'],
};

const src = fileURLToPath(new URL('../../../src/', import.meta.url));

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) yield* sources(join(dir, e.name));
    else if (e.name.endsWith('.ts')) yield join(dir, e.name);
  }
}

const folderOf = (file: string) => {
  const rel = file.slice(src.length).split('/');
  return rel.length > 1 ? rel[0] : null;
};

test('every folder of src/ imports only the folders below it', () => {
  const broken: string[] = [];
  for (const file of sources(src)) {
    const from = folderOf(file);
    if (from === null) continue; // cli.ts, the top
    assert.ok(from in MAY_IMPORT, `src/${from}/ is not in the layering table`);
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']*)'/g)) {
      const to = folderOf(normalize(join(dirname(file), m[1])));
      if (to !== null && to !== from && !MAY_IMPORT[from].includes(to)) broken.push(`${file.slice(src.length)} imports ${m[1]}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the table itself has no loop: the layers can be stacked', () => {
  const placed = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const [folder, below] of Object.entries(MAY_IMPORT)) {
      if (!placed.has(folder) && below.every((b) => placed.has(b))) {
        placed.add(folder);
        progress = true;
      }
    }
  }
  assert.deepEqual(
    Object.keys(MAY_IMPORT).filter((f) => !placed.has(f)),
    [],
  );
});
