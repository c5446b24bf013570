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
   * The route's match names methods without OPTIONS: the route also matches OPTIONS for this stage
   * (alsoMatches), and an OPTIONS that is not a preflight answers 404.
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
    // Browsers leave the scheme's own port out of Origin, so such an entry could never match.
    else if (o.startsWith('https://') ? o.endsWith(':443') : o.endsWith(':80'))
      problems.report(['cors', 'origins', i], `"${o}" names the scheme's default port, which browsers leave out of Origin: write it without the port`);
  });
  // Answers the gateway makes itself carry no CORS headers: a respond: route's would be unreadable in the browser.
  if (!route.hasUpstream) problems.report(['cors'], 'needs a route with an upstream: answers made by the gateway (respond:) carry no CORS headers');
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
