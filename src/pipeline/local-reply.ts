import { catalog, type ErrorCode } from '../errors/catalog.js';
import type { LocalReply } from './phase.js';
import type { RequestCtx } from './request-ctx.js';

const JSON_TYPE: ReadonlyArray<readonly [string, string]> = [['content-type', 'application/json']];

/** The JSON error answer every gateway-made error uses: stable code, what to do, request id, trace id. */
export function errorReply(code: ErrorCode, req: Pick<RequestCtx, 'id' | 'trace'>, detail?: string): LocalReply {
  const entry = catalog[code];
  const trace = req.trace;
  const body = JSON.stringify({
    error: {
      code,
      message: detail ? `${entry.message} (${detail})` : entry.message,
      request_id: req.id,
      ...(trace === null ? {} : { trace_id: trace.traceId }),
    },
  });
  return { status: entry.status, code, headers: JSON_TYPE, body };
}
