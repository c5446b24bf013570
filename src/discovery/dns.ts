import { promises as dns } from 'node:dns';
import type { DiscoveryPlan, EndpointPlan } from '../compile/plan.js';
import type { SourceEvents } from './source-events.js';

type DnsPlan = Extract<DiscoveryPlan, { kind: 'dns' }>;

/**
 * Re-resolves a name every interval_ms; every A/AAAA address becomes an endpoint with the name as
 * its Host. A failed lookup keeps the last good list (a DNS outage must not empty an upstream).
 */
export function startDnsSource(plan: DnsPlan, events: SourceEvents): { close(): void } {
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  let failing = false;
  const resolver = plan.servers === null ? null : new dns.Resolver({ timeout: Math.min(plan.intervalMs, 2000), tries: 2 });
  resolver?.setServers([...plan.servers!]);

  const round = async () => {
    try {
      const addresses = await resolve(plan, resolver);
      if (closed) return;
      failing = false;
      events.update(addresses.sort().map((ip) => toEndpoint(plan, ip)));
    } catch (err) {
      if (closed) return;
      if (!failing)
        events.problem(`DNS lookup of ${plan.name} failed (${(err as { code?: string }).code ?? (err as Error).message}); keeping the last endpoints`);
      failing = true;
      events.update(null);
    }
    if (!closed) timer = setTimeout(() => void round(), plan.intervalMs);
  };
  void round();
  return {
    close: () => {
      closed = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}

async function resolve(plan: DnsPlan, resolver: dns.Resolver | null): Promise<string[]> {
  if (resolver === null) {
    const family = plan.family === 'ipv4' ? 4 : plan.family === 'ipv6' ? 6 : 0;
    return (await dns.lookup(plan.name, { all: true, family })).map((a) => a.address);
  }
  const out: string[] = [];
  const errors: unknown[] = [];
  for (const [wanted, fn] of [
    ['ipv4', 'resolve4'],
    ['ipv6', 'resolve6'],
  ] as const) {
    if (plan.family !== 'any' && plan.family !== wanted) continue;
    try {
      out.push(...(await resolver[fn](plan.name)));
    } catch (err) {
      errors.push(err);
    }
  }
  if (out.length === 0 && errors.length > 0) throw errors[0];
  return out;
}

function toEndpoint(plan: DnsPlan, ip: string): EndpointPlan {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return { origin: `${plan.scheme}://${host}:${plan.port}`, hostHeader: `${plan.name}:${plan.port}`, weight: 1, row: -1 };
}
