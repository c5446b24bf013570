import type { Logger } from 'pino';
import type { CompiledPlan } from '../compile/plan.js';
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import type { ErrorCode } from '../errors/catalog.js';
import type { SharedState } from '../shared/shared-state.js';
import type { HeadLines } from '../http/head-lines.js';

/**
 * The per-request phase contract. A feature is a Stage: it plugs into these phases and never edits
 * the proxy core. Phases, in the order a request meets them (see README "Request lifecycle"):
 *
 *   accept (worker/accept.ts: copy + validate the head)  →  route  →  onRequest*  →  upstream peer
 *   →  onUpstreamRequest*  →  dispatch  →  onResponse*  →  stream body  →  onLog*
 *
 * The runner owns iteration: a stage returns a value, it never calls next().
 */

/** A response made by the gateway itself (not the upstream). */
export interface LocalReply {
  readonly status: number;
  /** Stable error code, or null for a non-error answer (a fixed `respond:` route). */
  readonly code: ErrorCode | null;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
}

/** What stages can see of a request. Everything was copied out of uWS before any stage runs. */
export interface RequestCtx {
  readonly id: string;
  readonly method: string;
  /** Normalised path (see router/normalize-path.ts). */
  readonly path: string;
  /** Raw query string without "?" ("" when none). */
  readonly query: string;
  readonly host: string;
  readonly remoteAddress: string;
  readonly routeName: string;
  readonly params: readonly string[];
  header(lowerName: string): string | undefined;
  /** Per-request scratch of the stages, by StageEnv.slot; null until a stage stores something. */
  stageState: unknown[] | null;
}

/** The request head about to be sent upstream; onUpstreamRequest stages may edit it. */
export interface UpstreamRequestHead {
  path: string;
  /** Flat [name, value, name, value, ...] with lower-case names; values free of CR, LF and NUL. */
  readonly headers: string[];
}

/** The upstream response head about to be written downstream; onResponse stages may edit it. */
export interface ResponseHead {
  status: number;
  /** As the upstream sent them, names in the upstream's case (read with lineName/lineValue). */
  readonly upstream: HeadLines;
  /**
   * Headers to write downstream, replacing any upstream header of the same name: push
   * lower-case name, value. Values must be free of CR/LF (uWS writes them as they are).
   */
  readonly set: string[];
}

export interface Stage {
  /** Used in logs and metrics. */
  readonly name: string;
  /** Route matched, head known. Return a LocalReply to answer now, null to continue. */
  onRequest?(ctx: RequestCtx): LocalReply | null | Promise<LocalReply | null>;
  /** Last edit of what goes upstream. Synchronous. */
  onUpstreamRequest?(ctx: RequestCtx, head: UpstreamRequestHead): void;
  /** Upstream response head, before it is written downstream. Synchronous. */
  onResponse?(ctx: RequestCtx, head: ResponseHead): void;
  /** After the exchange, exactly once, success or failure. Must not throw. */
  onLog?(ctx: RequestCtx, status: number): void;
}

/**
 * Config → plan → instance, split across the thread boundary: compile() runs in the primary and
 * returns plain data (or null when the route does not use the stage); instantiate() runs once per
 * worker per config generation.
 */
export interface StageFactory<Plan> {
  /** The route config key this stage reads; also its name. */
  readonly kind: string;
  compile(route: RouteConfig, config: GatewayConfig, problems: StageProblems): Plan | null;
  instantiate(plan: Plan, env: StageEnv): Stage;
}

/** What a worker gives a stage instance besides its plan. */
export interface StageEnv {
  readonly log: Logger;
  /** This stage's index into RequestCtx.stageState. */
  readonly slot: number;
  readonly plan: CompiledPlan;
  readonly shared: SharedState;
  /** Worker-lifetime resources kept across config generations (e.g. a Redis connection), by key. */
  keep<T extends { close(): unknown }>(key: string, create: () => T): T;
}

/** Lets a stage's compile() report a cross-field problem at a path relative to its route. */
export interface StageProblems {
  report(relativePath: readonly (string | number)[], message: string): void;
}
