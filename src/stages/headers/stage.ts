import { type ResponseHead, removeHeader, type Stage, setHeader } from '../../pipeline/phase.js';
import type { EditsPlan, HeadersPlan } from './compile.js';

/**
 * Request edits run on every try's head (onUpstreamRequest), after sluice added X-Forwarded-* and Via,
 * so a route can replace those too; response edits run on the upstream's head (onResponse). A set
 * replaces every header of its name, which also keeps a client from supplying a value the route sets.
 */
export function headersStage(plan: HeadersPlan): Stage {
  const stage: { -readonly [K in keyof Stage]: Stage[K] } = { name: 'headers' };
  const req = plan.request;
  if (req !== null) {
    stage.onUpstreamRequest = (_ctx, head) => {
      dropAll(head.headers, req.remove);
      dropAll(head.headers, req.set, 2);
      for (let i = 0; i < req.set.length; i += 2) head.headers.push(req.set[i], req.set[i + 1]);
    };
  }
  const res = plan.response;
  if (res !== null) {
    stage.onResponse = (_ctx, head) => editResponse(head, res);
  }
  return stage;
}

function editResponse(head: ResponseHead, res: EditsPlan): void {
  for (let i = 0; i < res.set.length; i += 2) setHeader(head, res.set[i], res.set[i + 1]);
  for (const name of res.remove) removeHeader(head, name);
}

/** Drop from a flat [name, value, ...] list every header named in `names` (every `step`-th entry). */
function dropAll(headers: string[], names: readonly string[], step = 1): void {
  for (let i = headers.length - 2; i >= 0; i -= 2) {
    for (let k = 0; k < names.length; k += step) {
      if (headers[i] === names[k]) {
        headers.splice(i, 2);
        break;
      }
    }
  }
}
