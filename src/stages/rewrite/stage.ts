import type { Stage } from '../../pipeline/phase.js';
import type { RewritePlan } from './compile.js';

/**
 * Edits the path of every try's head. strip_prefix strips only at a segment boundary ("/api" strips
 * "/api/users" and "/api", never "/apiary") and never leaves an empty path.
 */
export function rewriteStage(plan: RewritePlan): Stage {
  const strip = plan.stripPrefix;
  const add = plan.addPrefix;
  return {
    name: 'rewrite',
    onUpstreamRequest(_ctx, head) {
      let path = head.path;
      if (strip !== null && path.startsWith(strip) && (path.length === strip.length || path.charCodeAt(strip.length) === 0x2f)) {
        path = path.length === strip.length ? '/' : path.slice(strip.length);
      }
      if (add !== null) path = add + path;
      head.path = path;
    },
  };
}
