import type { RouteContext, StageProblems } from '../../pipeline/stage-factory.js';
import type { RewriteConfig } from './schema.js';

export interface RewritePlan {
  /** Without its trailing slashes; null when there is nothing to strip. */
  readonly stripPrefix: string | null;
  readonly addPrefix: string | null;
}

export function compileRewrite(r: RewriteConfig, route: RouteContext, problems: StageProblems): RewritePlan | null {
  if (r.strip_prefix === undefined && r.add_prefix === undefined) return null;
  if (!route.hasUpstream) problems.report(['rewrite'], 'has no effect on a route without an upstream; remove it');
  return { stripPrefix: trim(r.strip_prefix), addPrefix: trim(r.add_prefix) };
}

function trim(prefix: string | undefined): string | null {
  return prefix === undefined || prefix === '/' ? null : prefix.replace(/\/+$/, '');
}
