import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestCtx } from '../../pipeline/request-ctx.js';
import type { ApiKeyPlan } from './compile.js';

/** Presented more than once (two headers, two query parameters): refused, so no one can tell which one counts. */
export const AMBIGUOUS = '\0ambiguous';

/** What the access log shows instead of the key (log.mask.query_params in observe/mask.ts says the same). */
const REDACTED = '[redacted]';

/** The key the request presents: its header's value, its query parameter's (percent-decoded), null when none. */
export function presentedKey(ctx: RequestCtx, plan: ApiKeyPlan): string | null {
  if (plan.header !== null) return headerKey(ctx.rawHeaders, plan.header);
  const q = ctx.query;
  if (q === '') return null;
  const name = plan.query!;
  let found: string | null = null;
  let start = 0;
  while (start <= q.length) {
    const end = paramEnd(q, start);
    const eq = nameEnd(q, start, end);
    if (isName(q, start, eq, name)) {
      if (found !== null) return AMBIGUOUS;
      found = eq === end ? '' : decoded(q.slice(eq + 1, end));
    }
    start = end + 1;
  }
  return found === '' ? null : found;
}

/** The header's value; a second one of the same name is AMBIGUOUS (uWS keeps both, and so would the upstream). */
function headerKey(raw: readonly string[], name: string): string | null {
  let found: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i] !== name) continue;
    if (found !== null) return AMBIGUOUS;
    found = raw[i + 1];
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

/** A raw query without any `name` parameter (however its name is percent-encoded): the key never goes upstream. */
export function withoutParam(query: string, name: string): string {
  return rewriteParam(query, name, false);
}

/** The raw query with the value of every `name` parameter replaced by [redacted]: what the access log may show. */
export function maskedParam(query: string, name: string): string {
  return rewriteParam(query, name, true);
}

/** Whether a raw query holds a `name` parameter at all (encoded names included). */
export function hasParam(q: string, name: string): boolean {
  let start = 0;
  while (start <= q.length) {
    const end = paramEnd(q, start);
    if (isName(q, start, nameEnd(q, start, end), name)) return true;
    start = end + 1;
  }
  return false;
}

function rewriteParam(q: string, name: string, mask: boolean): string {
  let out = '';
  let start = 0;
  while (start <= q.length) {
    const end = paramEnd(q, start);
    const eq = nameEnd(q, start, end);
    const part = isName(q, start, eq, name) ? (mask ? `${q.slice(start, eq)}=${REDACTED}` : null) : q.slice(start, end);
    if (part !== null) out = out === '' ? part : `${out}&${part}`;
    start = end + 1;
  }
  return out;
}

/** Where the parameter that starts at `start` ends: its "&" or the end of the query. */
function paramEnd(q: string, start: number): number {
  const amp = q.indexOf('&', start);
  return amp === -1 ? q.length : amp;
}

/** Where its name ends: its "=", or `end` when it has none. */
function nameEnd(q: string, start: number, end: number): number {
  for (let i = start; i < end; i++) if (q.charCodeAt(i) === 0x3d) return i;
  return end;
}

/**
 * Whether q[start, end) is `name`. An upstream decodes names (`%6B` is `k`), so an encoded name is
 * the parameter too: compared decoded, which costs a slice only when the name holds a "%".
 */
function isName(q: string, start: number, end: number, name: string): boolean {
  const len = end - start;
  if (len === name.length) return q.startsWith(name, start);
  if (len < name.length) return false;
  const pct = q.indexOf('%', start);
  return pct !== -1 && pct < end && decoded(q.slice(start, end)) === name;
}

function decoded(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
