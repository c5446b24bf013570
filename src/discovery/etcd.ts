import { Agent, request } from 'undici';
import type { DiscoveryPlan, EndpointPlan } from '../compile/plan.js';
import { parseEndpointUrl } from '../compile/upstream.js';
import { logSafeUrl } from '../observe/mask.js';
import type { SourceEvents } from './source-events.js';

type EtcdPlan = Extract<DiscoveryPlan, { kind: 'etcd' }>;

/** Wait before reconnecting after the watch broke, doubling up to the cap. */
const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

/**
 * Watches a key prefix in etcd v3 through its JSON gateway (POST /v3/kv/range, then a streaming
 * POST /v3/watch from the next revision), over undici: no gRPC stack in the primary. Each value is
 * {"url": "http://host:port", "weight": 1}. When the watch breaks (etcd restarted, compaction) it
 * lists again and resumes; meanwhile the last list stays in force.
 */
export function startEtcdSource(plan: EtcdPlan, events: SourceEvents): { close(): void } {
  const agent = new Agent({ connect: { timeout: plan.timeoutMs }, headersTimeout: plan.timeoutMs, bodyTimeout: 0 });
  const controller = new AbortController();
  const kvs = new Map<string, string>();
  let closed = false;
  let server = 0;
  let delay = RETRY_MIN_MS;

  const publish = () => {
    const list: EndpointPlan[] = [];
    for (const [key, value] of [...kvs].sort()) {
      const e = parseValue(value);
      if (typeof e === 'string') events.problem(`etcd key ${key}: ${e}; ignored`);
      else list.push(e);
    }
    events.update(list);
  };

  const post = (path: string, body: unknown) =>
    request(plan.endpoints[server % plan.endpoints.length] + path, {
      method: 'POST',
      dispatcher: agent,
      signal: controller.signal,
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

  const session = async () => {
    const range = { key: b64(plan.prefix), range_end: prefixEnd(plan.prefix).toString('base64') };
    const listed = await post('/v3/kv/range', range);
    if (listed.statusCode !== 200) {
      await listed.body.dump();
      throw new Error(`range answered ${listed.statusCode}`);
    }
    const snapshot = (await listed.body.json()) as { header: { revision: string }; kvs?: { key: string; value?: string }[] };
    kvs.clear();
    for (const kv of snapshot.kvs ?? []) kvs.set(unb64(kv.key), unb64(kv.value ?? ''));
    publish();
    const watch = await post('/v3/watch', { create_request: { ...range, start_revision: String(Number(snapshot.header.revision) + 1) } });
    if (watch.statusCode !== 200) {
      await watch.body.dump();
      throw new Error(`watch answered ${watch.statusCode}`);
    }
    delay = RETRY_MIN_MS;
    let buffered = '';
    for await (const chunk of watch.body) {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line !== '' && applyWatchMessage(line, kvs)) publish();
      }
    }
    throw new Error('watch stream ended');
  };

  const loop = async () => {
    while (!closed) {
      try {
        await session();
      } catch (err) {
        if (closed) return;
        events.problem(
          `etcd ${logSafeUrl(plan.endpoints[server % plan.endpoints.length])}: ${(err as { code?: string }).code ?? (err as Error).message}; retrying, the last endpoints stay in force`,
        );
        events.update(null);
        server++;
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  };
  void loop();
  return {
    close: () => {
      closed = true;
      controller.abort();
      void agent.close().catch(() => {});
    },
  };
}

/** Applies one watch message to `kvs`; true when something changed. Throws when the watch was cancelled. */
function applyWatchMessage(line: string, kvs: Map<string, string>): boolean {
  const msg = JSON.parse(line) as {
    result?: { canceled?: boolean; compact_revision?: string; events?: { type?: string; kv: { key: string; value?: string } }[] };
    error?: unknown;
  };
  if (msg.error !== undefined || msg.result?.canceled) throw new Error(`watch cancelled${msg.result?.compact_revision ? ' (compacted)' : ''}`);
  const evs = msg.result?.events ?? [];
  for (const ev of evs) {
    const key = unb64(ev.kv.key);
    if (ev.type === 'DELETE') kvs.delete(key);
    else kvs.set(key, unb64(ev.kv.value ?? ''));
  }
  return evs.length > 0;
}

function parseValue(value: string): EndpointPlan | string {
  let v: { url?: unknown; weight?: unknown };
  try {
    v = JSON.parse(value);
  } catch {
    return 'value is not JSON';
  }
  if (typeof v?.url !== 'string') return 'value needs "url": "http://host:port"';
  const weight = v.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 1000) return '"weight" must be an integer from 0 to 1000';
  return parseEndpointUrl(v.url, weight);
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

/** The key right after every key that starts with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): Buffer {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  return Buffer.from([0]);
}
