import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from './http.js';
import { refusedPort } from './upstream.js';
import { waitFor } from './wait.js';

/** Debian's package `prometheus` (.ci/run installs it). */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export interface TestPrometheus {
  readonly url: string;
  readonly proc: ChildProcess;
  /** An instant query through GET /api/v1/query: the whole answer ({status, data, error...}). */
  query(expr: string): Promise<any>;
  /** GET /api/v1/targets: the active targets, as Prometheus sees its scrapes. */
  targets(): Promise<any[]>;
  stop(): Promise<void>;
}

export interface ScrapeJob {
  readonly job: string;
  /** host:port */
  readonly target: string;
  /** Sent as `Authorization: Bearer <token>` on every scrape. */
  readonly token?: string;
}

/**
 * A real Prometheus server on a free loopback port, scraping `jobs` every second, its data in a temp
 * dir that stop() removes. Only loopback is touched: listening on 127.0.0.1, targets given here.
 */
export async function startPrometheus(jobs: readonly ScrapeJob[]): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, scrapeConfig(jobs));
  const port = await refusedPort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  let exited = false;
  const gone = new Promise<void>((r) =>
    proc.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const stop = async () => {
    if (!exited) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`prometheus exited: ${stderr}`);
        return (await request(`${url}/-/ready`).catch(() => ({ status: 0 }))).status === 200;
      },
      'prometheus ready',
      15_000,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const getJson = async (path: string) => {
    const r = await request(`${url}${path}`);
    return JSON.parse(r.body);
  };
  return {
    url,
    proc,
    query: (expr) => getJson(`/api/v1/query?query=${encodeURIComponent(expr)}`),
    targets: async () => (await getJson('/api/v1/targets?state=active')).data.activeTargets,
    stop,
  };
}

function scrapeConfig(jobs: readonly ScrapeJob[]): string {
  const lines = ['global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }', 'scrape_configs:'];
  for (const j of jobs) {
    lines.push(`  - job_name: ${JSON.stringify(j.job)}`, `    static_configs: [ { targets: [${JSON.stringify(j.target)}] } ]`);
    if (j.token !== undefined) lines.push(`    authorization: { type: Bearer, credentials: ${JSON.stringify(j.token)} }`);
  }
  return `${lines.join('\n')}\n`;
}
