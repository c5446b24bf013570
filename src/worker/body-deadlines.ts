import { performance } from 'node:perf_hooks';

/**
 * A request whose body is still arriving from the client, as the sweep sees it (the front door).
 * The links are its own fields, so joining and leaving the list allocates nothing.
 */
export interface BodyReader {
  /** performance.now() by which the whole body must have arrived. */
  bodyDeadline: number;
  /** Reading is held by sluice (the upstream is slow): that time is not the client's. */
  readonly bodyReadingPaused: boolean;
  prevReader: BodyReader | null;
  nextReader: BodyReader | null;
  /** The deadline passed; called once, after the reader left the list. */
  bodyTimedOut(): void;
}

/** How often the sweep looks, in ms: a 408 comes at most this late. */
export const SWEEP_MS = 100;

/**
 * timeouts.client_body_ms for one worker: every request reading a body sits in one list, and one
 * interval, running only while the list is not empty, cuts those past their deadline. A bodiless
 * request never joins, and a request with a body costs two link writes and one clock read, never a
 * timer of its own.
 */
class BodyDeadlines {
  private head: BodyReader | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly sweepFn = (): void => this.sweep();

  /** `r` starts reading a body that must be whole within `ms` from now. */
  add(r: BodyReader, ms: number): void {
    r.bodyDeadline = performance.now() + ms;
    r.prevReader = null;
    r.nextReader = this.head;
    if (this.head !== null) this.head.prevReader = r;
    this.head = r;
    // Stopped only by a sweep that finds the list empty: a worker serving one upload after another
    // keeps one interval, not one per upload.
    if (this.timer === null) this.timer = setInterval(this.sweepFn, SWEEP_MS).unref();
  }

  /** `r` has its whole body, or ended: it leaves the list (a no-op when it is not in it). */
  remove(r: BodyReader): void {
    if (r.prevReader === null && this.head !== r) return;
    if (r.prevReader !== null) r.prevReader.nextReader = r.nextReader;
    else this.head = r.nextReader;
    if (r.nextReader !== null) r.nextReader.prevReader = r.prevReader;
    r.prevReader = r.nextReader = null;
  }

  private sweep(): void {
    if (this.head === null) {
      clearInterval(this.timer!);
      this.timer = null;
      return;
    }
    const now = performance.now();
    let r: BodyReader | null = this.head;
    while (r !== null) {
      const next: BodyReader | null = r.nextReader;
      if (!r.bodyReadingPaused && r.bodyDeadline <= now) {
        this.remove(r);
        r.bodyTimedOut();
      }
      r = next;
    }
  }
}

/** This worker's list (module state: one per worker thread). */
export const bodyDeadlines = new BodyDeadlines();
