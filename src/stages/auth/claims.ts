import { isFieldValue } from '../../http/fields.js';

/** The scopes a token holds: `scope` (space separated, RFC 8693) or `scp` (a list, or a string). */
export function scopesOf(payload: Record<string, unknown>): readonly string[] {
  const s = payload.scope ?? payload.scp;
  if (typeof s === 'string') return s.split(' ');
  if (Array.isArray(s)) return s.filter((x): x is string => typeof x === 'string');
  return [];
}

/** Whether the token holds at least one of `any` and every one of `all` (a null list asks nothing). */
export function hasScopes(held: readonly string[], any: readonly string[] | null, all: readonly string[] | null): boolean {
  if (any !== null && !any.some((s) => held.includes(s))) return false;
  if (all !== null && !all.every((s) => held.includes(s))) return false;
  return true;
}

/**
 * The upstream headers of the forwarded claims ([header, value, ...]), or null when a value holds a
 * control character (CR and LF would end the header line; none is allowed in a field value), or a
 * list item holds a comma (["a", "b,c"] would read as three items upstream): the request is refused
 * rather than the value altered. Strings go as they are, numbers and booleans as text, lists
 * comma-joined, objects as JSON; an absent claim sends no header.
 */
export function forwardedHeaders(payload: Record<string, unknown>, forward: readonly string[]): string[] | null {
  const out: string[] = [];
  for (let i = 0; i < forward.length; i += 2) {
    // Own claims only: `constructor` must not read Object.prototype's.
    const v = Object.hasOwn(payload, forward[i]) ? payload[forward[i]] : undefined;
    if (v === undefined || v === null) continue;
    const text = typeof v === 'string' ? v : Array.isArray(v) ? listText(v) : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (text === null || !isFieldValue(text)) return null;
    out.push(forward[i + 1], text);
  }
  return out;
}

/** A list claim as an HTTP list ("a,b"), or null when an item holds a comma and would read as two. */
function listText(v: unknown[]): string | null {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    const item = typeof x === 'string' ? x : JSON.stringify(x);
    if (item.includes(',')) return null;
    out = i === 0 ? item : `${out},${item}`;
  }
  return out;
}
