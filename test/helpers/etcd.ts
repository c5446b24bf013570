import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { refusedPort } from './upstream.js';

export interface TestEtcd {
  readonly url: string;
  put(key: string, value: string): Promise<void>;
  del(key: string): Promise<void>;
  stop(): Promise<void>;
}

/** A real etcd (Debian package etcd-server; .ci/run installs it) on free loopback ports, data in a temp dir. */
export async function startEtcd(): Promise<TestEtcd> {
  if (spawnSync('etcd', ['--version']).error) throw new Error('etcd not found: apt-get install -y etcd-server');
  const [client, peer] = [await refusedPort(), await refusedPort()];
  const url = `http://127.0.0.1:${client}`;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-etcd-'));
  const proc: ChildProcess = spawn(
    'etcd',
    [
      '--data-dir',
      dir,
      '--name',
      'test',
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-cluster',
      `test=http://127.0.0.1:${peer}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => {
    log += c.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const post = async (path: string, body: unknown) => {
    const res = await fetch(url + path, { method: 'POST', body: JSON.stringify(body) });
    if (res.status !== 200) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  };
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > end || proc.exitCode !== null) {
      proc.kill('SIGKILL');
      throw new Error(`etcd did not start: ${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    put: (key, value) => post('/v3/kv/put', { key: b64(key), value: b64(value) }),
    del: (key) => post('/v3/kv/deleterange', { key: b64(key) }),
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
