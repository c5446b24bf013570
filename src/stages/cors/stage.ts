import { lineValue } from '../../http/head-lines.js';
import { equalsLower } from '../../http/response-headers.js';
import { errorReply } from '../../pipeline/local-reply.js';
import { type LocalReply, type ResponseHead, removeHeader, type Stage, setHeader } from '../../pipeline/phase.js';
import type { RequestCtx } from '../../pipeline/request-ctx.js';
import type { CorsPlan } from './compile.js';

/** What a preflight answer varies by, for caches between the browser and sluice. */
const PREFLIGHT_VARY = 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers';

/**
 * Preflights (OPTIONS with Origin and Access-Control-Request-Method) are answered here, in
 * onRequest, and never reach the upstream: 204 with the allow headers, or 403 SLUICE_ERR_CORS_REJECTED
 * naming what is not allowed. Other requests go upstream as they are; onResponse adds
 * Access-Control-Allow-Origin (and the rest) when their Origin is allowed, and Vary: Origin, in place
 * of any the upstream sent.
 */
export function corsStage(plan: CorsPlan): Stage {
  return {
    name: 'cors',
    onRequest: (ctx) => onRequest(plan, ctx),
    onResponse: (ctx, head) => onResponse(plan, ctx, head),
    onLocalReply: (ctx, reply) => onLocalReply(plan, ctx, reply),
  };
}

function onRequest(plan: CorsPlan, ctx: RequestCtx): LocalReply | null {
  if (ctx.method !== 'OPTIONS') return null;
  const origin = ctx.header('origin');
  const method = ctx.header('access-control-request-method');
  if (origin !== undefined && method !== undefined) return preflight(plan, ctx, origin, method);
  return plan.preflightOnly ? errorReply('SLUICE_ERR_ROUTE_NOT_FOUND', ctx) : null;
}

function preflight(plan: CorsPlan, ctx: RequestCtx, origin: string, method: string): LocalReply {
  if (!originAllowed(plan, origin)) return rejected(ctx, `origin ${JSON.stringify(origin.slice(0, 128))} is not allowed`);
  if (!plan.methods.includes(method)) return rejected(ctx, `method ${JSON.stringify(method.slice(0, 32))} is not allowed`);
  const asked = ctx.header('access-control-request-headers');
  if (asked !== undefined) {
    for (const raw of asked.split(',')) {
      const name = raw.trim().toLowerCase();
      if (name !== '' && !plan.headers.includes(name)) return rejected(ctx, `header ${JSON.stringify(name.slice(0, 64))} is not allowed`);
    }
  }
  const headers: [string, string][] = [
    ['access-control-allow-origin', plan.anyOrigin ? '*' : origin],
    ['access-control-allow-methods', plan.allowMethods],
    ['access-control-max-age', plan.maxAge],
    ['vary', PREFLIGHT_VARY],
  ];
  if (plan.allowHeaders !== '') headers.push(['access-control-allow-headers', plan.allowHeaders]);
  if (plan.credentials) headers.push(['access-control-allow-credentials', 'true']);
  return { status: 204, code: null, headers };
}

function rejected(ctx: RequestCtx, why: string): LocalReply {
  const reply = errorReply('SLUICE_ERR_CORS_REJECTED', ctx, why);
  return { ...reply, headers: [...(reply.headers ?? []), ['vary', PREFLIGHT_VARY]] };
}

/** Origin values are compared as sent, lower-cased (scheme and host are case-insensitive). */
function originAllowed(plan: CorsPlan, origin: string): boolean {
  return plan.anyOrigin || plan.origins.includes(origin.toLowerCase());
}

function onResponse(plan: CorsPlan, ctx: RequestCtx, head: ResponseHead): void {
  // The route's cors: is the policy: an upstream's own CORS headers (say `*` with credentials) would
  // let through origins it refuses.
  removeHeader(head, 'access-control-allow-origin');
  removeHeader(head, 'access-control-allow-credentials');
  removeHeader(head, 'access-control-expose-headers');
  // With a list of origins the answer depends on Origin, whether or not this request sent one.
  if (!plan.anyOrigin) addVaryOrigin(head);
  const origin = ctx.header('origin');
  if (origin === undefined || !originAllowed(plan, origin)) return;
  setHeader(head, 'access-control-allow-origin', plan.anyOrigin ? '*' : origin);
  if (plan.credentials) setHeader(head, 'access-control-allow-credentials', 'true');
  if (plan.exposeHeaders !== '') setHeader(head, 'access-control-expose-headers', plan.exposeHeaders);
}

/**
 * A later stage refused the request (auth's 401, rate_limit's 429): without the allow headers the
 * browser hides that answer from the script, which then cannot tell an expired token from a
 * network error. Preflights never get here (this stage answered them).
 */
function onLocalReply(plan: CorsPlan, ctx: RequestCtx, reply: LocalReply): LocalReply {
  const origin = ctx.header('origin');
  const headers: [string, string][] = reply.headers === undefined ? [] : reply.headers.map(([n, v]) => [n, v]);
  if (!plan.anyOrigin) headers.push(['vary', 'Origin']);
  if (origin === undefined || !originAllowed(plan, origin)) return headers.length === 0 ? reply : { ...reply, headers };
  headers.push(['access-control-allow-origin', plan.anyOrigin ? '*' : origin]);
  if (plan.credentials) headers.push(['access-control-allow-credentials', 'true']);
  if (plan.exposeHeaders !== '') headers.push(['access-control-expose-headers', plan.exposeHeaders]);
  return { ...reply, headers };
}

/** Vary: the upstream's values (all its Vary lines, joined) plus Origin, unless one is already Origin or *. */
function addVaryOrigin(head: ResponseHead): void {
  const lines = head.upstream;
  let vary = '';
  for (let k = 0; k < lines.at.length; k += 4) {
    if (!equalsLower(lines.buf, lines.at[k], lines.at[k + 1], 'vary')) continue;
    const value = lineValue(lines, k);
    vary = vary === '' ? value : `${vary}, ${value}`;
  }
  if (vary !== '') {
    for (const token of vary.split(',')) {
      const t = token.trim().toLowerCase();
      if (t === 'origin' || t === '*') return;
    }
  }
  setHeader(head, 'vary', vary === '' ? 'Origin' : `${vary}, Origin`);
}
