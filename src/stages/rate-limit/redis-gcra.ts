import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { OncePerSecond } from '../../observe/once-per-second.js';

/**
 * scope: cluster — the same GCRA as local-gcra.ts, kept in Redis so every gateway process on every
 * machine shares one budget per key. One round trip per limit: a Lua script reads the TAT, decides
 * and writes it, atomically, on Redis's own clock (TIME), so gateway clocks need not agree. Times are
 * whole microseconds, written with %.0f: Lua's default number format keeps only 14 digits.
 *
 * Client: ioredis (maintained by Redis; scripts by EVALSHA with a NOSCRIPT fallback, reconnects on
 * its own). It is set up to fail fast: no per-request retries, and a command timeout of
 * rate_limits.redis.timeout_ms that also covers a command queued while (re)connecting, so a request
 * right after start waits for the connection instead of failing, and none waits longer than the
 * timeout. A failure resolves to STORE_ERROR and the limit's on_store_error decides.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then return -(tat - tolerance - now) end
local nxt = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000) + 1)
return nxt - now
`;

const GIVE_BACK = `
local v = tonumber(redis.call('GET', KEYS[1]))
if v then redis.call('SET', KEYS[1], string.format('%.0f', v - tonumber(ARGV[1])), 'KEEPTTL') end
return 0
`;

export const STORE_ERROR = Number.NaN;

/**
 * ioredis is loaded only when a cluster-scope limit is configured, not at import. Its RESP3 decoder
 * defines `class VerbatimString extends String`, and once any object has String.prototype as its
 * prototype, V8 slows every String method call in the thread (a charCodeAt loop 4 to 5 times; the
 * generic property loads were 4 % of a tiny GET's CPU: perf/README.md). Gateways without Redis limits
 * keep the fast path.
 */
function loadRedis(): typeof Redis {
  return (createRequire(import.meta.url)('ioredis') as typeof import('ioredis')).Redis;
}

interface GcraCommands {
  sluiceTake(key: string, intervalUs: number, toleranceUs: number): Promise<number>;
  sluiceGiveBack(key: string, intervalUs: number): Promise<number>;
}

export class RedisGcra {
  private readonly redis: Redis & GcraCommands;
  private readonly errors = new OncePerSecond();

  constructor(
    url: string,
    private readonly timeoutMs: number,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    const RedisClient = loadRedis();
    this.redis = new RedisClient(url, {
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      commandTimeout: timeoutMs,
      connectTimeout: Math.max(timeoutMs, 1000),
      retryStrategy: (times) => Math.min(100 * times, 2000),
      lazyConnect: false,
    }) as Redis & GcraCommands;
    this.redis.defineCommand('sluiceTake', { numberOfKeys: 1, lua: TAKE });
    this.redis.defineCommand('sluiceGiveBack', { numberOfKeys: 1, lua: GIVE_BACK });
    this.redis.on('error', (err: Error) => this.logError(err));
  }

  /**
   * The Redis key for (limit, request key): hashed, because request keys can be secrets (API keys)
   * and long; the same on every gateway process, so they share it.
   */
  keyFor(limitId: string, key: string): string {
    return this.prefix + createHash('sha256').update(limitId).update('\0').update(key).digest('base64url').slice(0, 32);
  }

  /** Same result convention as LocalGcra.take (ns), or STORE_ERROR. */
  async take(redisKey: string, intervalUs: number, toleranceUs: number): Promise<number> {
    try {
      return (await this.redis.sluiceTake(redisKey, intervalUs, toleranceUs)) * 1000;
    } catch (err) {
      this.logError(err as Error);
      return STORE_ERROR;
    }
  }

  giveBack(redisKey: string, intervalUs: number): void {
    this.redis.sluiceGiveBack(redisKey, intervalUs).catch((err: Error) => this.logError(err));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  /** Once a second at most: a dead Redis would otherwise log once per request. */
  private logError(err: Error): void {
    if (this.errors.hit() === 0) return;
    this.log.warn({ code: 'SLUICE_ERR_RATE_LIMIT_STORE', cause: err.message, timeout_ms: this.timeoutMs }, 'rate-limit store (Redis) failed');
  }
}
