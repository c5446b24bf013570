import type { Principal } from '../../pipeline/request-ctx.js';

/** What a verified token gave: who, and the headers it sends upstream. */
export interface Verified {
  readonly principal: Principal;
  /** Flat [lower-case header, value, ...] of forwarded claims. */
  readonly headers: readonly string[];
  /** Epoch ms after which the token is no longer valid (exp, max age), so no longer served from the cache. */
  readonly untilMs: number;
}

/**
 * Verified tokens of one route in one worker, by the token text: a repeat caller costs one Map
 * lookup instead of a signature check. Bounded: when full, the oldest entry goes (Map keeps insertion
 * order). An entry is never served past its untilMs; a change of the route's keys empties it.
 */
export class TokenCache {
  private readonly entries = new Map<string, Verified>();

  constructor(private readonly max: number) {}

  get(token: string, nowMs: number): Verified | undefined {
    const v = this.entries.get(token);
    if (v === undefined) return undefined;
    if (nowMs < v.untilMs) return v;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, v: Verified): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(token, v);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
