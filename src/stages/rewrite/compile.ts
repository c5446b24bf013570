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
  checkNormal(r.strip_prefix, 'strip_prefix', route, problems);
  checkNormal(r.add_prefix, 'add_prefix', route, problems);
  return { stripPrefix: trim(r.strip_prefix), addPrefix: trim(r.add_prefix) };
}

/**
 * Both prefixes must already be normalised paths (under the config's limits.path): the stage edits a
 * normalised path, and a prefix with a dot-segment, "//", %2F or %5C would make the path sent
 * upstream mean something the router never matched (add_prefix: /v1/..) or never match (strip_prefix).
 */
function checkNormal(prefix: string | undefined, field: string, route: RouteContext, problems: StageProblems): void {
  if (prefix === undefined) return;
  const { path: n, why } = route.normalizePath(prefix);
  if (n === null) problems.report(['rewrite', field], `is not a valid path: ${why}`);
  else if (n !== prefix && n !== prefix + '/') problems.report(['rewrite', field], `is not a normalised path (it normalises to ${JSON.stringify(n)})`);
}

function trim(prefix: string | undefined): string | null {
  return prefix === undefined || prefix === '/' ? null : prefix.replace(/\/+$/, '');
}
