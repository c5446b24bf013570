import type { Stage } from '../../pipeline/phase.js';
import type { StageEnv } from '../../pipeline/stage-factory.js';
import { ApiKeyStage } from './api-key-stage.js';
import type { AuthPlan, JwksSettings } from './compile.js';
import { JwtStage } from './jwt-stage.js';

/**
 * `auth:` in a worker. onRequest decides who the caller is (a bearer JWT or an API key), answers
 * 401/403 when it cannot tell, and sets ctx.principal; onUpstreamRequest removes whatever the client
 * sent under the forwarded names, then writes the verified values (no spoofing), and drops the
 * credential when it must not go upstream.
 */
export function authStage(plan: AuthPlan, env: StageEnv<JwksSettings>): Stage {
  return plan.jwt !== null ? new JwtStage(plan, plan.jwt, env) : new ApiKeyStage(plan, plan.apiKey!, env);
}
