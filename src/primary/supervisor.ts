import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CompiledPlan } from '../compile/plan.js';
import { GatewayError } from '../errors/gateway-error.js';
import { countersOnly, mergeSeries } from '../observe/exposition.js';
import type { SeriesSnapshot } from '../observe/worker-metrics.js';
import type { SharedState } from '../shared/shared-state.js';
import type { FromWorker, ToWorker, WorkerData } from '../worker/messages.js';

const WORKER_ENTRY = new URL('../worker/main.js', import.meta.url);
/**
 * Respawn delay after a crash: none for a seat's first crash in a minute (its share of new
 * connections is back as soon as the thread listens), then 100 ms doubled for each further one, capped.
 */
const RESPAWN_MIN_MS = 100;
const RESPAWN_MAX_MS = 5000;

/** One configured worker: the thread in it is replaced when it dies. */
interface Seat {
  worker: Worker | null;
  listening: boolean;
  generation: number;
  crashes: number;
  lastCrash: number;
  /** Threads in this seat that died and were replaced. */
  restarts: number;
  /** The series of the thread in this seat at its latest scrape: its counters outlive it. */
  last: readonly SeriesSnapshot[];
}

/**
 * One worker's part of a scrape. A worker that did not answer in time (or whose thread is being
 * replaced) is represented by the counters of its last answer, so merged counters never go back.
 */
export interface WorkerScrape {
  readonly index: number;
  readonly generation: number;
  readonly restarts: number;
  readonly answered: boolean;
  readonly series: readonly SeriesSnapshot[];
}

/**
 * Spawns one worker thread per configured worker, replaces any that die, ships plans to all of
 * them, and drains them on shutdown.
 */
export class Supervisor {
  private readonly seats: Seat[] = [];
  private stopping = false;
  private waiters: Array<() => void> = [];
  /** Counters of threads that died, so that merged counters never go back (what they counted since their last scrape is lost). */
  private retired: SeriesSnapshot[] = [];
  private scrapes = new Map<number, (m: { generation: number; series: readonly SeriesSnapshot[] }) => void>();
  private nextScrape = 0;

  constructor(
    private plan: CompiledPlan,
    private readonly shared: SharedState,
    private readonly log: Logger,
    /** The latest value of each stage service: a worker starts with them. */
    private readonly serviceValues: () => Readonly<Record<string, unknown>> = () => ({}),
  ) {}

  /** Where a worker's signal to a stage service goes (StageServices.signal, once it exists). */
  onServiceSignal: ((kind: string, value: unknown) => void) | null = null;

  /** A stage service published: every worker gets the value. */
  publishService(kind: string, value: unknown): void {
    for (const s of this.seats) this.post(s, { type: 'service', kind, value });
  }

  /** Resolves once every worker listens; rejects if a worker cannot listen. */
  async start(): Promise<void> {
    for (let i = 0; i < this.plan.workers; i++) {
      this.seats.push({ worker: null, listening: false, generation: 0, crashes: 0, lastCrash: 0, restarts: 0, last: [] });
      this.spawn(i);
    }
    await this.until(() => this.fatal !== null || this.seats.every((s) => s.listening));
    if (this.fatal !== null) throw this.fatal;
  }
  private fatal: Error | null = null;

  get ready(): boolean {
    return !this.stopping && this.seats.length > 0 && this.seats.every((s) => s.listening);
  }

  get generation(): number {
    return this.plan.generation;
  }

  /** Send a new plan to every worker; resolves when all have switched (or after timeoutMs). */
  async publish(plan: CompiledPlan, timeoutMs = 5000): Promise<void> {
    this.plan = plan;
    for (const s of this.seats) this.post(s, { type: 'plan', plan });
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      this.wake();
    }, timeoutMs);
    await this.until(() => expired || this.seats.every((s) => s.worker === null || s.generation >= plan.generation));
    clearTimeout(timer);
  }

  /** Workers replaced since the start. */
  get restarts(): number {
    return this.seats.reduce((n, s) => n + s.restarts, 0);
  }

  /** The counters of threads that died. */
  get retiredSeries(): readonly SeriesSnapshot[] {
    return this.retired;
  }

  /**
   * Every worker's metrics now. A worker answers between two of its events (a snapshot copies its
   * counters); one that takes longer than timeoutMs is represented by its last answer. Scrapes that
   * arrive while one runs share it: a slow scrape cannot pile up copies in the workers.
   */
  scrape(timeoutMs = 2000): Promise<WorkerScrape[]> {
    this.running ??= Promise.all(this.seats.map((seat, index) => this.scrapeOne(seat, index, timeoutMs))).finally(() => {
      this.running = null;
    });
    return this.running;
  }
  private running: Promise<WorkerScrape[]> | null = null;

  private scrapeOne(seat: Seat, index: number, timeoutMs: number): Promise<WorkerScrape> | WorkerScrape {
    const stale = (): WorkerScrape => ({ index, generation: seat.generation, restarts: seat.restarts, answered: false, series: countersOnly(seat.last) });
    if (seat.worker === null) return stale();
    const id = this.nextScrape++;
    return new Promise<WorkerScrape>((resolve) => {
      const timer = setTimeout(() => {
        this.scrapes.delete(id);
        resolve(stale());
      }, timeoutMs);
      this.scrapes.set(id, (m) => {
        clearTimeout(timer);
        seat.last = m.series;
        resolve({ index, generation: m.generation, restarts: seat.restarts, answered: true, series: m.series });
      });
      this.post(seat, { type: 'metrics', id });
    });
  }

  /** Stop accepting everywhere, wait for in-flight requests (bounded), let threads end. */
  async drain(timeoutMs: number): Promise<number> {
    this.stopping = true;
    let abandoned = 0;
    const exits = this.seats.map(
      (s) =>
        new Promise<void>((resolve) => {
          const w = s.worker;
          if (w === null) return resolve();
          w.on('message', (m: FromWorker) => {
            if (m.type === 'drained') abandoned += m.abandoned;
          });
          w.once('exit', () => resolve());
          this.post(s, { type: 'drain', timeoutMs });
        }),
    );
    // A thread that does not end within the drain window plus a grace period is terminated.
    const hardStop = setTimeout(() => {
      for (const s of this.seats) void s.worker?.terminate();
    }, timeoutMs + 5000);
    await Promise.all(exits);
    clearTimeout(hardStop);
    return abandoned;
  }

  private spawn(index: number): void {
    const seat = this.seats[index];
    const data: WorkerData = { index, plan: this.plan, shared: this.shared, services: this.serviceValues() };
    const worker = new Worker(WORKER_ENTRY, { workerData: data });
    seat.worker = worker;
    seat.generation = this.plan.generation;
    worker.on('message', (m: FromWorker) => this.onMessage(seat, index, m));
    worker.on('error', (err) => this.log.error({ err, worker: index }, 'worker crashed'));
    worker.on('exit', (code) => this.onExit(seat, index, code));
  }

  private onMessage(seat: Seat, index: number, m: FromWorker): void {
    if (m.type === 'listening') {
      seat.listening = true;
      this.log.info({ worker: index, port: m.port, generation: seat.generation }, 'worker listening');
    } else if (m.type === 'plan-applied') {
      seat.generation = m.generation;
    } else if (m.type === 'metrics') {
      const answer = this.scrapes.get(m.id);
      this.scrapes.delete(m.id);
      answer?.(m);
      return;
    } else if (m.type === 'service-signal') {
      this.onServiceSignal?.(m.kind, m.value);
      return;
    } else if (m.type === 'fatal') {
      this.log.error({ worker: index, code: m.code }, m.message);
      this.fatal ??= new GatewayError(m.code, `(${m.message})`);
    }
    this.wake();
  }

  private onExit(seat: Seat, index: number, code: number): void {
    seat.worker = null;
    seat.listening = false;
    this.wake();
    if (this.stopping || this.fatal !== null) return;
    this.retired = mergeSeries([this.retired, countersOnly(seat.last)]);
    seat.last = [];
    seat.restarts++;
    const now = Date.now();
    seat.crashes = now - seat.lastCrash < 60_000 ? seat.crashes + 1 : 0;
    seat.lastCrash = now;
    const delay = seat.crashes === 0 ? 0 : Math.min(RESPAWN_MIN_MS * 2 ** (seat.crashes - 1), RESPAWN_MAX_MS);
    this.log.error({ worker: index, exit_code: code, respawn_in_ms: delay }, 'worker exited; replacing it');
    setTimeout(() => {
      if (!this.stopping) this.spawn(index);
    }, delay).unref();
  }

  private post(seat: Seat, m: ToWorker): void {
    seat.worker?.postMessage(m);
  }

  private until(cond: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (cond()) resolve();
        else this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
