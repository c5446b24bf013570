import type { Logger } from 'pino';
import type { EndpointPlan, UpstreamPlan } from '../compile/plan.js';
import { startDnsSource } from './dns.js';
import { startEtcdSource } from './etcd.js';
import type { SourceEvents } from './source-events.js';

/** How an upstream's discovery source is doing, as GET /metrics shows it. */
export interface SourceStatus {
  /** The latest round answered (DNS: the lookup succeeded; etcd: listed, and the watch is open). */
  up: boolean;
  /** Date.now() of the latest round that answered with a list; 0 = never. */
  lastSuccessMs: number;
  /** Rounds that failed (a DNS lookup, an etcd listing or a broken watch), since the upstream got a source. */
  errors: number;
}

interface Running {
  readonly key: string;
  readonly source: { close(): void };
  /** Resolves when the source answered once (or failed once). */
  readonly first: Promise<void>;
}

/**
 * Runs the discovery sources of every upstream that has one (in the primary) and keeps their latest
 * endpoint lists. A change calls onChange, which republishes the plan to the workers: new endpoints
 * get pools, removed ones have theirs closed once their requests finish.
 */
export class Discovery {
  /** Latest list per upstream name. */
  readonly endpoints = new Map<string, readonly EndpointPlan[]>();
  /** Per upstream name with a source; kept across a change of settings, so its counts keep counting. */
  readonly status = new Map<string, SourceStatus>();
  /** Counts changes to `endpoints`, so a publisher can tell whether what it bound is still current. */
  changes = 0;
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly log: Logger,
    private readonly onChange: (upstream: string) => void,
  ) {}

  /** Start sources new in `upstreams`, stop removed or changed ones; wait up to waitMs for new ones' first answer. */
  async reconcile(upstreams: readonly UpstreamPlan[], waitMs: number): Promise<void> {
    const fresh: Promise<void>[] = [];
    const wanted = new Set<string>();
    for (const u of upstreams) {
      if (u.discovery.kind === 'static') continue;
      wanted.add(u.name);
      const key = JSON.stringify(u.discovery);
      if (this.running.get(u.name)?.key === key) continue;
      // A changed source replaces the old one, but the last list stays until the new one answers.
      this.stop(u.name);
      const started = this.start(u, key);
      this.running.set(u.name, started);
      fresh.push(started.first);
    }
    for (const name of [...this.running.keys()]) {
      if (wanted.has(name)) continue;
      this.stop(name);
      this.endpoints.delete(name);
      this.status.delete(name);
    }
    if (fresh.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(fresh),
        new Promise((r) => {
          timer = setTimeout(r, waitMs);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  close(): void {
    for (const name of [...this.running.keys()]) this.stop(name);
  }

  private start(u: UpstreamPlan, key: string): Running {
    let answered!: () => void;
    const first = new Promise<void>((r) => {
      answered = r;
    });
    // Endpoints found under the previous settings of this upstream, kept until this source answers.
    let inherited = this.endpoints.has(u.name);
    const counts = this.statusOf(u.name);
    const events: SourceEvents = {
      update: (list) => {
        answered();
        if (this.running.get(u.name)?.source !== source) return;
        counts.up = list !== null;
        if (list === null) {
          counts.errors++;
          if (inherited)
            this.log.warn(
              { upstream: u.name, code: 'SLUICE_ERR_DISCOVERY' },
              'the new discovery settings found nothing yet; the endpoints found under the previous ones stay in force',
            );
          return;
        }
        counts.lastSuccessMs = Date.now();
        inherited = false;
        if (sameEndpoints(this.endpoints.get(u.name), list)) return;
        this.endpoints.set(u.name, list);
        this.changes++;
        this.log.info({ upstream: u.name, endpoints: list.map((e) => e.origin) }, 'discovered endpoints changed');
        this.onChange(u.name);
      },
      problem: (message) => this.log.warn({ upstream: u.name, code: 'SLUICE_ERR_DISCOVERY' }, message),
    };
    const d = u.discovery;
    const source = d.kind === 'dns' ? startDnsSource(d, events) : startEtcdSource(d as Extract<typeof d, { kind: 'etcd' }>, events);
    return { key, source, first };
  }

  private statusOf(name: string): SourceStatus {
    let status = this.status.get(name);
    if (status === undefined) {
      status = { up: false, lastSuccessMs: 0, errors: 0 };
      this.status.set(name, status);
    }
    return status;
  }

  private stop(name: string): void {
    this.running.get(name)?.source.close();
    this.running.delete(name);
  }
}

function sameEndpoints(a: readonly EndpointPlan[] | undefined, b: readonly EndpointPlan[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  return a.every((e, i) => e.origin === b[i].origin && e.weight === b[i].weight && e.hostHeader === b[i].hostHeader);
}
