import { generateKeyPairSync } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createSigner } from 'fast-jwt';
import type { JwtPlan } from '../src/stages/auth/compile.js';
import { JwtVerifier } from '../src/stages/auth/jwt-verifier.js';
import { pemAlgorithms } from '../src/stages/auth/key-algorithms.js';
import { TokenCache } from '../src/stages/auth/token-cache.js';

/**
 * node dist/perf/auth-verify.js: the CPU cost of one JWT check in the auth stage (a cache miss) per
 * algorithm, of a verified-token cache hit, and of a postMessage round trip to a worker thread: the
 * numbers that say whether handing misses to a verification pool (piscina) could pay. One thread,
 * no network: what a gateway worker spends per request on auth.
 */
const N = 20_000;
const plan = (algorithms: string[], key: string): JwtPlan => ({
  algorithms,
  keys: [{ kid: 'k', material: key, algorithms: key.includes('BEGIN') ? pemAlgorithms(key, algorithms) : algorithms }],
  jwksUrl: null,
  issuer: null,
  audience: ['perf'],
  requiredClaims: [],
  scopesAny: null,
  scopesAll: null,
  clockSkewMs: 30_000,
  maxAgeMs: 0,
  forward: ['sub', 'x-user-id'],
  stripAuthorization: false,
});

function tokensFor(algorithm: 'HS256' | 'ES256' | 'RS256' | 'EdDSA', signKey: string): string[] {
  const sign = createSigner({ key: signKey, algorithm, kid: 'k' });
  return Array.from({ length: N }, (_, i) => sign({ sub: `u${i}`, aud: 'perf', exp: Math.floor(Date.now() / 1000) + 3600 }));
}

function microseconds(run: (i: number) => void, n: number): number {
  for (let i = 0; i < Math.min(n, 2000); i++) run(i); // warm the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

const secret = 'perf-secret-perf-secret-perf-secret-0123456789';
const pair = (type: 'ec' | 'rsa' | 'ed25519') => {
  const k =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ed25519');
  return {
    pub: k.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    priv: k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
};
const ec = pair('ec');
const rsa = pair('rsa');
const ed = pair('ed25519');
const cases = [
  { name: 'HS256', plan: plan(['HS256'], secret), tokens: tokensFor('HS256', secret) },
  { name: 'ES256', plan: plan(['ES256'], ec.pub), tokens: tokensFor('ES256', ec.priv) },
  { name: 'RS256 (2048)', plan: plan(['RS256'], rsa.pub), tokens: tokensFor('RS256', rsa.priv) },
  { name: 'EdDSA', plan: plan(['EdDSA'], ed.pub), tokens: tokensFor('EdDSA', ed.priv) },
];

const rows: string[] = [];
for (const c of cases) {
  const v = new JwtVerifier(c.plan);
  const miss = microseconds((i) => {
    if (!('payload' in v.check(c.tokens[i % N]))) throw new Error(`${c.name}: refused`);
  }, N);
  rows.push(`| ${c.name} | ${miss.toFixed(1)} |`);
}
const cache = new TokenCache(10_000);
const entry = { principal: { via: 'jwt' as const, subject: 'u', keyId: 'k', claims: {} }, headers: [], untilMs: Date.now() + 3_600_000 };
const hot = cases[0].tokens.slice(0, 1000);
for (const t of hot) cache.set(t, entry);
const hit = microseconds((i) => {
  if (cache.get(hot[i % 1000], Date.now()) === undefined) throw new Error('miss');
}, 1_000_000);
rows.push(`| cache hit (Map lookup + exp check) | ${hit.toFixed(2)} |`);

// A worker that echoes: the least a verification pool costs per job, before any verification.
const echo = new Worker("require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m))", {
  eval: true,
});
function postAndWait(msg: string): Promise<void> {
  return new Promise((resolve) => {
    echo.once('message', () => resolve());
    echo.postMessage(msg);
  });
}
const token = cases[1].tokens[0];
for (let i = 0; i < 2000; i++) await postAndWait(token);
const t0 = process.hrtime.bigint();
const M = 20_000;
for (let i = 0; i < M; i++) await postAndWait(token);
const sequential = Number(process.hrtime.bigint() - t0) / 1000 / M;
// Many in flight (as under load): the per-message CPU on this thread is what a pool adds per miss.
const t1 = process.hrtime.bigint();
let left = M;
await new Promise<void>((resolve) => {
  echo.on('message', () => {
    if (--left === 0) resolve();
  });
  for (let i = 0; i < M; i++) echo.postMessage(token);
});
const pipelined = Number(process.hrtime.bigint() - t1) / 1000 / M;
rows.push(`| postMessage round trip to a worker, one at a time | ${sequential.toFixed(1)} |`);
rows.push(`| postMessage round trip, ${M} in flight (per message) | ${pipelined.toFixed(1)} |`);
await echo.terminate();

process.stdout.write(`| what | µs per request |\n|---|---|\n${rows.join('\n')}\n`);
