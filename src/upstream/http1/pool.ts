import { Connection, type ConnectionOwner, type ConnectionSettings } from './connection.js';
import { closedEarly, type UpstreamTry } from './upstream-try.js';

/** The mark of a try waiting in a pool's queue (UpstreamTry.link). */
const QUEUED = Symbol('queued');

/**
 * One worker's keep-alive connections to one endpoint: at most `connections` of them, idle ones
 * reused most-recent first (the least likely to have been closed by the upstream, and the rest age
 * out after keep-alive), tries queued in order when every connection is busy.
 *
 * close() is graceful (a retired pool after a reload or a discovery change): idle connections close
 * now, busy ones once their answers and the queued tries are done.
 */
export class Http1Pool implements ConnectionOwner {
  /** Retired: idle connections close instead of waiting for work (UpstreamRuntime uses a current pool). */
  closed = false;
  private destroyed = false;
  private readonly all = new Set<Connection>();
  private readonly idleStack: Connection[] = [];
  private readonly queue: UpstreamTry[] = [];
  private onEmpty: (() => void) | null = null;

  constructor(
    private readonly settings: ConnectionSettings,
    private readonly connections: number,
  ) {}

  dispatch(t: UpstreamTry): void {
    t.resent = false;
    this.place(t);
  }

  /** For GET /metrics: connections open and idle, and tries waiting for one. */
  get counts(): { open: number; idle: number; queued: number } {
    return { open: this.all.size, idle: this.idleStack.length, queued: this.queue.length };
  }

  /** Hot path: an idle connection, else a new one, else a pipelined slot, else the queue. */
  private place(t: UpstreamTry): void {
    if (this.destroyed) return t.onError(closedEarly('the gateway is shutting down'));
    let idle = this.idleStack.pop();
    while (idle !== undefined && idle.expiredIdle()) idle = this.idleStack.pop();
    if (idle !== undefined) return idle.send(t);
    if (this.all.size < this.connections) {
      const c = new Connection(this, this.settings);
      this.all.add(c);
      return c.send(t);
    }
    if (this.settings.pipelining > 1) {
      for (const c of this.all) if (c.canTake(t)) return c.send(t);
    }
    t.link = QUEUED;
    this.queue.push(t);
  }

  /** Stop a try wherever it is; its onError follows. */
  abort(t: UpstreamTry, err: Error): void {
    if (t.link === QUEUED) {
      const i = this.queue.indexOf(t);
      if (i !== -1) this.queue.splice(i, 1);
      t.link = null;
      t.onError(err);
    } else if (t.link instanceof Connection) {
      t.link.abort(t, err);
    }
  }

  /** The try's client drained: read its answer again. */
  resume(t: UpstreamTry): void {
    if (t.link instanceof Connection) t.link.resume(t);
  }

  // ── what connections report (ConnectionOwner) ─────────────────────────────────────────────

  idle(c: Connection): void {
    const next = this.queue.shift();
    if (next !== undefined) return c.send(next);
    if (this.closed) return c.closeWhenIdle();
    this.idleStack.push(c);
  }

  room(c: Connection): void {
    while (this.queue.length > 0 && c.canTake(this.queue[0])) c.send(this.queue.shift()!);
  }

  gone(c: Connection): void {
    this.all.delete(c);
    const i = this.idleStack.indexOf(c);
    if (i !== -1) this.idleStack.splice(i, 1);
    // Queued tries still need a connection: open one in its place.
    const next = this.queue.shift();
    if (next !== undefined) this.place(next);
    else if (this.all.size === 0 && this.onEmpty !== null) this.onEmpty();
  }

  /**
   * On a new connection: the idle ones are older than the one that just turned out closed, so they
   * are likelier still to be stale. The closing one is still counted, so this stays within the limit.
   */
  resend(t: UpstreamTry): void {
    if (this.destroyed || this.all.size > this.connections) return this.place(t);
    const c = new Connection(this, this.settings);
    this.all.add(c);
    c.send(t);
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  /** Resolves once every connection has closed; answers in flight and queued tries are finished first. */
  close(): Promise<void> {
    this.closed = true;
    for (const c of this.idleStack.splice(0)) c.closeWhenIdle();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.onEmpty = resolve;
    });
  }

  destroy(): void {
    this.closed = true;
    this.destroyed = true;
    const queued = this.queue.splice(0);
    for (const c of [...this.all]) c.destroy(closedEarly('the gateway is shutting down'));
    for (const t of queued) {
      t.link = null;
      t.onError(closedEarly('the gateway is shutting down'));
    }
    this.onEmpty?.();
  }
}
