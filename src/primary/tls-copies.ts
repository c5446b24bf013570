import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The private folder of checked certificate, key and CA copies that workers load (tls-pairs.ts):
 * mode 0700, one per primary process, named `sluice-tls-PID-XXXXXX` so that a later start can
 * recognise the folder of a process that died without its exit hook (an abort, SIGKILL) and remove
 * the key copies it left.
 */
const PREFIX = 'sluice-tls-';

let folder: string | null = null;

/** Where this content's copy is (or will be): named by the content, so a copy never changes. */
export function copyPath(pem: string): string {
  if (folder === null) {
    const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
    folder = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return join(folder, `${createHash('sha256').update(pem).digest('hex').slice(0, 32)}.pem`);
}

/** Write the copy copyPath names (through a rename, so a worker never reads half of it). */
export function writeCopy(pem: string): string {
  const file = copyPath(pem);
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, pem, { mode: 0o600 });
  renameSync(temp, file);
  return file;
}

/** Delete every copy not in `keep`: keys of retired certificates stay on disk no longer than needed. */
export function keepOnlyCopies(keep: ReadonlySet<string>): void {
  if (folder === null) return;
  for (const name of readdirSync(folder)) {
    const file = join(folder, name);
    if (!keep.has(file)) rmSync(file, { force: true });
  }
}

/** At start: remove the copy folders of sluice processes that are gone. Others' folders are left alone. */
export function clearStaleCopies(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^sluice-tls-([0-9]+)-/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || alive(Number(pid))) continue;
    try {
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    } catch {
      // another user's folder: not ours to remove
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
