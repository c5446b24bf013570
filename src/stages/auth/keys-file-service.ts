import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ServiceEnv, StageService } from '../../pipeline/stage-factory.js';
import type { AuthPlan } from './compile.js';
import { parseKeysFile, type StoredKey } from './keys-file.js';

/** What the watcher publishes: by keys file path, its keys and a version that changes with them. */
export type KeyFilesPublished = Readonly<Record<string, { readonly version: number; readonly keys: readonly StoredKey[] }>>;

const DEBOUNCE_MS = 250;

interface Watched {
  readonly watcher: FSWatcher;
  keys: StoredKey[] | null;
  text: string;
  version: number;
  timer: NodeJS.Timeout | null;
}

/**
 * Watches the routes' API keys files in the primary, like the config file (the directory, so an
 * editor's replace is seen), and publishes their keys to every worker when they change. A file that
 * becomes unreadable or invalid is logged and its last good keys stay in force.
 */
export function startKeyFilesService(env: ServiceEnv): StageService<unknown, AuthPlan> {
  const files = new Map<string, Watched>();

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
    if (text === w.text) return;
    const { keys, problems } = parseKeysFile(text);
    if (problems.length > 0) {
      env.log.error({ code: 'SLUICE_ERR_CONFIG_INVALID', file: path, issues: problems }, 'API keys file rejected; its last keys stay in force');
      return;
    }
    w.text = text;
    w.keys = keys;
    w.version++;
    env.log.info({ file: path, keys: keys.length }, 'API keys file loaded');
    publish();
  };

  return {
    configure(_settings, plans) {
      const paths = new Set(plans.flatMap((p) => (p.apiKey?.keysFile ? [p.apiKey.keysFile] : [])));
      let removed = false;
      for (const [path, w] of files) {
        if (paths.has(path)) continue;
        w.watcher.close();
        if (w.timer !== null) clearTimeout(w.timer);
        files.delete(path);
        removed = true;
      }
      if (removed) publish();
      for (const path of paths) {
        const known = files.get(path);
        if (known !== undefined) {
          read(path, known); // a reload re-reads it too
          continue;
        }
        const name = basename(path);
        const w: Watched = {
          watcher: watch(dirname(path), (_event, changed) => {
            if (changed !== null && changed !== name) return;
            if (w.timer !== null) clearTimeout(w.timer);
            w.timer = setTimeout(() => {
              w.timer = null;
              read(path, w);
            }, DEBOUNCE_MS);
          }),
          keys: null,
          text: '',
          version: 0,
          timer: null,
        };
        w.watcher.unref();
        files.set(path, w);
        read(path, w);
      }
    },
    async close() {
      for (const w of files.values()) {
        w.watcher.close();
        if (w.timer !== null) clearTimeout(w.timer);
      }
    },
  };
}
