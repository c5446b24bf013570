import type { SchemaNode } from './schema-node.js';

/**
 * The config as GET /config shows it: the same shape with every secret replaced by REDACTED.
 *
 * What is a secret is read from the schema, so that a new secret field is redacted by declaring it:
 *  - a field marked `writeOnly: true` (JSON Schema's flag for values that are written, never read
 *    back: admin.token, auth keys' secret, API key hashes, rate_limits.redis.url ...);
 *  - a field or map key whose name looks like a credential (SECRET_NAME: authorization, cookie,
 *    x-api-key, *token*, *secret*, *password* ...), wherever it is: a header value set by a
 *    `headers:` stage or sent to an OTLP collector is redacted by the header's name;
 *  - the password of any URL written with one (redis://user:password@host), and its query.
 * Names ending in _file or _env are not redacted: they say where a secret is kept, not what it is.
 */
export const REDACTED = '[redacted]';

/** A name that says its value is a credential; `_file`/`_env` names are checked by their stem. */
export const SECRET_NAME =
  /secret|token|pass|authorization|cookie|api[-_]?key|credential|private[-_]?key|signature|session|subscription|[-_]key$|^key[-_]|(^|[-_])(auth|sig|sid)([-_]|$)/i;

const POINTER = /_(file|env)$/i;

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name) && !POINTER.test(name);
}

export function redactConfig(schema: SchemaNode, value: unknown): unknown {
  return redact(schema, value, false);
}

function redact(schema: SchemaNode | undefined, value: unknown, secret: boolean): unknown {
  const node = schema === undefined ? undefined : alternativeFor(schema, value);
  if (secret || node?.writeOnly === true) return value === undefined || value === null ? value : REDACTED;
  if (typeof value === 'string') return withoutUrlSecrets(value);
  if (Array.isArray(value)) return value.map((item) => redact(node?.items, item, false));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of inSchemaOrder(node, value)) {
    const child = node?.properties?.[key] ?? (typeof node?.additionalProperties === 'object' ? node.additionalProperties : undefined);
    out[key] = redact(child, v, isScalar(v) && looksSecret(key));
  }
  return out;
}

/** Fields in the order the schema declares them (defaults are added last when validating), for people. */
function inSchemaOrder(node: SchemaNode | undefined, value: object): [string, unknown][] {
  const entries = Object.entries(value);
  const order = node?.properties === undefined ? [] : Object.keys(node.properties);
  const at = (key: string) => (order.includes(key) ? order.indexOf(key) : order.length);
  return entries.sort((a, b) => at(a[0]) - at(b[0]));
}

/** Only leaves are redacted by name: `api_key:` is the auth stage's settings, not a key. */
const isScalar = (v: unknown) => typeof v === 'string' || typeof v === 'number';

/** For anyOf (one listener or a list, a string or a list ...): the alternative of the value's type. */
function alternativeFor(schema: SchemaNode, value: unknown): SchemaNode {
  if (schema.anyOf === undefined) return schema;
  const type = Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value;
  const alt = schema.anyOf.find((a) => a.type === type || (type === 'number' && a.type === 'integer'));
  return alt ?? schema.anyOf[0];
}

/**
 * scheme://user:password@host/path?query → scheme://user:[redacted]@host/path?[redacted]; anything
 * else as it is. The userinfo ends at the last @ before the path (a password may hold @), and a
 * query is dropped whole: its parameters may be credentials whatever their names (?sig=, ?code=).
 */
export function withoutUrlSecrets(s: string): string {
  const scheme = s.indexOf('://');
  if (scheme === -1 || !/^[a-z][a-z0-9+.-]*$/i.test(s.slice(0, scheme))) return s;
  const start = scheme + 3;
  let end = s.length;
  for (const c of ['/', '?', '#']) {
    const i = s.indexOf(c, start);
    if (i !== -1 && i < end) end = i;
  }
  let out = s;
  const query = s.indexOf('?', end);
  if (query !== -1) out = `${s.slice(0, query)}?${REDACTED}`;
  const at = s.lastIndexOf('@', end - 1);
  if (at < start) return out;
  const colon = s.indexOf(':', start);
  if (colon === -1 || colon > at) return `${out.slice(0, start)}${REDACTED}${out.slice(at)}`;
  return `${out.slice(0, colon + 1)}${REDACTED}${out.slice(at)}`;
}
