import type { StageFactory } from '../pipeline/phase.js';
import { rateLimitStage } from './rate-limit/stage.js';
import { respondStage } from './respond/stage.js';
import { rewriteStage } from './rewrite/stage.js';

/**
 * Every stage kind, in pipeline order: a route's stages always run in this order, whatever order
 * its YAML lists them in. Later issues add, before rate_limit: ip filter → cors → auth; after: transforms → cache.
 */
export const stageRegistry: readonly StageFactory<any>[] = [rateLimitStage, rewriteStage, respondStage];

export function stageFactory(kind: string): StageFactory<unknown> {
  const f = stageRegistry.find((s) => s.kind === kind);
  if (f === undefined) throw new Error(`unknown stage kind ${kind}`);
  return f;
}
