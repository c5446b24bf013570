/**
 * In a worker, the latest value each stage's primary-side service published (StageEnv.service):
 * one view per stage kind for the worker's whole life, so a stage instance of any config generation
 * reads the newest value with one property load.
 */
export class ServiceViews {
  private readonly views = new Map<string, { current: unknown }>();

  constructor(initial: Readonly<Record<string, unknown>>) {
    for (const [kind, value] of Object.entries(initial)) this.update(kind, value);
  }

  view(kind: string): { readonly current: unknown } {
    return this.writable(kind);
  }

  update(kind: string, value: unknown): void {
    this.writable(kind).current = value;
  }

  private writable(kind: string): { current: unknown } {
    let v = this.views.get(kind);
    if (v === undefined) this.views.set(kind, (v = { current: undefined }));
    return v;
  }
}
