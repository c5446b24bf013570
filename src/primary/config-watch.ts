import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

const DEBOUNCE_MS = 250;

/**
 * Calls `onChange` after the config file changes, debounced. Watches the directory, not the file:
 * editors and `mv` replace the file, which ends a watch on the old inode.
 */
export function watchConfigFile(file: string, onChange: () => void): FSWatcher {
  const name = basename(file);
  let timer: NodeJS.Timeout | null = null;
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, DEBOUNCE_MS);
  });
  watcher.unref();
  return watcher;
}
