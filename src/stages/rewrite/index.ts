import { defineStage } from '../../pipeline/stage-factory.js';
import { compileRewrite } from './compile.js';
import { rewriteSchema } from './schema.js';
import { rewriteStage } from './stage.js';

/** `rewrite:` edits the path sent upstream, after matching. */
export const rewrite = defineStage({
  kind: 'rewrite',
  schema: rewriteSchema,
  compile: (raw, route, _settings, problems) => compileRewrite(raw, route, problems),
  instantiate: (plan) => rewriteStage(plan),
});
