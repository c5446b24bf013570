import { withoutUrlSecrets } from './redact.js';
import type { SchemaNode } from './schema-node.js';

export type ConfigPath = readonly (string | number)[];

/** A schema violation, located by its path in the document; load.ts turns the path into line:col. */
export interface SchemaProblem {
  readonly path: ConfigPath;
  readonly message: string;
  /** Point at the key rather than the value (unknown fields). */
  readonly atKey?: boolean;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: NonNullable<SchemaNode['type']>, v: unknown): boolean {
  const got = typeOf(v);
  return got === want || (want === 'number' && got === 'integer');
}

/**
 * Check `value` against `schema`, filling in schema defaults for absent properties (in place, on a
 * private copy of the parsed YAML). Collects every problem instead of stopping at the first.
 */
export function validateAndDefault(schema: SchemaNode, value: unknown, path: ConfigPath, out: SchemaProblem[]): void {
  if (schema.anyOf) {
    for (const alt of schema.anyOf) {
      const probe: SchemaProblem[] = [];
      validateAndDefault(alt, value, path, probe);
      if (probe.length === 0) return;
    }
    // When the value is an object or a list and only one alternative is that (listen: one listener or
    // a list), that alternative's own problems name the field at fault; "must be X or Y" would not.
    const typed = schema.anyOf.filter((alt) => (alt.type === 'object' || alt.type === 'array') && typeMatches(alt.type, value));
    if (typed.length === 1) return validateAndDefault(typed[0], value, path, out);
    out.push({ path, message: `must be ${schema.anyOf.map(describe).join(' or ')}` });
    return;
  }
  if (schema.type && !typeMatches(schema.type, value)) {
    out.push({ path, message: `must be ${describe(schema)}, got ${typeOf(value)}` });
    return;
  }
  if (schema.const !== undefined && value !== schema.const) {
    out.push({ path, message: `must be ${JSON.stringify(schema.const)}` });
  }
  if (schema.enum && !schema.enum.includes(value as string)) {
    out.push({ path, message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof value === 'number') checkNumber(schema, value, path, out);
  if (typeof value === 'string') checkString(schema, value, path, out);
  if (Array.isArray(value)) checkArray(schema, value, path, out);
  if (isPlainObject(value)) checkObject(schema, value, path, out);
}

function checkNumber(schema: SchemaNode, v: number, path: ConfigPath, out: SchemaProblem[]): void {
  if (schema.minimum !== undefined && v < schema.minimum) out.push({ path, message: `must be ≥ ${schema.minimum}` });
  if (schema.maximum !== undefined && v > schema.maximum) out.push({ path, message: `must be ≤ ${schema.maximum}` });
}

function checkString(schema: SchemaNode, v: string, path: ConfigPath, out: SchemaProblem[]): void {
  if (schema.minLength !== undefined && v.length < schema.minLength) out.push({ path, message: `must have at least ${schema.minLength} characters` });
  if (schema.maxLength !== undefined && v.length > schema.maxLength) out.push({ path, message: `must have at most ${schema.maxLength} characters` });
  if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(v))
    out.push({ path, message: `${schema.writeOnly === true ? 'the value' : JSON.stringify(withoutUrlSecrets(v))} must match ${schema.pattern}` });
}

function checkArray(schema: SchemaNode, v: unknown[], path: ConfigPath, out: SchemaProblem[]): void {
  if (schema.minItems !== undefined && v.length < schema.minItems) out.push({ path, message: `must have at least ${schema.minItems} item(s)` });
  if (schema.items) v.forEach((item, i) => validateAndDefault(schema.items!, item, [...path, i], out));
}

function checkObject(schema: SchemaNode, v: Record<string, unknown>, path: ConfigPath, out: SchemaProblem[]): void {
  const props = schema.properties ?? {};
  for (const key of schema.required ?? []) {
    if (!(key in v)) out.push({ path, message: `missing required field "${key}"` });
  }
  for (const [key, child] of Object.entries(v)) {
    const sub = props[key] ?? (schema.additionalProperties === false ? undefined : schema.additionalProperties);
    if (schema.propertyNames && !new RegExp(schema.propertyNames.pattern).test(key)) {
      out.push({ path: [...path, key], message: `name ${JSON.stringify(key)} must match ${schema.propertyNames.pattern}`, atKey: true });
    }
    if (sub === undefined) {
      if (schema.additionalProperties === false) {
        const known = Object.keys(props);
        out.push({ path: [...path, key], message: `unknown field "${key}"${known.length ? ` (known: ${known.join(', ')})` : ''}`, atKey: true });
      }
      continue;
    }
    validateAndDefault(sub, child, [...path, key], out);
  }
  for (const [key, sub] of Object.entries(props)) {
    if (!(key in v) && sub.default !== undefined) {
      const filled = structuredClone(sub.default);
      v[key] = filled;
      // Through validateAndDefault, not checkObject: an anyOf default (listen: {}) fills its alternative's defaults too.
      if (isPlainObject(filled)) validateAndDefault(sub, filled, [...path, key], out);
    }
  }
}

function describe(s: SchemaNode): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.type === 'integer' && (s.minimum !== undefined || s.maximum !== undefined)) {
    return `an integer${s.minimum !== undefined ? ` ≥ ${s.minimum}` : ''}${s.maximum !== undefined ? ` ≤ ${s.maximum}` : ''}`;
  }
  return s.type ? `${/^[aeiou]/.test(s.type) ? 'an' : 'a'} ${s.type}` : 'a valid value';
}

export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
