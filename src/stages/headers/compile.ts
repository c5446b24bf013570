import { isSafeValue, UNSAFE_VALUE } from '../../http/fields.js';
import { HOP_BY_HOP_NAMES } from '../../http/hop-by-hop.js';
import type { RouteContext, StageProblems } from '../../pipeline/stage-factory.js';
import type { HeaderEdits, HeadersConfig } from './schema.js';

/** One direction's edits, names lower-cased. */
export interface EditsPlan {
  /** [name, value, name, value, ...] */
  readonly set: readonly string[];
  readonly remove: readonly string[];
}

export interface HeadersPlan {
  readonly request: EditsPlan | null;
  readonly response: EditsPlan | null;
}

/** Names that carry a message's framing or a connection's state: sluice alone writes them. */
const FRAMING = [...HOP_BY_HOP_NAMES, 'content-length'];
/** The request id is the one sluice logs and answers with: the upstream must see the same (worker/request-id.ts). */
const REQUEST_OWN = ['x-request-id'];
/** Upstream requests must carry Host (RFC 9112 §3.2). */
const REQUEST_KEEPS = ['host'];
/** Written downstream by sluice or uWS after the stages' headers, so an edit would only duplicate them. */
const RESPONSE_OWN = ['date', 'via', 'x-request-id'];

export function compileHeaders(c: HeadersConfig, route: RouteContext, problems: StageProblems): HeadersPlan | null {
  // A gateway-made answer meets neither phase: no request goes upstream, no upstream head comes back.
  if (!route.hasUpstream) problems.report(['headers'], 'has no effect on a route without an upstream; put headers in respond: instead');
  const request =
    c.request === undefined ? null : compileEdits(c.request, 'request', [...FRAMING, ...REQUEST_OWN], [...FRAMING, ...REQUEST_OWN, ...REQUEST_KEEPS], problems);
  const response =
    c.response === undefined ? null : compileEdits(c.response, 'response', [...FRAMING, ...RESPONSE_OWN], [...FRAMING, ...RESPONSE_OWN], problems);
  return request === null && response === null ? null : { request, response };
}

function compileEdits(e: HeaderEdits, direction: string, cannotSet: string[], cannotRemove: string[], problems: StageProblems): EditsPlan | null {
  const set: string[] = [];
  for (const [name, value] of Object.entries(e.set ?? {})) {
    const lower = name.toLowerCase();
    if (cannotSet.includes(lower)) problems.report(['headers', direction, 'set', name], `${lower} is written by sluice itself; it cannot be set`);
    // YAML keys differ by case where header names do not: one value per name.
    if (set.includes(lower)) problems.report(['headers', direction, 'set', name], `${lower} is set twice (names are case-insensitive); keep one`);
    if (!isSafeValue(value)) problems.report(['headers', direction, 'set', name], UNSAFE_VALUE);
    set.push(lower, value);
  }
  const remove = (e.remove ?? []).map((name, i) => {
    const lower = name.toLowerCase();
    if (cannotRemove.includes(lower))
      problems.report(['headers', direction, 'remove', i], `${lower} is needed or written by sluice itself; it cannot be removed`);
    for (let k = 0; k < set.length; k += 2) {
      if (set[k] === lower) problems.report(['headers', direction, 'remove', i], `${lower} is also under set; keep one of the two`);
    }
    return lower;
  });
  return set.length === 0 && remove.length === 0 ? null : { set, remove };
}
