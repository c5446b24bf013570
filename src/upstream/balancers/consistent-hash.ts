import type { EndpointPlan, HashOnPlan } from '../../compile/plan.js';
import type { RequestCtx } from '../../pipeline/request-ctx.js';
import type { Balancer, Candidates } from './balancer.js';
import { RoundRobin } from './round-robin.js';

/** Points on the ring per unit of weight: enough for an even spread over a handful of endpoints. */
const POINTS_PER_WEIGHT = 160;
/** The whole ring stays small (built by every worker on every publish): weights scale down to fit. */
const MAX_RING = 65_536;

/**
 * Consistent hashing on a ring with virtual nodes (Karger et al.; ketama). An endpoint's points come
 * from its origin, not its position in the list, so when one of N endpoints leaves only the keys it
 * held (≈1/N) move; keys of an unusable endpoint go to the next usable one clockwise. Requests
 * without a key are spread round robin.
 */
export class ConsistentHash implements Balancer {
  private readonly points: Uint32Array;
  private readonly owners: Uint16Array;
  private readonly fallback = new RoundRobin();

  constructor(
    endpoints: readonly EndpointPlan[],
    private readonly on: HashOnPlan,
  ) {
    const ring: [number, number][] = [];
    const totalWeight = endpoints.reduce((sum, e) => sum + e.weight, 0);
    const perWeight = Math.min(POINTS_PER_WEIGHT, MAX_RING / Math.max(1, totalWeight));
    endpoints.forEach((e, i) => {
      const n = e.weight === 0 ? 0 : Math.max(1, Math.round(e.weight * perWeight));
      for (let k = 0; k < n; k++) ring.push([hash32(`${e.origin}#${k}`), i]);
    });
    ring.sort((a, b) => a[0] - b[0]);
    this.points = Uint32Array.from(ring, (p) => p[0]);
    this.owners = Uint16Array.from(ring, (p) => p[1]);
  }

  pick(c: Candidates, ctx: RequestCtx): number {
    const key = hashKey(ctx, this.on);
    const points = this.points;
    if (key === undefined || points.length === 0) return this.fallback.pick(c);
    let lo = 0;
    let hi = points.length;
    const h = hash32(key);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    for (let k = 0; k < points.length; k++) {
      const owner = this.owners[(lo + k) % points.length];
      if (c.usable(owner)) return owner;
    }
    return -1;
  }
}

/** The request's hash key, or undefined when it has none. */
export function hashKey(ctx: RequestCtx, on: HashOnPlan): string | undefined {
  switch (on.kind) {
    case 'ip':
      return ctx.clientAddress;
    case 'header':
      return ctx.header(on.name);
    case 'cookie':
      return findPair(ctx.header('cookie'), on.name, ';');
    case 'query':
      return findPair(ctx.query, on.name, '&');
  }
}

/** The value of `name` in "a=1; b=2" or "a=1&b=2" (raw, not decoded), or undefined. */
function findPair(text: string | undefined, name: string, sep: string): string | undefined {
  if (text === undefined || text === '') return undefined;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf(sep, start);
    if (end === -1) end = text.length;
    let s = start;
    while (text.charCodeAt(s) === 0x20) s++;
    if (text.startsWith(name, s) && text.charCodeAt(s + name.length) === 0x3d) return text.slice(s + name.length + 1, end);
    start = end + 1;
  }
  return undefined;
}

/** FNV-1a over UTF-16 code units, then murmur3's finalizer so nearby strings spread over the ring. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
