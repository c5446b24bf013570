import { defineStage } from '../../pipeline/stage-factory.js';
import { compileHeaders } from './compile.js';
import { headersSchema } from './schema.js';
import { headersStage } from './stage.js';

/** `headers:` sets and removes request and response headers on a route. */
export const headers = defineStage({
  kind: 'headers',
  schema: headersSchema,
  compile: (raw, route, _settings, problems) => compileHeaders(raw, route, problems),
  instantiate: (plan) => headersStage(plan),
});
