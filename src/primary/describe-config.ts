import { redactConfig } from '../config/redact.js';
import type { GatewayConfig } from '../config/types.js';
import { configShape } from '../stages/registry.js';

/** How the last reload went (any source: POST /reload, SIGHUP, a file change); null before the first. */
export interface ReloadOutcome {
  readonly result: 'ok' | 'failed';
  readonly source: string;
  /** ISO 8601. */
  readonly at: string;
  /** The generation in force after it (unchanged when it failed). */
  readonly generation: number;
  /** The SLUICE_ERR_* code of a rejected config; null when it applied. */
  readonly code: string | null;
  /** How many problems the rejected config had (they are in the log and the POST /reload answer). */
  readonly problems: number;
}

/**
 * GET /config: the validated config in force (defaults filled in, environment overrides applied),
 * redacted by the whole schema (config/redact.ts), so a stage's secret fields are redacted too.
 */
export function describeConfig(config: GatewayConfig, file: string, generation: number, lastReload: ReloadOutcome | null): unknown {
  return { generation, file, last_reload: lastReload, config: redactConfig(configShape.schema, config) };
}
