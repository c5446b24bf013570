import { compile } from '../compile/compile.js';
import type { CompiledPlan } from '../compile/plan.js';
import { type LoadedConfig, loadConfigFile, loadConfigText } from '../config/load.js';
import type { GatewayConfig } from '../config/types.js';
import { deepFreeze, type SchemaProblem } from '../config/validate.js';
import { ConfigError, type ConfigIssue } from '../errors/gateway-error.js';
import { configShape } from '../stages/registry.js';
import { adminOpenProblem } from './admin-auth.js';
import { readPlanFiles } from './plan-files.js';

/** On a reload: what the running config holds that the new one is checked against. */
export interface Running {
  /** The host the admin listener is bound to (kept until a restart), which must not be left open either. */
  readonly adminHost: string;
  /** The certificates in force (tls-pairs.ts certificatesInForce): expired ones among them are kept, with a warning. */
  readonly certificates: ReadonlySet<string>;
}

export interface LoadedPlan {
  readonly config: GatewayConfig;
  readonly plan: CompiledPlan;
  /** Served anyway but worth a log line (a certificate in force that is expired or expiring soon). */
  readonly warnings: readonly ConfigIssue[];
}

/**
 * The one place that reads a config and compiles it: config/ knows nothing of plans and compile/
 * nothing of files, so neither imports the other's caller. Throws ConfigError listing every
 * problem, schema or cross-field, as FILE:LINE:COL field.path: message.
 */
export function loadPlanFile(file: string, env: NodeJS.ProcessEnv = process.env, generation = 1, running?: Running): LoadedPlan {
  return compileLoaded(loadConfigFile(file, configShape, env), file, generation, running);
}

export function loadPlanText(text: string, file: string, env: NodeJS.ProcessEnv = {}, generation = 1): LoadedPlan {
  return compileLoaded(loadConfigText(text, file, configShape, env), file, generation);
}

/** running: absent at start and for `validate`, which check a config as a first one. */
function compileLoaded({ config, locate }: LoadedConfig, file: string, generation: number, running?: Running): LoadedPlan {
  const compiled = compile(config, file, generation);
  if ('problems' in compiled) throw new ConfigError(locate(compiled.problems));
  const problems: SchemaProblem[] = [];
  const warnings: SchemaProblem[] = [];
  const plan = readPlanFiles(compiled.plan, problems, { inForce: running?.certificates ?? null, warnings });
  if (problems.length > 0) throw new ConfigError(locate(problems));
  const open = adminOpenProblem(plan.admin, running?.adminHost);
  if (open !== null) throw new ConfigError(locate([open]), 'SLUICE_ERR_ADMIN_OPEN');
  return { config, plan: deepFreeze(plan), warnings: locate(warnings) };
}
