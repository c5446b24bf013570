import type { ErrorCode } from '../errors/catalog.js';
import { type FailureCondition, UpstreamTryError } from './http1/upstream-try.js';

/** Errors that happen before the upstream saw a byte: safe to try another endpoint, whatever the method. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/**
 * Map a failed try's error to the gateway error a client sees and the retry condition it meets:
 * the upstream client's own errors say both; socket errors are mapped by their code.
 */
export function classifyUpstreamError(err: unknown): { code: ErrorCode; condition: FailureCondition } {
  if (err instanceof UpstreamTryError) return { code: err.code, condition: err.condition };
  const code = (err as { code?: string } | null)?.code ?? '';
  if (CONNECT_FAILURES.has(code)) return { code: 'SLUICE_ERR_UPSTREAM_CONNECT', condition: 'connect_error' };
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT'))
    return { code: 'SLUICE_ERR_UPSTREAM_CONNECT', condition: 'connect_error' };
  return { code: 'SLUICE_ERR_UPSTREAM_RESET', condition: 'reset' };
}

/** What the log line names as the cause: a socket error's code, or the client's reason. */
export function upstreamCause(err: Error): string {
  if (err instanceof UpstreamTryError) return err.detail;
  return (err as { code?: string }).code ?? err.message;
}
