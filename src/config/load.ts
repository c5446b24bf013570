import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors/gateway-error.js';
import { applyEnv, type EnvVariable, readEnv } from './env.js';
import { toIssues } from './locate.js';
import type { SchemaNode } from './schema-node.js';
import type { GatewayConfig } from './types.js';
import { deepFreeze, type SchemaProblem, validateAndDefault } from './validate.js';

export interface LoadedConfig {
  readonly config: GatewayConfig;
  /**
   * Places problems found later, by checks outside config/ (compile/'s cross-field rules), in this
   * config's source, so that they read FILE:LINE:COL like schema problems do.
   */
  readonly locate: (problems: readonly SchemaProblem[]) => ConfigIssue[];
}

/**
 * What a config is checked against: the schema (the gateway's own, or the whole one with every
 * stage's fields, see stages/registry.ts) and the environment variables that override it.
 */
export interface ConfigShape {
  readonly schema: SchemaNode;
  readonly env: readonly EnvVariable[];
}

/**
 * File → YAML → schema check + defaults → env overrides → deep-freeze.
 * Throws ConfigError listing every problem as FILE:LINE:COL field.path: message.
 */
export function loadConfigFile(file: string, shape: ConfigShape, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 0, col: 0, path: '', message: (err as Error).message }], 'SLUICE_ERR_CONFIG_READ');
  }
  return loadConfigText(text, file, shape, env);
}

export function loadConfigText(text: string, file: string, shape: ConfigShape, env: NodeJS.ProcessEnv = {}): LoadedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const locate = (problems: readonly SchemaProblem[]): ConfigIssue[] => toIssues(file, doc, lines, problems);
  const raw: unknown = doc.toJS() ?? {};
  const problems: SchemaProblem[] = [];
  validateAndDefault(shape.schema, raw, [], problems);
  if (problems.length > 0) throw new ConfigError(locate(problems));

  const { values, issues: envIssues } = readEnv(env, shape.env);
  if (envIssues.length > 0) throw new ConfigError(envIssues);
  applyEnv(raw as Record<string, unknown>, values);
  return { config: deepFreeze(raw as GatewayConfig), locate };
}

export type { ConfigIssue };
