import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestCtx } from '../../pipeline/request-ctx.js';
import type { ApiKeyPlan } from './compile.js';

/** Presented more than once (two query parameters): refused, so no one can tell which one counts. */
export const AMBIGUOUS = '\0ambiguous';

/** The key the request presents: its header's value, its query parameter's (percent-decoded), null when none. */
export function presentedKey(ctx: RequestCtx, plan: ApiKeyPlan): string | null {
  if (plan.header !== null) {
    const v = ctx.header(plan.header);
    return v === undefined || v === '' ? null : v;
  }
  const q = ctx.query;
  if (q === '') return null;
  let found: string | null = null;
  for (const [start, end] of params(q, plan.query!)) {
    if (found !== null) return AMBIGUOUS;
    const raw = q.slice(start, end);
    try {
      found = decodeURIComponent(raw);
    } catch {
      found = raw;
    }
  }
  return found === '' ? null : found;
}

/**
 * The index of the key whose sha256 matches the presented key's, or -1. Every stored hash is
 * compared, in constant time, whatever matched before: the time says nothing of the keys.
 */
export function matchKey(presented: string, hashes: readonly Buffer[]): number {
  const digest = createHash('sha256').update(presented).digest();
  let found = -1;
  for (let i = 0; i < hashes.length; i++) {
    if (timingSafeEqual(digest, hashes[i])) found = i;
  }
  return found;
}

/** A raw query without any `name` parameter: the key never goes upstream. */
export function withoutParam(query: string, name: string): string {
  if (query === '') return query;
  return query
    .split('&')
    .filter((p) => p !== name && !p.startsWith(`${name}=`))
    .join('&');
}

/** [valueStart, valueEnd] of each `name=value` (or bare `name`) in a raw query. */
function* params(q: string, name: string): Generator<[number, number]> {
  let i = 0;
  while (i <= q.length) {
    let amp = q.indexOf('&', i);
    if (amp === -1) amp = q.length;
    if (q.startsWith(name, i)) {
      const after = i + name.length;
      if (after === amp) yield [after, after];
      else if (q.charCodeAt(after) === 0x3d) yield [after + 1, amp];
    }
    i = amp + 1;
  }
}
