import type { Logger } from 'pino';
import { request } from 'undici';
import { logSafeUrl } from '../../observe/mask.js';
import type { ServiceEnv, StageService } from '../../pipeline/stage-factory.js';
import type { AuthPlan, JwksSettings } from './compile.js';
import { maxAgeMs, parseJwks } from './jwks-document.js';
import type { JwksKey } from './jwt-verifier.js';

/** A JWKS holds a handful of keys; a larger answer is refused rather than read whole into the primary. */
const MAX_JWKS_BYTES = 1 << 20;
/** The first retry of a JWKS that has never arrived; it doubles on each failure, up to min_cache_s. */
const FIRST_RETRY_MS = 1000;

/** What the service publishes to workers: by JWKS URL, the keys and a version that changes with them. */
export type JwksPublished = Readonly<Record<string, { readonly version: number; readonly keys: readonly JwksKey[] }>>;

/** One JWKS URL's state in the primary. */
interface Doc {
  readonly url: string;
  keys: JwksKey[] | null;
  /** The keys as JSON: a refetch that changes nothing publishes nothing. */
  text: string;
  version: number;
  /** When the last fetch started (ms, performance clock), for the unknown-kid cool-down. */
  lastAttempt: number;
  /** Failed fetches in a row: while no keys have ever arrived, they set the backoff. */
  failures: number;
  fetching: boolean;
  timer: NodeJS.Timeout | null;
  /** When the timer fires (performance clock). */
  due: number;
}

/**
 * Fetches the routes' JWKS documents in the primary (undici) and publishes their keys to every
 * worker. A document is kept as long as its Cache-Control max-age says, within jwks.min_cache_s and
 * max_cache_s; a worker that meets an unknown kid (or has no keys yet) signals, and the document is
 * fetched again at most once per jwks.unknown_kid_refresh_s. While the host fails, the last keys stay
 * in force (served stale) and the fetch is retried every min_cache_s; a document that never arrived
 * is retried sooner (1, 2, 4 s ... up to min_cache_s), since its routes answer 503 until it does.
 */
export function startJwksService(env: ServiceEnv): StageService<JwksSettings, AuthPlan> {
  const docs = new Map<string, Doc>();
  let settings: JwksSettings | null = null;
  let closed = false;
  const log: Logger = env.log;

  const publish = () => {
    const out: Record<string, { version: number; keys: JwksKey[] }> = {};
    for (const d of docs.values()) if (d.keys !== null) out[d.url] = { version: d.version, keys: d.keys };
    env.publish(out);
  };

  const schedule = (d: Doc, inMs: number) => {
    if (d.timer !== null) clearTimeout(d.timer);
    d.due = performance.now() + inMs;
    d.timer = setTimeout(() => {
      d.timer = null;
      void fetchDoc(d);
    }, inMs);
    d.timer.unref();
  };

  const fetchDoc = async (d: Doc) => {
    // A document no route uses any more (a reload dropped it) is not fetched again.
    if (d.fetching || closed || settings === null || docs.get(d.url) !== d) return;
    const s = settings;
    d.fetching = true;
    d.lastAttempt = performance.now();
    try {
      const res = await request(d.url, { headersTimeout: s.timeoutMs, bodyTimeout: s.timeoutMs, signal: AbortSignal.timeout(s.timeoutMs) });
      if (res.statusCode !== 200) {
        await res.body.dump();
        throw new Error(`status ${res.statusCode}`);
      }
      const body = await boundedText(res.body, MAX_JWKS_BYTES);
      const { keys, skipped } = parseJwks(body);
      const cc = res.headers['cache-control'];
      const ttl = Math.min(Math.max(maxAgeMs(Array.isArray(cc) ? cc.join(', ') : cc) ?? s.defaultCacheMs, s.minCacheMs), s.maxCacheMs);
      const text = JSON.stringify(keys);
      if (docs.get(d.url) !== d) return;
      d.failures = 0;
      if (text !== d.text) {
        d.keys = keys;
        d.text = text;
        d.version++;
        log.info({ url: logSafeUrl(d.url), kids: keys.map((k) => k.kid), skipped, cache_s: ttl / 1000 }, 'JWKS keys updated');
        publish();
      }
      schedule(d, ttl);
    } catch (err) {
      d.failures++;
      const retry = d.keys === null ? Math.min(FIRST_RETRY_MS * 2 ** (d.failures - 1), s.minCacheMs) : s.minCacheMs;
      log.warn(
        { code: 'SLUICE_ERR_AUTH_KEYS_UNAVAILABLE', url: logSafeUrl(d.url), cause: (err as Error).message, stale: d.keys !== null, retry_s: retry / 1000 },
        d.keys === null ? 'JWKS fetch failed; no keys yet' : 'JWKS fetch failed; the last keys stay in force',
      );
      schedule(d, retry);
    } finally {
      d.fetching = false;
    }
  };

  return {
    configure(next, plans) {
      settings = next;
      const urls = new Set(plans.flatMap((p) => (p.jwt?.jwksUrl ? [p.jwt.jwksUrl] : [])));
      let removed = false;
      for (const [url, d] of docs) {
        if (urls.has(url)) continue;
        if (d.timer !== null) clearTimeout(d.timer);
        docs.delete(url);
        removed = true;
      }
      if (removed) publish();
      for (const url of urls) {
        if (docs.has(url)) continue;
        const d: Doc = { url, keys: null, text: '', version: 0, lastAttempt: Number.NEGATIVE_INFINITY, failures: 0, fetching: false, timer: null, due: 0 };
        docs.set(url, d);
        void fetchDoc(d);
      }
    },

    onSignal(value) {
      const d = docs.get((value as { url?: string }).url ?? '');
      if (d === undefined || settings === null || d.fetching) return;
      const wait = d.lastAttempt + settings.unknownKidRefreshMs - performance.now();
      if (wait <= 0) void fetchDoc(d);
      else if (d.timer === null || d.due > performance.now() + wait) schedule(d, wait);
    },

    async close() {
      closed = true;
      for (const d of docs.values()) if (d.timer !== null) clearTimeout(d.timer);
    },
  };
}

/** The body as text, or an error once it passes `max` bytes. */
async function boundedText(body: AsyncIterable<Buffer> & { destroy(): unknown }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body) {
    size += c.length;
    if (size > max) {
      body.destroy();
      throw new Error(`answer larger than ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}
