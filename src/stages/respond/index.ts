import { defineStage } from '../../pipeline/stage-factory.js';
import { compileRespond } from './compile.js';
import { respondSchema } from './schema.js';
import { respondStage } from './stage.js';

/** `respond:` answers from config, with no upstream. */
export const respond = defineStage({
  kind: 'respond',
  schema: respondSchema,
  answers: true,
  compile: (raw, _route, _settings, problems) => compileRespond(raw, problems),
  instantiate: (reply) => respondStage(reply),
});
