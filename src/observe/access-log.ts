import type { Logger } from 'pino';
import type { ErrorCode } from '../errors/catalog.js';

/** Query parameters whose values are masked in access logs (compared lower-case, substring). */
const SECRET_PARAM = /token|key|secret|password|passwd|auth|signature|session|credential/i;

export interface AccessRecord {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly route: string | null;
  readonly upstream: string | null;
  readonly endpoint: string | null;
  readonly status: number;
  readonly bytes: number;
  readonly durationMs: number;
  readonly remote: string;
  readonly code: ErrorCode | null;
  readonly attempts: number;
}

/** One line per request. 5xx (and 499, client went away) are always logged; others are sampled. */
export function writeAccessLog(log: Logger, sample: number, r: AccessRecord): void {
  if (r.status < 500 && r.status !== 499 && sample < 1 && Math.random() >= sample) return;
  log.info({
    type: 'access',
    request_id: r.requestId,
    method: r.method,
    path: r.path,
    query: r.query === '' ? undefined : maskQuery(r.query),
    route: r.route,
    upstream: r.upstream,
    endpoint: r.endpoint,
    status: r.status,
    bytes: r.bytes,
    duration_ms: Math.round(r.durationMs * 1000) / 1000,
    remote: r.remote,
    code: r.code ?? undefined,
    attempts: r.attempts > 1 ? r.attempts : undefined,
  });
}

export function maskQuery(query: string): string {
  if (!SECRET_PARAM.test(query)) return query;
  return query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    if (eq === -1) return pair;
    return SECRET_PARAM.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=[redacted]` : pair;
  }).join('&');
}
