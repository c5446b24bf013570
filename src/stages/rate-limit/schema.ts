import { ms } from '../../config/schema.js';
import { anyOf, array, boolean, type Infer, integer, object, string } from '../../config/schema-node.js';

/** One part of a key: ip, route, header:NAME, jwt:CLAIM or api_key (limit-key.ts). */
const KEY_PART = "^(ip|route|api_key|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|jwt:[A-Za-z0-9_:.-]{1,128})$";

const limitSchema = object(
  {
    name: string({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'Unique within the route; shown in RateLimit headers and logs.' }),
    key: anyOf([string({ pattern: KEY_PART }), array(string({ pattern: KEY_PART }), { minItems: 1 })], {
      description: 'What is counted: ip, route, header:NAME, jwt:CLAIM (jwt:sub), api_key, or a list of these (composite key).',
    }),
    rate: integer({ minimum: 1, maximum: 1_000_000_000, description: 'Requests allowed per `per`, sustained.' }),
    per: string({ pattern: '^[0-9]{1,9}(ms|s|m|h)$', default: '1s', description: 'The period of `rate`: 500ms, 1s, 1m, 1h.' }),
    burst: integer({ minimum: 1, maximum: 1_000_000_000, description: 'Requests allowed at once by a key with a full bucket (default: rate).' }),
    max_in_flight: integer({ minimum: 1, maximum: 1_000_000_000, description: 'Requests of one key in flight at once, across all workers.' }),
    scope: string({
      enum: ['local', 'cluster'],
      default: 'local',
      description: 'local: this gateway process (all its workers); cluster: shared through rate_limits.redis by every gateway process.',
    }),
    on_store_error: string({
      enum: ['allow', 'deny'],
      default: 'allow',
      description: 'When the store cannot answer (Redis slow or down, local table full): allow the request (logged) or deny it with 503.',
    }),
    headers: boolean({ default: true, description: 'Send RateLimit-Policy and RateLimit headers for this limit.' }),
  },
  {
    additionalProperties: false,
    required: ['name', 'key'],
    description: 'One limit. A rate limit sets rate (and per, burst); a concurrency limit sets max_in_flight. See docs/rate-limits.md.',
  },
);

const redisSchema = object(
  {
    url: string({ pattern: '^rediss?://', description: 'redis://[user:password@]host:port[/db]' }),
    timeout_ms: ms('Longest wait for Redis on a request, in milliseconds; then on_store_error decides.', 50),
    key_prefix: string({ default: 'sluice:rl:', maxLength: 128, description: 'Prefix of every key sluice writes.' }),
  },
  {
    additionalProperties: false,
    required: ['url'],
    description: 'The store for scope: cluster limits.',
  },
);

export const rateLimitsSchema = object(
  {
    table_slots: integer({
      minimum: 16,
      maximum: 67_108_864,
      default: 65536,
      description:
        'Keys the shared local table holds (16 bytes each, rounded up to a power of two); a second table of the same size counts in-flight requests. Read at start only. Env SLUICE_RATE_LIMIT_SLOTS.',
    }),
    redis: redisSchema,
  },
  {
    additionalProperties: false,
    default: {},
    description: 'Shared settings of route rate_limit: entries.',
  },
);

/** The route field: a list of limits that must all pass. */
export const rateLimitSchema = array(limitSchema, { description: 'Limits on this route; a request must pass all of them. See docs/rate-limits.md.' });

export type LimitConfig = Infer<typeof limitSchema>;
export type RateLimitsConfig = Infer<typeof rateLimitsSchema>;
