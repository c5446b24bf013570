import { REDACTED } from '../config/redact.js';

/**
 * What log lines must not show in clear (log.mask): header values, query parameters and JSON fields
 * named in config. Every masked value reads REDACTED, as GET /config's secrets do.
 */

/** Matches a name containing any of `names` (any case); null when there are none. */
export function secretNamePattern(names: readonly string[]): RegExp | null {
  if (names.length === 0) return null;
  return new RegExp(names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');
}

/** The query with the value of every parameter whose name matches `secret` masked. */
export function maskQuery(query: string, secret: RegExp | null): string {
  if (secret === null || !secret.test(query)) return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq === -1) return pair;
      return secret.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

/**
 * A URL from config as a structured log line may show it (a JWKS URL, a service's endpoint): without
 * user:password@, and its query, which may carry a token, as `?[redacted]`.
 */
export function logSafeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return REDACTED;
  }
  return `${u.protocol}//${u.host}${u.pathname}${u.search === '' ? '' : `?${REDACTED}`}`;
}

/**
 * pino redact paths for log.mask: a masked header under any `headers` object (top level or one
 * below), and a masked JSON field at the top level of a line or up to two objects down. pino
 * matches paths, not keys anywhere, so deeper fields are not covered: say so in the docs.
 */
export function redactPaths(headers: readonly string[], jsonFields: readonly string[]): string[] {
  const paths: string[] = [];
  for (const h of headers) {
    const key = `[${JSON.stringify(h)}]`;
    paths.push(key, `headers${key}`, `*.headers${key}`);
  }
  for (const f of jsonFields) {
    const key = `[${JSON.stringify(f)}]`;
    paths.push(key, `*${key}`, `*.*${key}`);
  }
  return paths;
}
