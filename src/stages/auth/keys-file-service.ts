import { readFileSync } from 'node:fs';
import { watchFiles } from '../../config/file-watch.js';
import type { ServiceEnv, StageService } from '../../pipeline/stage-factory.js';
import type { AuthPlan } from './compile.js';
import { parseKeysFile, type StoredKey } from './keys-file.js';

/** What the watcher publishes: by keys file path, its keys and a version that changes with them. */
export type KeyFilesPublished = Readonly<Record<string, { readonly version: number; readonly keys: readonly StoredKey[] }>>;

const DEBOUNCE_MS = 250;

interface Watched {
  keys: StoredKey[] | null;
  text: string;
  version: number;
}

/**
 * Watches the routes' API keys files in the primary with the config file's watcher (the directory, so
 * an editor's replace is seen, and a stat poll behind it), and publishes their keys to every worker
 * when they change. A file that becomes unreadable or invalid is logged and its last good keys stay
 * in force.
 */
export function startKeyFilesService(env: ServiceEnv): StageService<unknown, AuthPlan> {
  const files = new Map<string, Watched>();
  // Any change re-reads every file: read() parses only a file whose text changed.
  const watcher = watchFiles(DEBOUNCE_MS, () => {
    for (const [path, w] of files) read(path, w);
  });

  const publish = () => {
    const out: Record<string, { version: number; keys: StoredKey[] }> = {};
    for (const [path, w] of files) if (w.keys !== null) out[path] = { version: w.version, keys: w.keys };
    env.publish(out);
  };

  const read = (path: string, w: Watched) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      env.log.error(
        { code: 'SLUICE_ERR_CONFIG_READ', file: path, cause: (err as NodeJS.ErrnoException).code },
        'API keys file unreadable; its last keys stay in force',
      );
      return;
    }
    // The last text read, good or bad: an unchanged file (another one changed) is not parsed or logged again.
    if (text === w.text) return;
    w.text = text;
    const { keys, problems } = parseKeysFile(text);
    if (problems.length > 0) {
      env.log.error({ code: 'SLUICE_ERR_CONFIG_INVALID', file: path, issues: problems }, 'API keys file rejected; its last keys stay in force');
      return;
    }
    w.keys = keys;
    w.version++;
    env.log.info({ file: path, keys: keys.length }, 'API keys file loaded');
    publish();
  };

  return {
    configure(_settings, plans) {
      const paths = new Set(plans.flatMap((p) => (p.apiKey?.keysFile ? [p.apiKey.keysFile] : [])));
      let removed = false;
      for (const path of files.keys()) {
        if (paths.has(path)) continue;
        files.delete(path);
        removed = true;
      }
      if (removed) publish();
      watcher.watch([...paths]);
      for (const path of paths) {
        let w = files.get(path);
        if (w === undefined) {
          w = { keys: null, text: '', version: 0 };
          files.set(path, w);
        }
        read(path, w); // a reload re-reads a known one too
      }
    },
    async close() {
      watcher.close();
    },
  };
}
