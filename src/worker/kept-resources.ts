/**
 * Resources a worker keeps across config generations (a Redis connection survives a reload that
 * keeps its URL), created on first use and closed when the worker drains.
 */
export class KeptResources {
  private readonly byKey = new Map<string, { close(): unknown }>();

  keep<T extends { close(): unknown }>(key: string, create: () => T): T {
    let r = this.byKey.get(key);
    if (r === undefined) this.byKey.set(key, (r = create()));
    return r as T;
  }

  async closeAll(): Promise<void> {
    const all = [...this.byKey.values()];
    this.byKey.clear();
    await Promise.allSettled(all.map((r) => r.close()));
  }
}
