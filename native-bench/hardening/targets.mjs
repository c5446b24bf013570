// The two gateways under test, configured alike: one worker, the same routes to the same kind of
// upstreams, the same limits and timeouts. Each is our own child process, stopped by its PID.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** The limits both gateways get; the cases' rules are written in these terms. */
export const LIMITS = {
  maxHeaderBytes: 8192,
  maxBodyBytes: 1_048_576,
  // uWS 20.30 parses at most 48 fields, and sluice's limit cannot go above that (nginx has no such limit).
  maxHeaderCount: 48,
  connectMs: 1000,
  responseHeaderMs: 2000,
  clientBodyMs: 3000,
  // Fixed in uWebSockets.js (~10 s, not configurable from JS): nginx gets the same.
  headerMs: 10_000,
  keepAliveMs: 10_000,
};

/**
 * Keys a later sluice may have (issue 21) and main does not: set only when the checkout's
 * config/sluice.schema.json knows them, so one runner drives both the old and the new build.
 */
const OPTIONAL_KEYS = [
  ['limits', 'max_header_count', LIMITS.maxHeaderCount],
  ['timeouts', 'client_body_ms', LIMITS.clientBodyMs],
];

export function sluiceConfig(dir, ports) {
  const schema = JSON.parse(readFileSync(join(dir, 'config/sluice.schema.json'), 'utf8'));
  const limits = { max_header_bytes: LIMITS.maxHeaderBytes, max_body_bytes: LIMITS.maxBodyBytes };
  const timeouts = { connect_ms: LIMITS.connectMs, response_header_ms: LIMITS.responseHeaderMs, idle_ms: LIMITS.responseHeaderMs };
  const sections = { limits, timeouts };
  const used = [];
  for (const [section, key, value] of OPTIONAL_KEYS) {
    if (schema.properties?.[section]?.properties?.[key] !== undefined) {
      sections[section][key] = value;
      used.push(`${section}.${key}`);
    }
  }
  const lines = [
    `limits: ${JSON.stringify(limits)}`,
    `timeouts: ${JSON.stringify(timeouts)}`,
    'upstreams:',
    ...Object.entries(ports).map(([name, port]) => `  ${name}: { endpoints: [ { url: "http://127.0.0.1:${port}" } ] }`),
    'routes:',
    ...Object.keys(ports).map((name) => {
      const prefix = name === 'public' || name === 'admin' ? `/${name}/` : `/fault/${name}/`;
      return `  - { name: ${name}, match: { prefix: ${prefix} }, upstream: ${name} }`;
    }),
  ];
  return { yaml: `${lines.join('\n')}\n`, used };
}

export async function startSluice(dir, work, ports) {
  const cli = join(dir, 'dist/src/cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} not found: build the checkout first (npx tsc -p .)`);
  const { yaml, used } = sluiceConfig(dir, ports);
  const file = join(work, 'sluice.yaml');
  writeFileSync(file, yaml);
  const proc = spawn(process.execPath, ['--single-threaded-gc', cli, 'start', '--config', file], {
    env: { ...process.env, SLUICE_PORT: '0', SLUICE_ADMIN_PORT: '0', SLUICE_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = [];
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice did not start in 15 s: ${log.join('').slice(-2000)}`)), 15_000);
    let buffered = '';
    proc.stdout.on('data', (c) => {
      log.push(String(c));
      buffered += c;
      for (const line of buffered.split('\n').slice(0, -1)) {
        if (line.includes('"sluice ready"')) {
          clearTimeout(timer);
          resolve(JSON.parse(line).port);
        }
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    proc.stderr.on('data', (c) => log.push(String(c)));
    proc.once('exit', (code) => reject(new Error(`sluice exited (${code}): ${log.join('').slice(-2000)}`)));
  });
  proc.removeAllListeners('exit');
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    name: 'sluice',
    port,
    note: `sluice from ${dir}${used.length ? `, with ${used.join(', ')}` : ''}`,
    files: { config: file },
    log,
    gracefulStop: () => proc.kill('SIGTERM'),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      writeFileSync(join(work, 'sluice.log'), log.join(''));
    },
  };
}

export function nginxConfig(work, port, ports) {
  const upstreams = Object.entries(ports).map(([name, p]) => `  upstream ${name} { server 127.0.0.1:${p}; keepalive 16; }`);
  const locations = Object.keys(ports).map((name) => {
    const prefix = name === 'public' || name === 'admin' ? `/${name}/` : `/fault/${name}/`;
    return `    location ${prefix} { proxy_pass http://${name}; }`;
  });
  const k = (ms) => `${ms / 1000}s`;
  return `# Written by native-bench/hardening/targets.mjs: nginx configured like the sluice config beside it.
worker_processes 1;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log info;
events { worker_connections 1024; }
http {
  access_log ${work}/nginx-access.log;
  client_body_temp_path ${work}/body;
  proxy_temp_path ${work}/proxy;
  fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi;
  scgi_temp_path ${work}/scgi;
  # limits.max_header_bytes ${LIMITS.maxHeaderBytes}: the whole head in one buffer of that size.
  client_header_buffer_size ${LIMITS.maxHeaderBytes / 1024}k;
  large_client_header_buffers 1 ${LIMITS.maxHeaderBytes / 1024}k;
  client_max_body_size ${LIMITS.maxBodyBytes};
  client_body_timeout ${k(LIMITS.clientBodyMs)};
  client_header_timeout ${k(LIMITS.headerMs)};
  keepalive_timeout ${k(LIMITS.keepAliveMs)};
  proxy_connect_timeout ${k(LIMITS.connectMs)};
  proxy_read_timeout ${k(LIMITS.responseHeaderMs)};
  proxy_send_timeout ${k(LIMITS.responseHeaderMs)};
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $http_host;
  proxy_request_buffering off;
${upstreams.join('\n')}
  server {
    listen 127.0.0.1:${port};
${locations.join('\n')}
  }
}
`;
}

export async function startNginx(work, ports) {
  const port = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(work, d), { recursive: true });
  const file = join(work, 'nginx.conf');
  writeFileSync(file, nginxConfig(work, port, ports));
  const bin = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const proc = spawn(bin, ['-c', file, '-p', `${work}/`, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  proc.stderr.on('data', (c) => log.push(String(c)));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  await waitPort(port, exited, log);
  const version = await new Promise((resolve) => {
    const v = spawn(bin, ['-v'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    v.stderr.on('data', (c) => (out += c));
    v.on('exit', () => resolve(out.trim().replace('nginx version: ', '')));
  });
  return {
    name: 'nginx',
    port,
    note: `${version}, ${file}`,
    files: { config: file },
    log,
    // nginx's graceful stop is SIGQUIT (its SIGTERM is the fast, non-draining one).
    gracefulStop: () => proc.kill('SIGQUIT'),
    /** SIGTERM (nginx's fast stop) so the master takes its worker with it; SIGKILL only if it hangs. */
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitPort(port, exited, log) {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 100 && !gone; i++) {
    const up = await new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nginx did not listen on ${port}: ${log.join('')}`);
}
