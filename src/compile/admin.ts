import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { GatewayConfig } from '../config/types.js';
import type { SchemaProblem } from '../config/validate.js';
import type { AdminPlan } from './plan.js';

/**
 * admin: → plan. The token is kept only as its digest, so the plan (which goes to every worker) never
 * holds it; a token_file is read by the primary (primary/plan-files.ts), which fills in the digest.
 */
export function compileAdmin(a: GatewayConfig['admin'], file: string, problems: SchemaProblem[]): AdminPlan {
  if (a.token !== undefined && a.token_file !== undefined)
    problems.push({ path: ['admin', 'token_file'], message: 'set one of admin.token (or SLUICE_ADMIN_TOKEN) and admin.token_file' });
  // SLUICE_ADMIN_TOKEN is applied after the schema check, so the schema's rule is repeated here.
  if (a.token !== undefined && !isTokenShaped(a.token))
    problems.push({ path: ['admin', 'token'], message: 'must be 16 or more visible ASCII characters (no spaces)' });
  return {
    host: a.host,
    port: a.port,
    tokenFile: a.token_file === undefined ? null : resolve(dirname(file), a.token_file),
    tokenDigest: a.token === undefined ? null : tokenDigest(a.token),
  };
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function isTokenShaped(token: string): boolean {
  return /^[!-~]{16,}$/.test(token);
}
