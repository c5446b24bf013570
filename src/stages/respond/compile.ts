import type { LocalReply } from '../../pipeline/phase.js';
import type { StageProblems } from '../../pipeline/stage-factory.js';
import type { RespondConfig } from './schema.js';

/** The answer, built once: header names lower-cased, values checked (uWS writes them as they are). */
export function compileRespond(r: RespondConfig, problems: StageProblems): LocalReply {
  const headers = Object.entries(r.headers ?? {}).map(([name, value]) => {
    if (/[\r\n\0]/.test(value)) problems.report(['respond', 'headers', name], 'header values may not contain CR, LF or NUL');
    return [name.toLowerCase(), value] as const;
  });
  return { status: r.status, code: null, headers, body: r.body };
}
