import { ACCESS_LOG_FIELDS, DEFAULT_ACCESS_LOG_FIELDS } from '../config/schema.js';
import { secretNamePattern } from './mask.js';

/**
 * The access line's selectable fields, in the order a line carries them (config/schema.ts declares
 * them, for log.access.fields). `level` and `type` are on every line and not listed. The fields after
 * `attempts` are opt-in: they come last, so a line without any of them pays one check for all of them.
 */
export const ACCESS_FIELDS = ACCESS_LOG_FIELDS;

export type AccessField = (typeof ACCESS_FIELDS)[number];

/** One bit per field, by its place in ACCESS_FIELDS: the writer tests a line's fields with `&`. */
export const F = Object.fromEntries(ACCESS_FIELDS.map((name, i) => [name, 1 << i])) as Readonly<Record<AccessField, number>>;

/** What a line carried before fields were selectable, plus the trace id (written only when known). */
export const DEFAULT_ACCESS_FIELDS: readonly AccessField[] = DEFAULT_ACCESS_LOG_FIELDS;

/** The opt-in fields at the end of the line; request headers are one more. */
const EXTRA = F.scheme | F.host | F.bytes_in | F.user_agent | F.principal;

/** What the format is built from: plan.log (compile/plan.ts LogPlan; observe/ does not import compile/). */
export interface LogSettings {
  readonly sample: number;
  readonly access: { readonly enabled: boolean; readonly fields: readonly string[]; readonly requestHeaders: readonly string[] };
  readonly mask: { readonly headers: readonly string[]; readonly queryParams: readonly string[] };
}

/**
 * How a worker writes its access lines for one config generation, built once from the plan:
 * the writer reads flags and precomputed keys, never a name, per request.
 */
export interface AccessFormat {
  /** Lines for answers below 500 (log.access on, level info or lower). */
  readonly info: boolean;
  /** Lines for 5xx and 499 (level warn or lower, even with log.access off). */
  readonly warn: boolean;
  /** Fraction of the answers below 500 that are logged. */
  readonly sample: number;
  /** The selected fields' bits (F). */
  readonly fields: number;
  /** Some opt-in field at the end of the line is selected, or a request header. */
  readonly extras: boolean;
  /** Request headers to log: `"name":` as written, and whether the value is masked. */
  readonly requestHeaders: readonly RequestHeaderField[];
  /** A query parameter name to mask (substring, any case); null: mask none. */
  readonly secretQuery: RegExp | null;
}

export interface RequestHeaderField {
  readonly name: string;
  readonly key: string;
  readonly masked: boolean;
}

/** `info`/`warn`: the log level lets lines of that level through. */
export function accessFormat(log: LogSettings, info: boolean, warn: boolean): AccessFormat {
  const { access, mask } = log;
  let fields = 0;
  for (const name of access.fields) {
    const bit = F[name as AccessField];
    if (bit === undefined) throw new Error(`unknown access-log field ${name}`);
    fields |= bit;
  }
  const masked = new Set(mask.headers);
  const requestHeaders = access.requestHeaders.map((name) => ({ name, key: `${JSON.stringify(name)}:`, masked: masked.has(name) }));
  return {
    info: access.enabled && info,
    warn,
    sample: log.sample,
    fields,
    extras: (fields & EXTRA) !== 0 || requestHeaders.length > 0,
    requestHeaders,
    secretQuery: secretNamePattern(mask.queryParams),
  };
}
