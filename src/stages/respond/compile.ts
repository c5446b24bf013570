import { isSafeValue, UNSAFE_VALUE } from '../../http/fields.js';
import type { LocalReply } from '../../pipeline/phase.js';
import type { StageProblems } from '../../pipeline/stage-factory.js';
import type { RespondConfig } from './schema.js';

/** The answer, built once: header names lower-cased, values checked (uWS writes them as they are). */
export function compileRespond(r: RespondConfig, problems: StageProblems): LocalReply {
  const headers = Object.entries(r.headers ?? {}).map(([name, value]) => {
    if (!isSafeValue(value)) problems.report(['respond', 'headers', name], UNSAFE_VALUE);
    return [name.toLowerCase(), value] as const;
  });
  return { status: r.status, code: null, headers, body: r.body };
}
