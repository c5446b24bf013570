import type { CompiledPlan } from '../compile/plan.js';
import type { ErrorCode } from '../errors/catalog.js';
import type { SeriesSnapshot } from '../observe/worker-metrics.js';
import type { SharedState } from '../shared/shared-state.js';

/** The primary ⇄ worker protocol. Plans are plain data; errors cross as code + message. */
export type ToWorker =
  | { readonly type: 'plan'; readonly plan: CompiledPlan }
  | { readonly type: 'drain'; readonly timeoutMs: number }
  /** A stage's primary-side service published a value (StageEnv.service). */
  | { readonly type: 'service'; readonly kind: string; readonly value: unknown }
  /** The primary scrapes: answer with a 'metrics' message carrying the same id. */
  | { readonly type: 'metrics'; readonly id: number };

export type FromWorker =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'plan-applied'; readonly generation: number }
  | { readonly type: 'drained'; readonly abandoned: number }
  | { readonly type: 'fatal'; readonly code: ErrorCode; readonly message: string }
  /** A stage signalled its primary-side service (ServiceView.signal). */
  | { readonly type: 'service-signal'; readonly kind: string; readonly value: unknown }
  | { readonly type: 'metrics'; readonly id: number; readonly generation: number; readonly series: readonly SeriesSnapshot[] };

export interface WorkerData {
  readonly index: number;
  readonly plan: CompiledPlan;
  readonly shared: SharedState;
  /** The latest value of each stage service, by stage kind. */
  readonly services: Readonly<Record<string, unknown>>;
}
