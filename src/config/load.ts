import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { compile } from '../compile/compile.js';
import type { CompiledPlan } from '../compile/plan.js';
import { ConfigError, type ConfigIssue } from '../errors/gateway-error.js';
import { applyEnvOverrides, readEnvOverrides } from './env.js';
import { toIssues } from './locate.js';
import { configSchema } from './schema.js';
import type { GatewayConfig } from './types.js';
import { deepFreeze, validateAndDefault, type SchemaProblem } from './validate.js';

export interface LoadedConfig {
  readonly config: GatewayConfig;
  readonly plan: CompiledPlan;
}

/**
 * File → YAML → schema check + defaults → env overrides → compile → deep-freeze.
 * Throws ConfigError listing every problem as FILE:LINE:COL field.path: message.
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, generation = 1): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 0, col: 0, path: '', message: (err as Error).message }], 'SLUICE_ERR_CONFIG_READ');
  }
  return loadConfigText(text, file, env, generation);
}

export function loadConfigText(text: string, file: string, env: NodeJS.ProcessEnv = {}, generation = 1): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0]);
      return { file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
    }));
  }
  const raw: unknown = doc.toJS() ?? {};
  const problems: SchemaProblem[] = [];
  validateAndDefault(configSchema, raw, [], problems);
  if (problems.length > 0) throw new ConfigError(toIssues(file, doc, lines, problems));

  const { overrides, issues: envIssues } = readEnvOverrides(env);
  if (envIssues.length > 0) throw new ConfigError(envIssues);
  applyEnvOverrides(raw, overrides);

  const config = deepFreeze(raw as GatewayConfig);
  const compiled = compile(config, file, generation);
  if ('problems' in compiled) throw new ConfigError(toIssues(file, doc, lines, compiled.problems));
  return { config, plan: deepFreeze(compiled.plan) };
}

export type { ConfigIssue };
