import { GATEWAY_ENV } from '../config/env.js';
import type { ConfigShape } from '../config/load.js';
import { assembleSchema, configSchema, routeSchema } from '../config/schema.js';
import type { SchemaNode } from '../config/schema-node.js';
import type { StageFactory } from '../pipeline/stage-factory.js';
import { auth } from './auth/index.js';
import { cors } from './cors/index.js';
import { headers } from './headers/index.js';
import { ipPolicy } from './ip/index.js';
import { rateLimit } from './rate-limit/index.js';
import { respond } from './respond/index.js';
import { rewrite } from './rewrite/index.js';

/**
 * Every stage, in pipeline order: a route's stages always run in this order, whatever order its YAML
 * lists them in. Adding a stage: its folder, one line here, and its error codes in errors/catalog.ts.
 * ip and cors come first, so a denied client or a preflight costs no token check; auth before
 * rate_limit, so limits can count by the verified caller.
 */
export const stageRegistry: readonly StageFactory[] = [ipPolicy, cors, auth, rateLimit, rewrite, headers, respond];

export function stageFactory(kind: string): StageFactory {
  const f = stageRegistry.find((s) => s.kind === kind);
  if (f === undefined) throw new Error(`unknown stage kind ${kind}`);
  return f;
}

// A stage's field or settings key that a gateway field already has would replace it in the schema.
for (const f of stageRegistry) {
  if (f.kind in routeSchema.properties) throw new Error(`stage ${f.kind}: a route already has that field`);
  if (f.settings !== undefined && f.settings.key in configSchema.properties) throw new Error(`stage ${f.kind}: the config already has ${f.settings.key}`);
}

/** The whole config: the gateway's own schema with every stage's route field and settings, and every environment variable. */
export const configShape: ConfigShape = {
  schema: assembleSchema(
    Object.fromEntries(stageRegistry.map((f) => [f.kind, f.schema])),
    Object.fromEntries(stageRegistry.flatMap((f): [string, SchemaNode][] => (f.settings === undefined ? [] : [[f.settings.key, f.settings.schema]]))),
  ),
  env: [...GATEWAY_ENV, ...stageRegistry.flatMap((f) => f.settings?.env ?? [])],
};

/** The shared tables stages ask for with these settings (by stage kind: table name → bytes). */
export function stageTableBytes(settings: Readonly<Record<string, unknown>>): Record<string, Readonly<Record<string, number>>> {
  const out: Record<string, Readonly<Record<string, number>>> = {};
  for (const f of stageRegistry) if (f.tables !== undefined) out[f.kind] = f.tables(settings[f.kind]);
  return out;
}
