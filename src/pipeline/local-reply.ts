import { catalog, type ErrorCode } from '../errors/catalog.js';
import type { LocalReply } from './phase.js';

const JSON_TYPE: ReadonlyArray<readonly [string, string]> = [['content-type', 'application/json']];

/** The JSON error answer every gateway-made error uses: stable code, what to do, request id. */
export function errorReply(code: ErrorCode, requestId: string, detail?: string): LocalReply {
  const entry = catalog[code];
  const body = JSON.stringify({
    error: { code, message: detail ? `${entry.message} (${detail})` : entry.message, request_id: requestId },
  });
  return { status: entry.status, code, headers: JSON_TYPE, body };
}
