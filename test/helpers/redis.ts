import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusedPort } from './upstream.js';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
}

/**
 * A real redis-server (Debian package redis-server; .ci/run installs it) on a free loopback port,
 * no persistence, in a temp dir.
 */
export async function startRedis(): Promise<TestRedis> {
  if (spawnSync('redis-server', ['--version']).error) throw new Error('redis-server not found: apt-get install -y redis-server');
  const port = await refusedPort();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-redis-'));
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out}`));
    });
  });
  proc.stdout!.resume();
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
