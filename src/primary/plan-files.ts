import { readFileSync } from 'node:fs';
import { isTokenShaped, tokenDigest } from '../compile/admin.js';
import type { AdminPlan, CompiledPlan } from '../compile/plan.js';
import type { ConfigPath, SchemaProblem } from '../config/validate.js';

/**
 * The files a config names (admin.token_file), read and checked by the primary once per config
 * generation, at start and on each reload, so that a bad file refuses that config (FILE:LINE:COL of
 * the field naming it) and the running one stays. What the plan needs of them goes into the plan, so
 * no worker and no request reads a file. Messages name the file, never what is in it.
 */
export function readPlanFiles(plan: CompiledPlan, problems: SchemaProblem[]): CompiledPlan {
  return {
    ...plan,
    admin: readAdminToken(plan.admin, problems),
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

function readText(file: string, path: ConfigPath, problems: SchemaProblem[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return null;
  }
}
