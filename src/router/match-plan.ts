/**
 * What the router needs of a route to match requests against it: compile/ produces it (as part of
 * RoutePlan), the router reads nothing else of the plan.
 */
export interface MatchPlan {
  /** The route's place in the config: the last tie-breaker. */
  readonly index: number;
  readonly hosts: HostsPlan | null;
  readonly methods: readonly string[] | null;
  /** The request's scheme (a TLS listener's, or a trusted proxy's X-Forwarded-Proto) must be this; null: either. */
  readonly scheme: 'http' | 'https' | null;
  readonly path: readonly SegmentPlan[] | null;
  readonly prefix: string | null;
  readonly headers: readonly PredicatePlan[] | null;
  readonly query: readonly PredicatePlan[] | null;
}

/** One path segment of a `path:` pattern. */
export type SegmentPlan =
  | { readonly kind: 'static'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

export interface PredicatePlan {
  /** Lower-cased for headers, as written for query parameters. */
  readonly name: string;
  /** null = must be present with any value. */
  readonly value: string | null;
}

export interface HostsPlan {
  /** Lower-cased exact names, with or without :port. */
  readonly exact: readonly string[];
  /** Lower-cased suffixes of *.example.com patterns, stored as ".example.com". */
  readonly suffixes: readonly string[];
}
