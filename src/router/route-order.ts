import type { MatchPlan, SegmentPlan } from './match-plan.js';
import { conditionScore } from './router.js';

/**
 * The routes in the order the router prefers them (router.ts), as one list: for a request, the
 * first route in it whose path (or prefix) and conditions all hold is the one the router picks.
 * GET /routes shows the table in this order. The rule, top to bottom:
 *  1. `path:` patterns without a trailing *: a full match beats everything else. Between two
 *     patterns, segment by segment, a static segment comes before a :param.
 *  2. then `path: …/*` patterns and `prefix:` routes together, the longer literal text first (the text
 *     before a pattern's first :param or *, or the whole prefix); on a tie a * pattern comes before a
 *     prefix, and between * patterns static before :param before *, segment by segment.
 *  3. among routes with the same path or prefix: an exact host before a *.host before no host
 *     condition, then routes naming methods, then more header/query/scheme predicates, then config order.
 * Built for the admin API, not the hot path: the router itself walks its trie.
 */
export function inMatchOrder<P extends MatchPlan>(routes: readonly P[]): P[] {
  return [...routes].sort(byPrecedence);
}

function byPrecedence(a: MatchPlan, b: MatchPlan): number {
  return group(a) - group(b) || byPath(a, b) || conditionScore(b) - conditionScore(a) || a.index - b.index;
}

/** 0: a full path pattern; 1: a * pattern or a prefix. */
const group = (p: MatchPlan) => (p.path !== null && p.path.at(-1)?.kind !== 'wildcard' ? 0 : 1);

function byPath(a: MatchPlan, b: MatchPlan): number {
  if (group(a) === 1) {
    const longer = literalLength(b) - literalLength(a);
    if (longer !== 0) return longer;
    if ((a.prefix === null) !== (b.prefix === null)) return a.prefix === null ? -1 : 1;
    if (a.prefix !== null && b.prefix !== null) return a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0;
  }
  return bySegments(a.path ?? [], b.path ?? []);
}

const RANK = { static: 0, param: 1, wildcard: 2 } as const;

function bySegments(a: readonly SegmentPlan[], b: readonly SegmentPlan[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = RANK[a[i].kind] - RANK[b[i].kind];
    if (d !== 0) return d;
    const av = segmentText(a[i]);
    const bv = segmentText(b[i]);
    if (av !== bv) return av < bv ? -1 : 1;
  }
  return b.length - a.length;
}

const segmentText = (s: SegmentPlan) => (s.kind === 'static' ? s.value : '');

/** As router.ts measures it: "/" plus each static segment and its "/" before the first non-static one. */
function literalLength(p: MatchPlan): number {
  if (p.prefix !== null) return p.prefix.length;
  let n = 1;
  for (const s of p.path ?? []) {
    if (s.kind !== 'static') break;
    n += s.value.length + 1;
  }
  return n;
}

/** The pattern as written: static segments, :name and a trailing *. */
export function patternText(segments: readonly SegmentPlan[]): string {
  return `/${segments.map((s) => (s.kind === 'static' ? s.value : s.kind === 'param' ? `:${s.name}` : '*')).join('/')}`;
}
