import type { HostsPlan, MatchPlan, PredicatePlan, SegmentPlan } from './match-plan.js';

/**
 * The route table one worker matches against, built from the plan's plain data.
 *
 * Precedence (documented in README "Routing"):
 *  1. Path first. `path:` patterns live in a segment trie searched static > :param > * at every
 *     segment, backtracking when a branch's routes all fail their other conditions. A full `path:`
 *     match (no *) beats every `prefix:` route. Between a * pattern and `prefix:` routes, the longer
 *     literal text before the first wildcard/param wins.
 *  2. Among routes with the same path pattern: exact host > *.host > no host condition, then routes
 *     naming methods, then more header/query predicates, then config order.
 */

/** What the proxy needs to know about a request to route it; filled in by worker/accept.ts. */
export interface RoutableRequest {
  readonly method: string;
  /** 'https' from a TLS listener, or when a trusted proxy's X-Forwarded-Proto says so. */
  readonly scheme: 'http' | 'https';
  /** Lower-case Host header value, port included when sent. */
  readonly host: string;
  /** Normalised path. */
  readonly path: string;
  readonly query: string;
  header(lowerName: string): string | undefined;
}

export interface RouteMatch<R> {
  readonly route: R;
  /** Values of the pattern's :params, in pattern order. */
  readonly params: readonly string[];
}

interface Candidate<R> {
  readonly route: R;
  readonly plan: MatchPlan;
}

class TrieNode<R> {
  readonly staticChildren = new Map<string, TrieNode<R>>();
  param: TrieNode<R> | null = null;
  /** Routes whose pattern ends exactly here (sorted: most specific non-path condition first). */
  terminal: Candidate<R>[] | null = null;
  /** Routes whose pattern ends here with a trailing "*". */
  wildcard: Candidate<R>[] | null = null;
}

export class Router<R> {
  private readonly root = new TrieNode<R>();
  /**
   * prefix: routes by prefix, and the distinct prefix lengths longest first: a lookup tries one
   * Map.get per distinct length instead of scanning every prefix route.
   */
  private readonly prefixes = new Map<string, Candidate<R>[]>();
  private prefixLengths: number[] = [];
  /** Literal length before the first non-static segment, per wildcard route. */
  private readonly literalLength = new Map<MatchPlan, number>();

  constructor(entries: ReadonlyArray<{ plan: MatchPlan; route: R }>) {
    for (const { plan, route } of entries) {
      if (plan.path !== null) this.insertPath(plan.path, { plan, route });
      else if (plan.prefix !== null) this.insertPrefix(plan.prefix, { plan, route });
    }
    this.sortAll(this.root);
    for (const candidates of this.prefixes.values()) candidates.sort(byConditionSpecificity);
    this.prefixLengths = [...new Set([...this.prefixes.keys()].map((p) => p.length))].sort((a, b) => b - a);
  }

  private insertPath(segments: readonly SegmentPlan[], c: Candidate<R>): void {
    let node = this.root;
    let literal = 1;
    let seenNonStatic = false;
    for (const seg of segments) {
      if (seg.kind === 'wildcard') {
        (node.wildcard ??= []).push(c);
        this.literalLength.set(c.plan, literal);
        return;
      }
      if (seg.kind === 'param') {
        seenNonStatic = true;
        node = node.param ??= new TrieNode<R>();
      } else {
        if (!seenNonStatic) literal += seg.value.length + 1;
        let next = node.staticChildren.get(seg.value);
        if (next === undefined) node.staticChildren.set(seg.value, (next = new TrieNode<R>()));
        node = next;
      }
    }
    (node.terminal ??= []).push(c);
  }

  private insertPrefix(prefix: string, c: Candidate<R>): void {
    const candidates = this.prefixes.get(prefix);
    if (candidates === undefined) this.prefixes.set(prefix, [c]);
    else candidates.push(c);
  }

  private sortAll(node: TrieNode<R>): void {
    node.terminal?.sort(byConditionSpecificity);
    node.wildcard?.sort(byConditionSpecificity);
    for (const child of node.staticChildren.values()) this.sortAll(child);
    if (node.param) this.sortAll(node.param);
  }

  /** Hot path. Returns null when nothing matches (→ 404). */
  find(req: RoutableRequest): RouteMatch<R> | null {
    const params: string[] = [];
    const exact = this.walk(this.root, req, 1, params);
    if (exact !== null && exact.kind === 'terminal') return { route: exact.c.route, params };
    const prefixed = this.findPrefix(req);
    if (exact === null) return prefixed === null ? null : { route: prefixed.route, params: [] };
    if (prefixed !== null && prefixed.prefix.length > (this.literalLength.get(exact.c.plan) ?? 0)) {
      return { route: prefixed.route, params: [] };
    }
    params.push(exact.rest);
    return { route: exact.c.route, params };
  }

  /**
   * Depth-first in static > param > wildcard order. `start` is the index just after a "/".
   * Params are pushed as they are bound and popped on backtrack.
   */
  private walk(
    node: TrieNode<R>,
    req: RoutableRequest,
    start: number,
    params: string[],
  ): { kind: 'terminal'; c: Candidate<R> } | { kind: 'wildcard'; c: Candidate<R>; rest: string } | null {
    const path = req.path;
    if (start > path.length) {
      const c = node.terminal === null ? null : firstMatching(node.terminal, req);
      if (c !== null) return { kind: 'terminal', c };
    } else {
      let end = path.indexOf('/', start);
      if (end === -1) end = path.length;
      const segment = path.slice(start, end);
      const child = node.staticChildren.get(segment);
      if (child !== undefined) {
        const hit = this.walk(child, req, end + 1, params);
        if (hit !== null && hit.kind === 'terminal') return hit;
        if (hit !== null) return this.preferTerminalAfter(node, req, end, segment, params, hit);
      }
      const viaParam = this.walkParam(node, req, end, segment, params);
      if (viaParam !== null) return viaParam;
    }
    if (node.wildcard !== null) {
      const c = firstMatching(node.wildcard, req);
      if (c !== null) return { kind: 'wildcard', c, rest: start > path.length ? '' : path.slice(start) };
    }
    return null;
  }

  private walkParam(node: TrieNode<R>, req: RoutableRequest, end: number, segment: string, params: string[]) {
    if (node.param === null || segment === '') return null;
    params.push(segment);
    const hit = this.walk(node.param, req, end + 1, params);
    if (hit === null) params.pop();
    return hit;
  }

  /** A static branch only found a wildcard: a full match through the :param branch still beats it. */
  private preferTerminalAfter(
    node: TrieNode<R>,
    req: RoutableRequest,
    end: number,
    segment: string,
    params: string[],
    wildcardHit: { kind: 'wildcard'; c: Candidate<R>; rest: string },
  ) {
    const mark = params.length;
    const viaParam = this.walkParam(node, req, end, segment, params);
    if (viaParam !== null && viaParam.kind === 'terminal') return viaParam;
    params.length = mark;
    return wildcardHit;
  }

  private findPrefix(req: RoutableRequest): { route: R; prefix: string } | null {
    const path = req.path;
    for (const length of this.prefixLengths) {
      if (length > path.length) continue;
      const prefix = length === path.length ? path : path.slice(0, length);
      const candidates = this.prefixes.get(prefix);
      if (candidates === undefined) continue;
      const c = firstMatching(candidates, req);
      if (c !== null) return { route: c.route, prefix };
    }
    return null;
  }
}

function firstMatching<R>(list: Candidate<R>[], req: RoutableRequest): Candidate<R> | null {
  // Lists are sorted by how specific their host condition is, but "exact beats *.host" depends on
  // the request's host, so rank on the fly; lists are tiny (routes sharing one path pattern).
  let best: Candidate<R> | null = null;
  let bestRank = -1;
  for (const c of list) {
    if (!conditionsHold(c.plan, req)) continue;
    const rank = hostRank(c.plan.hosts, req.host);
    if (rank > bestRank) {
      best = c;
      bestRank = rank;
    }
    if (rank === 2) break;
  }
  return best;
}

export function conditionsHold(p: MatchPlan, req: RoutableRequest): boolean {
  if (p.methods !== null && !p.methods.includes(req.method)) return false;
  if (p.scheme !== null && p.scheme !== req.scheme) return false;
  if (p.hosts !== null && hostRank(p.hosts, req.host) === 0) return false;
  if (p.headers !== null && !headersHold(p.headers, req)) return false;
  if (p.query !== null && !queryHolds(p.query, req.query)) return false;
  return true;
}

/** 2 = exact host, 1 = wildcard host (or no host condition), 0 = no match. */
function hostRank(hosts: HostsPlan | null, host: string): number {
  if (hosts === null) return 1;
  if (hosts.exact.includes(host)) return 2;
  const colon = host.lastIndexOf(':');
  const bare = colon > host.lastIndexOf(']') && colon !== -1 ? host.slice(0, colon) : host;
  if (bare !== host && hosts.exact.includes(bare)) return 2;
  for (const s of hosts.suffixes) if (bare.endsWith(s) && bare.length > s.length) return 1;
  return 0;
}

function headersHold(preds: readonly PredicatePlan[], req: RoutableRequest): boolean {
  for (const p of preds) {
    const v = req.header(p.name);
    if (v === undefined || (p.value !== null && v !== p.value)) return false;
  }
  return true;
}

function queryHolds(preds: readonly PredicatePlan[], query: string): boolean {
  if (query === '') return false;
  for (const p of preds) {
    const v = queryParam(query, p.name);
    if (v === undefined || (p.value !== null && v !== p.value)) return false;
  }
  return true;
}

/** First value of `name` in a raw query string, percent-decoded; undefined when absent. */
export function queryParam(query: string, name: string): string | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (safeDecode(key) !== name) continue;
    return eq === -1 ? '' : safeDecode(pair.slice(eq + 1));
  }
  return undefined;
}

function safeDecode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Sort key for routes sharing a path: host condition, then methods, then predicates, then config order. */
function byConditionSpecificity<R>(a: Candidate<R>, b: Candidate<R>): number {
  return conditionScore(b.plan) - conditionScore(a.plan) || a.plan.index - b.plan.index;
}

/** How specific a route's conditions other than the path are; route-order.ts sorts by it too. */
export function conditionScore(p: MatchPlan): number {
  const hosts = p.hosts === null ? 0 : p.hosts.exact.length > 0 ? 2 : 1;
  const predicates = (p.headers?.length ?? 0) + (p.query?.length ?? 0) + (p.scheme !== null ? 1 : 0);
  return hosts * 10_000 + (p.methods !== null ? 1000 : 0) + Math.min(predicates, 999);
}
