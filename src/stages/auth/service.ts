import type { ServiceEnv, StageService } from '../../pipeline/stage-factory.js';
import type { AuthPlan, JwksSettings } from './compile.js';
import { type JwksPublished, startJwksService } from './jwks-service.js';
import { type KeyFilesPublished, startKeyFilesService } from './keys-file-service.js';

/** What the auth service publishes to workers (StageEnv.service.current). */
export interface AuthPublished {
  readonly jwks: JwksPublished;
  readonly keyFiles: KeyFilesPublished;
}

/**
 * The primary side of `auth:`: the JWKS fetcher and the API keys file watcher, published together
 * as one value (a stage kind has one service).
 */
export function startAuthService(env: ServiceEnv): StageService<JwksSettings, AuthPlan> {
  let value: AuthPublished = { jwks: {}, keyFiles: {} };
  const publish = (part: Partial<AuthPublished>) => {
    value = { ...value, ...part };
    env.publish(value);
  };
  const jwks = startJwksService({ log: env.log, publish: (v) => publish({ jwks: v as JwksPublished }) });
  const files = startKeyFilesService({ log: env.log, publish: (v) => publish({ keyFiles: v as KeyFilesPublished }) });
  return {
    configure(settings, plans) {
      jwks.configure(settings, plans);
      files.configure(settings, plans);
    },
    onSignal: (v) => jwks.onSignal?.(v),
    async close() {
      await Promise.all([jwks.close(), files.close()]);
    },
  };
}
