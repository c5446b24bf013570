import type { ErrorCode } from '../errors/catalog.js';

/** Errors that happen before the upstream saw a byte: safe to try another endpoint. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/** Map an undici/socket error to the gateway error a client sees. */
export function classifyUpstreamError(err: unknown): { code: ErrorCode; connectFailure: boolean } {
  const code = (err as { code?: string } | null)?.code ?? '';
  // llhttp rejections (bad status line, bad headers) carry no code, only this name.
  if ((err as Error | null)?.name === 'HTTPParserError') return { code: 'SLUICE_ERR_UPSTREAM_PROTOCOL', connectFailure: false };
  if (CONNECT_FAILURES.has(code)) return { code: 'SLUICE_ERR_UPSTREAM_CONNECT', connectFailure: true };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { code: 'SLUICE_ERR_UPSTREAM_CONNECT_TIMEOUT', connectFailure: true };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { code: 'SLUICE_ERR_UPSTREAM_TIMEOUT', connectFailure: false };
  if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_HEADERS_OVERFLOW' ||
      code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') {
    return { code: 'SLUICE_ERR_UPSTREAM_PROTOCOL', connectFailure: false };
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return { code: 'SLUICE_ERR_UPSTREAM_RESET', connectFailure: false };
  return { code: 'SLUICE_ERR_UPSTREAM_RESET', connectFailure: false };
}
