import { dropFields } from '../../http/fields.js';
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
      const h = head.headers;
      for (const name of req.remove) dropFields(h, name);
      for (let i = 0; i < req.set.length; i += 2) {
        dropFields(h, req.set[i]);
        h.push(req.set[i], req.set[i + 1]);
      }
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
