import { defineStage } from '../../pipeline/stage-factory.js';
import { slotTableBytes } from '../../shared/slot-table.js';
import { compileRateLimit, compileSettings, type RateLimitPlan, type RateLimitSettings } from './compile.js';
import { rateLimitSchema, rateLimitsSchema } from './schema.js';
import { RateLimitStage } from './stage.js';

/** `rate_limit:` on a route, `rate_limits:` for the tables and Redis (docs/rate-limits.md). */
export const rateLimit = defineStage<typeof rateLimitSchema, RateLimitPlan, RateLimitSettings>({
  kind: 'rate_limit',
  schema: rateLimitSchema,
  settings: {
    key: 'rate_limits',
    schema: rateLimitsSchema,
    env: [{ name: 'SLUICE_RATE_LIMIT_SLOTS', path: ['rate_limits', 'table_slots'], min: 16, max: 67_108_864 }],
    compile: compileSettings,
  },
  compile: compileRateLimit,
  // GCRA arrival times, and in-flight counts: one slot per key in each, shared by every worker.
  tables: (s) => ({ rate: slotTableBytes(s.tableSlots), inFlight: slotTableBytes(s.tableSlots) }),
  instantiate: (plan, env) => new RateLimitStage(plan, env),
});
