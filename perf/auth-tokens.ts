import { generateKeyPairSync } from 'node:crypto';
import { createSigner } from 'fast-jwt';

/**
 * Keys and tokens of the auth scenarios, made at start (no key is committed). A hit scenario sends one
 * token over and over (verified once, then served from the worker's verified-token cache); a miss
 * scenario cycles through MISS_TOKENS distinct tokens, twice the cache's 10,000 entries, so every
 * request needs a signature check.
 */
export const HS_SECRET = 'perf-secret-perf-secret-perf-secret-0123456789';
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const ES_PUBLIC_PEM = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string;
const MISS_TOKENS = 20_000;

const claims = (i: number) => ({ sub: `user-${i % 1000}`, aud: 'perf', jti: `t${i}`, exp: Math.floor(Date.now() / 1000) + 24 * 3600 });
const hs = createSigner({ key: HS_SECRET, algorithm: 'HS256', kid: 'hs' });
const es = createSigner({ key: ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, algorithm: 'ES256', kid: 'es' });

const memo = <T>(make: () => T): (() => T) => {
  let v: T | undefined;
  return () => (v ??= make());
};

export const tokens = {
  hsHit: memo(() => [hs(claims(0))]),
  esHit: memo(() => [es(claims(0))]),
  hsMiss: memo(() => Array.from({ length: MISS_TOKENS }, (_, i) => hs(claims(i)))),
  esMiss: memo(() => Array.from({ length: MISS_TOKENS }, (_, i) => es(claims(i)))),
};
