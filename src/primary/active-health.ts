import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { ActiveHealthPlan, CompiledPlan, UpstreamTlsPlan } from '../compile/plan.js';
import type { EndpointHealth } from '../shared/endpoint-health.js';

interface Check {
  readonly upstream: string;
  readonly origin: string;
  readonly row: number;
  readonly plan: ActiveHealthPlan;
  /** The shared agent, or one with the upstream's tls: settings (closed with the check). */
  readonly agent: Agent;
  passes: number;
  fails: number;
  timer: NodeJS.Timeout;
}

/**
 * Active health checks, run once by the primary (not once per worker): a GET of health.active.path
 * on every endpoint every interval_ms. `unhealthy` failures in a row mark the endpoint down in the
 * shared table, `healthy` passes in a row mark it up again; every worker sees it on its next pick.
 * Endpoints start up (traffic flows before the first probe); passive detection covers the gap.
 */
export class ActiveHealthChecker {
  private readonly checks = new Map<string, Check>();
  // One connection per endpoint, closed after each probe: a probe also proves new connections work.
  private readonly agent = new Agent({ connections: 1, pipelining: 0 });

  constructor(
    private readonly health: EndpointHealth,
    private readonly log: Logger,
  ) {}

  /** Start checks for endpoints new in `plan`, stop those of endpoints it no longer has. */
  reconcile(plan: CompiledPlan): void {
    const wanted = new Set<string>();
    for (const u of plan.upstreams) {
      if (u.active === null) continue;
      for (const e of u.endpoints) {
        const key = `${u.name}|${e.origin}|${e.row}|${JSON.stringify(u.active)}|${u.tls?.id ?? ''}`;
        wanted.add(key);
        if (this.checks.has(key)) continue;
        const agent = u.tls === null || !e.origin.startsWith('https:') ? this.agent : tlsAgent(u.tls);
        const check: Check = { upstream: u.name, origin: e.origin, row: e.row, plan: u.active, agent, passes: 0, fails: 0, timer: undefined! };
        check.timer = setTimeout(() => void this.probe(check, key), 0);
        this.checks.set(key, check);
      }
    }
    const checkedRows = new Set([...wanted].map((k) => this.checks.get(k)!.row));
    for (const [key, check] of this.checks) {
      if (wanted.has(key)) continue;
      clearTimeout(check.timer);
      this.checks.delete(key);
      if (check.agent !== this.agent) void check.agent.close().catch(() => {});
      // Checks removed from the config: their last verdict must not keep the endpoint out for good.
      if (!checkedRows.has(check.row)) this.health.setActiveDown(check.row, false);
    }
  }

  async close(): Promise<void> {
    for (const c of this.checks.values()) {
      clearTimeout(c.timer);
      if (c.agent !== this.agent) await c.agent.close().catch(() => {});
    }
    this.checks.clear();
    await this.agent.close().catch(() => {});
  }

  private async probe(c: Check, key: string): Promise<void> {
    const problem = await this.probeOnce(c);
    if (this.checks.get(key) !== c) return; // stopped meanwhile
    const down = this.health.isActiveDown(c.row);
    if (problem === null) {
      c.fails = 0;
      if (down && ++c.passes >= c.plan.healthy) {
        this.health.setActiveDown(c.row, false);
        this.log.info({ upstream: c.upstream, endpoint: c.origin }, 'endpoint healthy (active check)');
      }
    } else {
      c.passes = 0;
      if (!down && ++c.fails >= c.plan.unhealthy) {
        this.health.setActiveDown(c.row, true);
        this.log.warn({ upstream: c.upstream, endpoint: c.origin, problem, code: 'SLUICE_ERR_NO_HEALTHY_UPSTREAM' }, 'endpoint unhealthy (active check)');
      }
    }
    c.timer = setTimeout(() => void this.probe(c, key), c.plan.intervalMs);
  }

  /** null when the probe passed, else what was wrong. */
  private async probeOnce(c: Check): Promise<string | null> {
    try {
      const res = await request(c.origin + c.plan.path, {
        dispatcher: c.agent,
        headers: { 'user-agent': 'sluice-health-check', connection: 'close' },
        headersTimeout: c.plan.timeoutMs,
        bodyTimeout: c.plan.timeoutMs,
        signal: AbortSignal.timeout(c.plan.timeoutMs),
      });
      await res.body.dump();
      const ok = c.plan.expectStatus === null ? res.statusCode >= 200 && res.statusCode < 400 : c.plan.expectStatus.includes(res.statusCode);
      return ok ? null : `status ${res.statusCode}`;
    } catch (err) {
      return (err as { code?: string }).code ?? (err as Error).message;
    }
  }
}

/** Probes see the endpoint as traffic does: same trusted CAs, client certificate, SNI and checks. */
function tlsAgent(t: UpstreamTlsPlan): Agent {
  return new Agent({
    connections: 1,
    pipelining: 0,
    connect: {
      ca: t.ca ?? undefined,
      cert: t.cert ?? undefined,
      key: t.key ?? undefined,
      servername: t.servername ?? undefined,
      rejectUnauthorized: t.verify,
    },
  });
}
