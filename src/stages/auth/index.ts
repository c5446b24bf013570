import { defineStage } from '../../pipeline/stage-factory.js';
import { type AuthPlan, compileAuth, compileJwksSettings, type JwksSettings } from './compile.js';
import { authSchema, jwksSettingsSchema } from './schema.js';
import { startAuthService } from './service.js';
import { authStage } from './stage.js';

/** `auth:` on a route (a JWT or an API key), `jwks:` for how JWKS documents are fetched (docs/auth.md). */
export const auth = defineStage<typeof authSchema, AuthPlan, JwksSettings>({
  kind: 'auth',
  schema: authSchema,
  settings: { key: 'jwks', schema: jwksSettingsSchema, compile: compileJwksSettings },
  compile: (raw, route, _settings, problems) => compileAuth(raw, route, problems),
  // JWKS documents are fetched and API keys files watched once, in the primary; their keys go to every worker.
  service: { start: startAuthService },
  instantiate: (plan, env) => authStage(plan, env),
});
