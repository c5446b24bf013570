import { defineStage } from '../../pipeline/stage-factory.js';
import { compileCors } from './compile.js';
import { corsSchema } from './schema.js';
import { corsStage } from './stage.js';

/** `cors:` answers preflights at the gateway and adds the allow headers to responses (docs/network-policy.md). */
export const cors = defineStage({
  kind: 'cors',
  schema: corsSchema,
  alsoMatches: ['OPTIONS'],
  compile: (raw, route, _settings, problems) => compileCors(raw, route, problems),
  instantiate: (plan) => corsStage(plan),
});
