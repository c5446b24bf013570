import type { ConfigIssue } from '../errors/gateway-error.js';

/**
 * Environment variables that override config fields, applied on top of the file after validation
 * (tuning without editing YAML). Each is documented in README with its default; a stage declares its
 * own beside its settings (StageFactory.settings.env).
 */
export interface EnvVariable {
  readonly name: string;
  /**
   * The field it sets; '*' stands for every key of a map (every upstream). Its parent must exist once
   * defaults are filled in (a settings object needs a default), or the value has nowhere to go.
   */
  readonly path: readonly string[];
  /** Integer bounds; absent when only `words` are accepted. */
  readonly min?: number;
  readonly max?: number;
  /** Words accepted as they are (beside integers, when there are bounds). */
  readonly words?: readonly string[];
  /** Any non-empty string, as it is (a secret: its value is never repeated in a message). */
  readonly text?: boolean;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export const GATEWAY_ENV: readonly EnvVariable[] = [
  { name: 'SLUICE_PORT', path: ['listen', 'port'], min: 0, max: 65535 },
  { name: 'SLUICE_ADMIN_PORT', path: ['admin', 'port'], min: 0, max: 65535 },
  { name: 'SLUICE_ADMIN_TOKEN', path: ['admin', 'token'], text: true },
  { name: 'SLUICE_WORKERS', path: ['workers'], min: 1, max: 1024, words: ['auto'] },
  { name: 'SLUICE_LOG_LEVEL', path: ['log', 'level'], words: LEVELS },
  { name: 'SLUICE_POOL_CONNECTIONS', path: ['upstreams', '*', 'pool', 'connections'], min: 1, max: 100_000 },
  { name: 'SLUICE_PIPELINING', path: ['upstreams', '*', 'pool', 'pipelining'], min: 1, max: 128 },
];

export interface EnvValue {
  readonly variable: EnvVariable;
  readonly value: number | string;
}

/** The variables that are set, checked; every bad one is an issue. */
export function readEnv(env: NodeJS.ProcessEnv, variables: readonly EnvVariable[]): { values: EnvValue[]; issues: ConfigIssue[] } {
  const values: EnvValue[] = [];
  const issues: ConfigIssue[] = [];
  for (const v of variables) {
    const raw = env[v.name];
    if (raw === undefined || raw === '') continue;
    const value = parse(v, raw);
    if (value === undefined) issues.push({ file: 'environment', line: 0, col: 0, path: v.name, message: expected(v, raw) });
    else values.push({ variable: v, value });
  }
  return { values, issues };
}

function parse(v: EnvVariable, raw: string): number | string | undefined {
  if (v.text === true) return raw;
  if (v.words?.includes(raw)) return raw;
  if (v.min === undefined || v.max === undefined || !/^[0-9]{1,9}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= v.min && n <= v.max ? n : undefined;
}

function expected(v: EnvVariable, raw: string): string {
  if (v.min === undefined) return `must be one of ${v.words!.join(', ')}`;
  return `must be an integer from ${v.min} to ${v.max}, got ${JSON.stringify(raw)}`;
}

/** Set each value in the (still mutable) defaulted config object. */
export function applyEnv(cfg: Record<string, unknown>, values: readonly EnvValue[]): void {
  for (const { variable, value } of values) set(cfg, variable.path, value);
}

function set(at: unknown, path: readonly string[], value: unknown): void {
  if (typeof at !== 'object' || at === null) return;
  // A list stands for its first item: SLUICE_PORT sets the first listener's port when listen is a list.
  if (Array.isArray(at)) return set(at[0], path, value);
  const o = at as Record<string, unknown>;
  const [key, ...rest] = path;
  if (rest.length === 0) o[key] = value;
  else if (key === '*') for (const child of Object.values(o)) set(child, rest, value);
  else set(o[key], rest, value);
}
