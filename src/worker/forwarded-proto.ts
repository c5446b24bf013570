/** What the front door decides about the request's scheme, written into the exchange. */
export interface SchemeFields {
  scheme: 'http' | 'https';
  readonly rawHeaders: readonly string[];
}

/**
 * Behind a load balancer that terminates TLS, the listener's own scheme is `http` though the client
 * used https: from a peer in trusted_proxies (only: a client could write anything), one
 * X-Forwarded-Proto header whose whole value is `http` or `https` (any case) is the scheme, for the
 * route predicate `scheme` and the X-Forwarded-Proto sent upstream. Anything else (two headers, a
 * list, another word) leaves the listener's scheme. Called only for a trusted peer, so an untrusted
 * request pays nothing.
 */
export function takeForwardedProto(ex: SchemeFields): void {
  const h = ex.rawHeaders;
  let value: string | null = null;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== 'x-forwarded-proto') continue;
    if (value !== null) return;
    value = h[i + 1];
  }
  if (value === null || value.length > 5) return;
  const v = value.toLowerCase();
  if (v === 'https' || v === 'http') ex.scheme = v;
}
