import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../../src/primary/node-flags.js';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface TestGateway {
  readonly port: number;
  /** Every listener's port, in config order (ports[0] === port). */
  readonly ports: readonly number[];
  readonly adminPort: number;
  readonly proc: ChildProcess;
  readonly configFile: string;
  /** Every JSON log line so far (stdout), parsed. */
  readonly logs: Record<string, any>[];
  readonly stderr: string[];
  url(path: string): string;
  waitForLog(pred: (l: Record<string, any>) => boolean, timeoutMs?: number): Promise<Record<string, any>>;
  /** Send a signal and resolve with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Write a config to a temp dir and run `sluice start` on it as a real process (port 0 → free port). */
export async function startGateway(yaml: string, env: Record<string, string> = {}, options: StartOptions = {}): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const configFile = join(dir, 'sluice.yaml');
  writeFileSync(configFile, yaml);
  return startGatewayFile(configFile, env, 'start', options);
}

export interface StartOptions {
  /** Extra node flags before the CLI (a test-only `--import` hook). */
  readonly nodeFlags?: readonly string[];
  /** Extra CLI arguments after `--config FILE` (`--takeover`). */
  readonly args?: readonly string[];
}

export function startGatewayFile(
  configFile: string,
  env: Record<string, string> = {},
  command: 'start' | 'demo' = 'start',
  options: StartOptions = {},
): Promise<TestGateway> {
  const args = [...NODE_FLAGS, ...(options.nodeFlags ?? []), CLI, command, '--config', configFile, ...(options.args ?? [])];
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0', SLUICE_WORKERS: '2', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, any>[] = [];
  const stderr: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buffered += c.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        logs.push(JSON.parse(line));
      } catch {
        stderr.push(`stdout: ${line}`);
      }
    }
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr!.on('data', (c: Buffer) => {
    stderr.push(c.toString());
    for (const w of waiters.splice(0)) w();
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      exitCode = code;
      for (const w of waiters.splice(0)) w();
      resolve(code);
    }),
  );

  const waitForLog = (pred: (l: Record<string, any>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`log line not seen in ${timeoutMs} ms; stderr: ${stderr.join('')}`)), timeoutMs);
      const check = () => {
        const hit = logs.find(pred);
        if (hit) {
          clearTimeout(timer);
          resolve(hit);
          return;
        }
        if (exitCode !== undefined) {
          clearTimeout(timer);
          reject(new Error(`gateway exited (${exitCode}); stderr: ${stderr.join('')}`));
          return;
        }
        waiters.push(check);
      };
      check();
    });

  return waitForLog((l) => l.msg === 'sluice ready').then((ready) => ({
    port: ready.port,
    ports: ready.ports ?? [ready.port],
    adminPort: ready.admin_port,
    proc,
    configFile,
    logs,
    stderr,
    url: (path: string) => `http://127.0.0.1:${ready.port}${path}`,
    waitForLog,
    exited,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  }));
}

/** Run the CLI to completion (validate, schema...). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (c) => {
      stdout += c;
    });
    proc.stderr.on('data', (c) => {
      stderr += c;
    });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}
