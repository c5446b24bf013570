import type { ServiceView } from '../pipeline/stage-factory.js';

/**
 * In a worker, the latest value each stage's primary-side service published (StageEnv.service):
 * one view per stage kind for the worker's whole life, so a stage instance of any config generation
 * reads the newest value with one property load. A view's signal() goes back to the primary.
 */
export class ServiceViews {
  private readonly views = new Map<string, { current: unknown; signal(value: unknown): void }>();

  constructor(
    initial: Readonly<Record<string, unknown>>,
    private readonly send: (kind: string, value: unknown) => void = () => {},
  ) {
    for (const [kind, value] of Object.entries(initial)) this.update(kind, value);
  }

  view(kind: string): ServiceView {
    return this.writable(kind);
  }

  update(kind: string, value: unknown): void {
    this.writable(kind).current = value;
  }

  private writable(kind: string): { current: unknown; signal(value: unknown): void } {
    let v = this.views.get(kind);
    if (v === undefined) {
      const send = this.send;
      this.views.set(kind, (v = { current: undefined, signal: (value) => send(kind, value) }));
    }
    return v;
  }
}
