import { type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';

/** fs.watch misses changes on some filesystems (network mounts, some container volumes): a stat poll backs it up. */
const POLL_MS = 500;

export interface FileWatch {
  /** The files to watch from now on (a reload can name other ones). */
  watch(files: readonly string[]): void;
  close(): void;
}

/**
 * Calls `onChange` `settleMs` after the last change to any watched file (the config file; the
 * certificate, key and CA files; API keys files): its content, or which file the path names (an editor's or `mv`'s
 * renamed-over file, a Kubernetes secret's symlink swap). Watches the directories, since replacing a
 * file ends a watch on the old one; a stat poll catches what fs.watch misses.
 */
export function watchFiles(settleMs: number, onChange: () => void): FileWatch {
  let watchers: FSWatcher[] = [];
  let signatures = new Map<string, string>();
  let timer: NodeJS.Timeout | null = null;
  const soon = () => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange();
    }, settleMs);
    timer.unref();
  };
  const check = () => {
    for (const [file, before] of signatures) {
      const now = signature(file);
      if (now === before) continue;
      signatures.set(file, now);
      soon();
    }
  };
  const poll = setInterval(check, POLL_MS);
  poll.unref();

  return {
    watch(files) {
      for (const w of watchers) w.close();
      signatures = new Map(files.map((f) => [f, signature(f)]));
      const byDir = new Map<string, Set<string>>();
      for (const f of files) {
        const names = byDir.get(dirname(f)) ?? new Set<string>();
        byDir.set(dirname(f), names.add(basename(f)));
      }
      watchers = [...byDir].flatMap(([dir, names]) => {
        try {
          // Any event may be the one that matters (a symlink swap names the link's folder, not the file): compare signatures.
          const w = watch(dir, (_event, changed) => {
            if (changed === null || names.has(changed) || changed.startsWith('..')) check();
          });
          w.unref();
          return [w];
        } catch {
          return []; // the poll still sees it
        }
      });
    },
    close() {
      clearInterval(poll);
      if (timer !== null) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/** What changes when a file is rewritten or replaced; '' when it cannot be read. */
function signature(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}
