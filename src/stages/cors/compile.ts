import type { RouteContext, StageProblems } from '../../pipeline/stage-factory.js';
import type { CorsConfig } from './schema.js';

export interface CorsPlan {
  /** origins: "*" (then credentials is false: compile refuses both). */
  readonly anyOrigin: boolean;
  /** Exact origins, lower-cased. */
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  /** Lower-cased. */
  readonly headers: readonly string[];
  /** Header values, written as they are. */
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
  readonly credentials: boolean;
  /**
   * The route's match names methods without OPTIONS: compile/route.ts adds OPTIONS so preflights
   * reach this stage, and an OPTIONS that is not a preflight answers 404 as it would have.
   */
  readonly preflightOnly: boolean;
}

/** scheme://host[:port], as browsers send Origin (no path, no trailing slash). */
const ORIGIN = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9-]+(\.[a-z0-9-]+)*)(:[0-9]{1,5})?$/;

export function compileCors(c: CorsConfig, route: RouteContext, problems: StageProblems): CorsPlan {
  const anyOrigin = c.origins === '*';
  if (anyOrigin && c.credentials) {
    problems.report(['cors', 'credentials'], 'cannot be true with origins: "*" (browsers refuse it); list the origins that may send credentials');
  }
  const origins = anyOrigin ? [] : (c.origins as readonly string[]).map((o) => o.toLowerCase());
  origins.forEach((o, i) => {
    if (!ORIGIN.test(o)) problems.report(['cors', 'origins', i], `"${o}" is not an origin: write scheme://host[:port], without a path or trailing slash`);
  });
  const headers = (c.headers ?? []).map((h) => h.toLowerCase());
  const methods = [...c.methods];
  return {
    anyOrigin,
    origins,
    methods,
    headers,
    allowMethods: methods.join(', '),
    allowHeaders: headers.join(', '),
    exposeHeaders: (c.expose_headers ?? []).join(', '),
    maxAge: String(c.max_age),
    credentials: c.credentials,
    preflightOnly: route.methods !== null && !route.methods.includes('OPTIONS'),
  };
}
