import type { Logger } from 'pino';
import type { ErrorCode } from '../../errors/catalog.js';
import { OncePerSecond } from '../../observe/once-per-second.js';
import type { Counter } from '../../observe/worker-metrics.js';
import type { LocalReply } from '../../pipeline/phase.js';
import type { RequestCtx } from '../../pipeline/request-ctx.js';
import type { StageEnv } from '../../pipeline/stage-factory.js';
import type { AuthPlan } from './compile.js';
import { challenges, REFUSED, type Refusal, refusalReply } from './refusal.js';

/** Refusal answers and their log lines, shared by both kinds. */
export class Refuser {
  private readonly challenge: Map<Refusal, string>;
  private readonly lines = new Map<ErrorCode, OncePerSecond>();
  /** sluice_auth_failures_total per reason (the key of REFUSED: missing, expired, signature...). */
  private readonly failures = new Map<Refusal, Counter>();
  private readonly log: Logger;

  constructor(
    private readonly plan: AuthPlan,
    env: StageEnv,
  ) {
    this.log = env.log;
    for (const [reason, r] of Object.entries(REFUSED)) this.failures.set(r, env.counter('authFailures', [plan.route, reason]));
    const scopes = plan.jwt === null ? [] : [...(plan.jwt.scopesAll ?? []), ...(plan.jwt.scopesAny ?? [])];
    this.challenge = challenges(plan.realm, scopes);
    for (const r of Object.values(REFUSED)) this.lines.set(r.code, new OncePerSecond());
  }

  /** The answer; a log line per code at most once a second, with how many were refused since. Never the credential. */
  refuse(ctx: RequestCtx, r: Refusal): LocalReply {
    this.failures.get(r)!.value++;
    const n = this.lines.get(r.code)!.hit();
    if (n > 0) this.log.info({ code: r.code, reason: r.description, route: this.plan.route, refused: n }, 'auth refusing requests');
    return refusalReply(r, this.challenge.get(r)!, ctx);
  }
}
