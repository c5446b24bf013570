import type { Logger } from 'pino';
import type { EnvVariable } from '../config/env.js';
import type { Infer, SchemaNode } from '../config/schema-node.js';
import type { FamilyKey } from '../observe/metric-families.js';
import type { Counter } from '../observe/worker-metrics.js';
import type { Stage } from './phase.js';
import type { RequestState } from './request-ctx.js';

/**
 * Everything a stage is, from config to request, in one object its folder exports and
 * stages/registry.ts lists. It is split across the thread boundary the way Envoy splits a filter's
 * config from its instances: compile runs in the primary and returns plain, structured-clonable data;
 * instantiate runs in each worker, once per config generation, and returns the Stage whose phases run
 * per request.
 *
 *   config (route[kind], settings) ─ compile (primary) ─▶ plan ─ postMessage ─▶ instantiate (worker) ─▶ Stage
 *
 * Type parameters: R its route field as validated (from `schema`), P its plan, S its settings plan.
 */
export interface StageFactory<R = any, P = any, S = any> {
  /** The route field this stage reads (`rate_limit`); also its name in logs. */
  readonly kind: string;
  /** The schema of its route field: the route schema is assembled from these. */
  readonly schema: SchemaNode;
  /** It answers every request of a route that sets it (`respond:`): such a route has no upstream. */
  readonly answers?: true;
  /**
   * Compile runs for every route, with `raw` undefined where the route does not set the field: for
   * gateway-wide settings that act on each route (the top-level `ip:` policy).
   */
  readonly everyRoute?: true;
  /**
   * Methods a route that sets the field also matches when its match names methods: `cors:` adds
   * OPTIONS, so preflights reach it. The stage sees the route's own list in RouteContext.methods.
   */
  readonly alsoMatches?: readonly string[];
  /** Gateway-wide settings under a top-level key of the config, compiled once per config. */
  readonly settings?: StageSettings<S>;
  /** Per route that sets its field, in the primary: the plan, or null when there is nothing to do. */
  compile(raw: R, route: RouteContext, settings: S, problems: StageProblems): P | null;
  /**
   * Shared memory, in bytes per table name: made once by the primary from the first config's
   * settings and shared by every worker for the life of the process (a reload cannot resize them).
   */
  tables?(settings: S): Readonly<Record<string, number>>;
  /** A primary-side service: started once, told of every config, its results published to workers. */
  readonly service?: StageServiceFactory<S, P>;
  /** In a worker, once per route and config generation. */
  instantiate(plan: P, env: StageEnv<S>): Stage;
}

export interface StageSettings<S> {
  /** The top-level config key (`rate_limits`). */
  readonly key: string;
  /** Its schema; give it a default so that the settings exist when the key is absent. */
  readonly schema: SchemaNode;
  /** Environment variables that override fields of the config (paths from its root). */
  readonly env?: readonly EnvVariable[];
  compile(raw: any, problems: StageProblems): S;
}

/** What a stage's compile sees of its route besides its own field. */
export interface RouteContext {
  readonly name: string;
  /** The route forwards to an upstream (otherwise a stage answers it). */
  readonly hasUpstream: boolean;
  /** The methods its match names, upper-case; null when it matches any method. */
  readonly methods: readonly string[] | null;
  /** The kind of caller its `auth:` proves (rate-limit keys jwt:CLAIM and api_key need it); null without auth. */
  readonly principal: 'jwt' | 'api_key' | null;
  /** The config file's folder: a relative file path a stage reads resolves against it, as every file a config names does. */
  readonly configDir: string;
  /**
   * The request path normaliser under the config's limits.path (router/normalize-path.ts): a path a
   * stage writes upstream must come back from it unchanged, or it means something routing never saw.
   */
  normalizePath(path: string): { readonly path: string | null; readonly why: string };
}

/** Lets compile report a cross-field problem at a path relative to its route (or to its settings key). */
export interface StageProblems {
  report(relativePath: readonly (string | number)[], message: string): void;
}

/** What a worker gives a stage instance besides its plan. */
export interface StageEnv<S = unknown> {
  readonly log: Logger;
  /** A typed per-request place for this stage; call it at instantiate, once per place. */
  state<T>(): RequestState<T>;
  /**
   * Its settings, compiled from the current config (undefined for a stage without settings). Tables
   * keep the sizes of the first config: a reload that resizes them takes effect on restart.
   */
  readonly settings: S;
  /** The shared memory it asked for in tables(), by name. */
  readonly tables: Readonly<Record<string, SharedArrayBuffer>>;
  /** A per-start random number: seeds key hashing, so outsiders cannot choose keys that collide. */
  readonly secret: number;
  /** The latest value its primary-side service published, and the way back to that service. */
  readonly service: ServiceView;
  /** Worker-lifetime resources kept across config generations (a Redis connection), by key. */
  keep<T extends { close(): unknown }>(key: string, create: () => T): T;
  /**
   * A counter of GET /metrics (a family of observe/metric-families.ts, label values in its order),
   * the same object across generations: resolve it at instantiate, add to it per request. With
   * metrics off it is a counter nobody reads.
   */
  counter(family: FamilyKey, labels: readonly string[]): Counter;
}

/** A worker's side of a stage's primary-side service. */
export interface ServiceView {
  /** The latest value the service published (undefined before the first). */
  readonly current: unknown;
  /**
   * Tell the service something (structured-clonable): it arrives at StageService.onSignal in the
   * primary. For rare events (a JWKS key id nobody knows); a stage limits how often it signals.
   */
  signal(value: unknown): void;
}

/** Started once in the primary for a stage that declares it (a JWKS fetcher, a certificate watcher). */
export interface StageServiceFactory<S, P> {
  start(env: ServiceEnv): StageService<S, P>;
}

export interface ServiceEnv {
  readonly log: Logger;
  /** Hand a structured-clonable value to every worker (and to workers started later). */
  publish(value: unknown): void;
}

export interface StageService<S, P> {
  /** A config was applied: the stage's settings and the plans of every route that uses it. */
  configure(settings: S, plans: readonly P[]): void;
  /** A worker signalled (ServiceView.signal). */
  onSignal?(value: unknown): void;
  close(): Promise<void>;
}

/** Declares a stage with its route field typed from its schema. */
export function defineStage<const Schema extends SchemaNode, P, S = undefined>(
  f: StageFactory<Infer<Schema>, P, S> & { readonly schema: Schema },
): StageFactory<Infer<Schema>, P, S> {
  return f;
}
