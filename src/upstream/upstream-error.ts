import type { ErrorCode } from '../errors/catalog.js';

/** Errors that happen before the upstream saw a byte: safe to try another endpoint, whatever the method. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** How a failed try is retried (retries.on), or null when it never is. */
export type FailureCondition = 'connect_error' | 'reset' | 'timeout' | null;

/** Map an undici/socket error to the gateway error a client sees and the retry condition it meets. */
export function classifyUpstreamError(err: unknown): { code: ErrorCode; condition: FailureCondition } {
  const code = (err as { code?: string } | null)?.code ?? '';
  // llhttp rejections (bad status line, bad headers) carry no code, only this name.
  if ((err as Error | null)?.name === 'HTTPParserError') return { code: 'SLUICE_ERR_UPSTREAM_PROTOCOL', condition: null };
  if (CONNECT_FAILURES.has(code)) return { code: 'SLUICE_ERR_UPSTREAM_CONNECT', condition: 'connect_error' };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { code: 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT', condition: 'connect_error' };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { code: 'SLUICE_ERR_UPSTREAM_TIMEOUT', condition: 'timeout' };
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_HEADERS_OVERFLOW' ||
      code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return { code: 'SLUICE_ERR_UPSTREAM_PROTOCOL', condition: null };
  }
  return { code: 'SLUICE_ERR_UPSTREAM_RESET', condition: 'reset' };
}
