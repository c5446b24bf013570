import type { Logger } from 'pino';
import type { CompiledPlan } from '../compile/plan.js';
import type { StageFactory, StageService } from '../pipeline/stage-factory.js';

/**
 * The primary-side services of stages (StageFactory.service: a JWKS fetcher, a certificate watcher):
 * started once, told of every config the gateway applies, and whatever they publish goes to every
 * worker, and to workers started later (their workerData carries the latest values).
 */
export class StageServices {
  private readonly running: Array<{ readonly kind: string; readonly service: StageService<unknown, unknown> }> = [];
  /** The latest value each service published, by stage kind. */
  readonly latest = new Map<string, unknown>();
  /** Where a published value goes (the supervisor, once it exists). */
  onPublish: ((kind: string, value: unknown) => void) | null = null;

  constructor(registry: readonly StageFactory[], log: Logger) {
    for (const f of registry) {
      if (f.service === undefined) continue;
      const kind = f.kind;
      const publish = (value: unknown) => {
        this.latest.set(kind, value);
        this.onPublish?.(kind, value);
      };
      this.running.push({ kind, service: f.service.start({ log: log.child({ stage: kind }), publish }) });
    }
  }

  /** A config is being applied: each service gets its stage's settings and the plans of the routes that use it. */
  configure(plan: CompiledPlan): void {
    for (const { kind, service } of this.running) {
      const plans = plan.routes.flatMap((r) => r.stages.filter((s) => s.kind === kind).map((s) => s.plan));
      service.configure(plan.stageSettings[kind], plans);
    }
  }

  /** A worker signalled a stage's service (ServiceView.signal); a service without onSignal ignores it. */
  signal(kind: string, value: unknown): void {
    this.running.find((r) => r.kind === kind)?.service.onSignal?.(value);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.running.map((r) => r.service.close()));
  }
}
