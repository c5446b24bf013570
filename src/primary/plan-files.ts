import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { isTokenShaped, tokenDigest } from '../compile/admin.js';
import type { AdminPlan, CompiledPlan, UpstreamPlan, UpstreamTlsPlan } from '../compile/plan.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';

/**
 * The files a config names (admin.token_file, upstreams.*.tls ca/cert/key), read and checked by the
 * primary once per config generation, at start and on each reload, so that a bad file refuses that
 * config (FILE:LINE:COL of the field naming it) and the running one stays. What the plan needs of them
 * goes into the plan (the token's digest, the PEM text), so no worker and no connection reads a file.
 * Messages name the file, never what is in it.
 */
export function readPlanFiles(plan: CompiledPlan, problems: SchemaProblem[]): CompiledPlan {
  return {
    ...plan,
    admin: readAdminToken(plan.admin, problems),
    upstreams: plan.upstreams.map((u) => (u.tls === null ? u : { ...u, tls: readUpstreamTls(u, u.tls, problems) })),
  };
}

function readAdminToken(a: AdminPlan, problems: SchemaProblem[]): AdminPlan {
  if (a.tokenFile === null) return a;
  const path = ['admin', 'token_file'];
  const text = readText(a.tokenFile, path, problems);
  if (text === null) return a;
  const token = text.trim();
  if (!isTokenShaped(token)) {
    problems.push({ path, message: `${a.tokenFile} must hold one token of 16 or more visible ASCII characters (no spaces)` });
    return a;
  }
  return { ...a, tokenDigest: tokenDigest(token) };
}

function readUpstreamTls(u: UpstreamPlan, t: UpstreamTlsPlan, problems: SchemaProblem[]): UpstreamTlsPlan {
  const at = (field: string): ConfigPath => ['upstreams', u.name, 'tls', field];
  const ca = t.caFile === null ? null : readText(t.caFile, at('ca'), problems);
  const cert = t.certFile === null ? null : readText(t.certFile, at('cert'), problems);
  const key = t.keyFile === null ? null : readText(t.keyFile, at('key'), problems);
  if (ca !== null) checkCa(t.caFile!, ca, at('ca'), problems);
  if (cert !== null && key !== null) checkPair(t.certFile!, cert, key, at('key'), problems);
  const id = createHash('sha256')
    .update(JSON.stringify([ca, cert, key, t.servername, t.verify]))
    .digest('hex')
    .slice(0, 16);
  return { ...t, ca, cert, key, id };
}

function readText(file: string, path: ConfigPath, problems: SchemaProblem[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return null;
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

/** Every certificate in the bundle must parse: a CA file OpenSSL would skip silently is an error. */
function checkCa(file: string, pem: string, path: ConfigPath, problems: SchemaProblem[]): void {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) {
    problems.push({ path, message: `${file} holds no PEM certificate` });
    return;
  }
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      problems.push({ path, message: `${file}: certificate ${i + 1} does not parse (${(err as Error).message})` });
    }
  }
}

/** OpenSSL checks that the key belongs to the certificate when both go into one context. */
function checkPair(certFile: string, cert: string, key: string, path: ConfigPath, problems: SchemaProblem[]): void {
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    problems.push({ path, message: `${certFile} and this key are not a usable pair (${(err as Error).message})` });
  }
}
