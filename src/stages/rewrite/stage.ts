import type { StageFactory } from '../../pipeline/phase.js';

interface RewritePlan {
  readonly stripPrefix: string | null;
  readonly addPrefix: string | null;
}

/**
 * `rewrite:` edits the path sent upstream after matching. strip_prefix only strips at a segment
 * boundary ("/api" strips "/api/users" and "/api", never "/apiary"), and never leaves an empty path.
 */
export const rewriteStage: StageFactory<RewritePlan> = {
  kind: 'rewrite',
  compile(route, _config, problems) {
    const r = route.rewrite;
    if (r === undefined || (r.strip_prefix === undefined && r.add_prefix === undefined)) return null;
    if (route.respond !== undefined) problems.report(['rewrite'], 'has no effect on a respond: route; remove it');
    const trim = (p: string | undefined) => (p === undefined || p === '/' ? null : p.replace(/\/+$/, ''));
    return { stripPrefix: trim(r.strip_prefix), addPrefix: trim(r.add_prefix) };
  },
  instantiate(plan) {
    return {
      name: 'rewrite',
      onUpstreamRequest(_ctx, head) {
        let path = head.path;
        const strip = plan.stripPrefix;
        if (strip !== null && path.startsWith(strip) && (path.length === strip.length || path.charCodeAt(strip.length) === 0x2f)) {
          path = path.length === strip.length ? '/' : path.slice(strip.length);
        }
        if (plan.addPrefix !== null) path = plan.addPrefix + path;
        head.path = path;
      },
    };
  },
};
