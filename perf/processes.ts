import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../src/primary/node-flags.js';

const ORIGIN = fileURLToPath(new URL('./origin.js', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export const hasTaskset = spawnSync('taskset', ['--version']).status === 0;

export interface Started {
  readonly proc: ChildProcess;
  readonly port: number;
  stop(): Promise<void>;
}

/** Run `node args` pinned to `cpus` (a taskset list such as "0" or "1-3") when given and possible. */
function spawnNode(args: string[], cpus: string | null, env: NodeJS.ProcessEnv, stdout: 'pipe' | number): ChildProcess {
  const [cmd, argv] = cpus !== null && hasTaskset ? ['taskset', ['-c', cpus, process.execPath, ...args]] : [process.execPath, args];
  return spawn(cmd, argv, { env, stdio: ['ignore', stdout, 'inherit'] });
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
}

export function startOrigin(cpus: string | null): Promise<Started> {
  const proc = spawnNode([ORIGIN, '0'], cpus, process.env, 'pipe');
  return new Promise((resolve, reject) => {
    let out = '';
    proc.once('exit', (code) => reject(new Error(`origin exited with ${code}`)));
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /origin ready (\d+)/.exec(out);
      if (m) resolve({ proc, port: Number(m[1]), stop: stopper(proc) });
    });
  });
}

/**
 * Start `sluice start` on a config. Its log goes to a file, as in production (a pipe to this process
 * would make the load generator pay for reading every access-log line).
 */
export async function startGateway(config: string, cpus: string | null, env: Record<string, string>): Promise<Started & { logFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-perf-'));
  const configFile = join(dir, 'sluice.yaml');
  const logFile = join(dir, 'sluice.log');
  writeFileSync(configFile, config);
  const proc = spawnNode(
    [...NODE_FLAGS, CLI, 'start', '--config', configFile],
    cpus,
    { ...process.env, SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0', ...env },
    openSync(logFile, 'w'),
  );
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`sluice exited with ${proc.exitCode}; log: ${logFile}`);
    const ready = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => l.includes('"sluice ready"'));
    if (ready !== undefined) return { proc, port: JSON.parse(ready).port, stop: stopper(proc), logFile };
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error(`sluice did not become ready in 15 s; log: ${logFile}`);
}

/** Resident set size of a process (all its threads), in MiB. */
export function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
}

/** Pin this process (the load generator) to `cpus`. */
export function pinSelf(cpus: string): void {
  if (hasTaskset) spawnSync('taskset', ['-pc', cpus, String(process.pid)]);
}
