import { createHash } from 'node:crypto';
import { isTokenShaped, tokenDigest } from '../compile/admin.js';
import type { AdminPlan, CompiledPlan, UpstreamPlan, UpstreamTlsPlan } from '../compile/plan.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';
import { caProblem, checkPair, readText } from './pem-files.js';
import { checkTlsFiles, type PairCheck } from './tls-pairs.js';

/**
 * The files a config names (admin.token_file, upstreams.*.tls ca/cert/key, listen[].tls files), read
 * and checked by the primary once per config generation, at start and on each reload, so that a bad
 * file refuses that config (FILE:LINE:COL of the field naming it) and the running one stays. What the
 * plan needs of them goes into the plan (the token's digest, the PEM text; for listeners, checked
 * private copies: tls-pairs.ts), so no worker and no connection reads an operator's file.
 * Messages name the file, never what is in it.
 */
export function readPlanFiles(plan: CompiledPlan, problems: SchemaProblem[], tls: PairCheck): CompiledPlan {
  const read = {
    ...plan,
    admin: readAdminToken(plan.admin, problems),
    upstreams: plan.upstreams.map((u) => (u.tls === null ? u : { ...u, tls: readUpstreamTls(u, u.tls, problems) })),
  };
  return { ...read, listeners: checkTlsFiles(plan.listeners, problems, tls) };
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
  const badCa = ca === null ? null : caProblem(t.caFile!, ca);
  if (badCa !== null) problems.push({ path: at('ca'), message: badCa });
  const pair = cert === null || key === null ? null : checkPair(cert, key);
  if (typeof pair === 'string') problems.push({ path: at('key'), message: `${t.certFile} and this key are not a usable pair (${pair})` });
  const id = createHash('sha256')
    .update(JSON.stringify([ca, cert, key, t.servername, t.verify]))
    .digest('hex')
    .slice(0, 16);
  return { ...t, ca, cert, key, id };
}
