import { HEADER_NAME } from '../../config/schema.js';
import { anyOf, array, boolean, type Infer, integer, object, record, string } from '../../config/schema-node.js';

/** The algorithms a route may pin; `none` is not among them and never accepted. */
export const ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const;

const keySchema = object(
  {
    kid: string({ minLength: 1, maxLength: 256, description: "The key id a token names in its header's kid." }),
    secret: string({ minLength: 1, writeOnly: true, description: 'An HMAC secret (HS*), at least 32 bytes. Prefer secret_env or secret_file.' }),
    secret_env: string({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'The environment variable that holds the HMAC secret.' }),
    secret_file: string({ minLength: 1, description: 'A file that holds the HMAC secret (trailing newline ignored).' }),
    pem: string({ minLength: 1, description: 'A PEM public key or certificate (RS*, PS*, ES*, EdDSA).' }),
    pem_file: string({ minLength: 1, description: 'A file that holds the PEM public key or certificate.' }),
  },
  { additionalProperties: false, description: 'One verification key: exactly one of secret, secret_env, secret_file, pem, pem_file.' },
);

const scopesSchema = object(
  {
    any: array(string({ pattern: '^[!#-\\[\\]-~]+$' }), { minItems: 1, description: 'The token must hold at least one of these scopes.' }),
    all: array(string({ pattern: '^[!#-\\[\\]-~]+$' }), { minItems: 1, description: 'The token must hold every one of these scopes.' }),
  },
  { additionalProperties: false, description: 'Scopes read from the `scope` claim (space separated) or `scp` (a list or a string); missing ones answer 403.' },
);

const jwtSchema = object(
  {
    algorithms: array(string({ enum: ALGORITHMS }), { minItems: 1, description: 'The only algorithms accepted (pinned); none is never accepted.' }),
    keys: array(keySchema, { minItems: 1, description: 'Static verification keys.' }),
    jwks_url: string({ pattern: '^https?://', description: 'A JWKS document the gateway fetches (in the primary) and refreshes.' }),
    jwks_insecure_http: boolean({
      default: false,
      description: 'Allow a plain http:// jwks_url on a host other than loopback (anyone on the path could swap the keys).',
    }),
    issuer: anyOf([string({ minLength: 1 }), array(string({ minLength: 1 }), { minItems: 1 })], { description: 'Accepted iss value(s).' }),
    audience: anyOf([string({ minLength: 1 }), array(string({ minLength: 1 }), { minItems: 1 })], {
      description: 'Accepted aud value(s): one of them must be in the token.',
    }),
    required_claims: array(string({ minLength: 1 }), { description: 'Claims the token must carry.' }),
    scopes: scopesSchema,
    clock_skew_s: integer({ minimum: 0, maximum: 3600, default: 30, description: 'Leeway for exp, nbf and iat, in seconds.' }),
    max_age_s: integer({ minimum: 1, maximum: 31_536_000, description: 'Refuse tokens whose iat is older than this (needs iat).' }),
    forward_claims: record(string({ pattern: HEADER_NAME }), {
      propertyNames: { pattern: '^[A-Za-z0-9_:.-]{1,128}$' },
      description: 'claim → upstream header. A client-sent header of that name is always removed first.',
    }),
    strip_authorization: boolean({ default: false, description: 'Remove the Authorization header before forwarding.' }),
  },
  {
    additionalProperties: false,
    required: ['algorithms'],
    description: 'A bearer JWT in Authorization, verified with fast-jwt. Set keys or jwks_url (or both).',
  },
);

const apiKeySchema = object(
  {
    header: string({ pattern: HEADER_NAME, description: 'The request header that carries the key (default x-api-key).' }),
    query: string({ pattern: '^[A-Za-z0-9_.~-]{1,64}$', description: 'The query parameter that carries the key (instead of a header); never forwarded.' }),
    keys: array(
      object(
        {
          id: string({ pattern: '^[A-Za-z0-9_.:@-]{1,128}$', description: 'The key id: the principal, forwarded upstream.' }),
          hash: string({
            pattern: '^sha256:[0-9a-fA-F]{64}$',
            writeOnly: true,
            description: 'sha256:<hex> of the key; the key itself is never in the config.',
          }),
        },
        { additionalProperties: false, required: ['id', 'hash'] },
      ),
      { minItems: 1, description: 'The accepted keys, hashed.' },
    ),
    keys_file: string({
      minLength: 1,
      description: 'A file of more keys, one `ID sha256:HEX` a line; watched: a change applies without a reload.',
    }),
    forward_id: string({ pattern: HEADER_NAME, default: 'x-api-key-id', description: "The upstream header that carries the key's id." }),
  },
  { additionalProperties: false, description: 'An API key in a header or a query parameter, stored as its sha256: keys, keys_file, or both.' },
);

export const authSchema = object(
  {
    jwt: jwtSchema,
    api_key: apiKeySchema,
    realm: string({ pattern: '^[ !#-\\[\\]-~]{1,128}$', description: 'The realm named in WWW-Authenticate (default: the route name).' }),
  },
  { additionalProperties: false, description: 'Who may pass: a JWT or an API key (exactly one). See docs/auth.md.' },
);

/** `jwks:`: how the primary fetches and keeps JWKS documents. */
export const jwksSettingsSchema = object(
  {
    min_cache_s: integer({ minimum: 1, maximum: 86_400, default: 30, description: 'Shortest time a JWKS is kept, whatever its Cache-Control says.' }),
    max_cache_s: integer({ minimum: 1, maximum: 604_800, default: 86_400, description: 'Longest time a JWKS is kept before it is fetched again.' }),
    default_cache_s: integer({ minimum: 1, maximum: 604_800, default: 300, description: 'Kept this long when the answer has no Cache-Control max-age.' }),
    unknown_kid_refresh_s: integer({
      minimum: 1,
      maximum: 3600,
      default: 5,
      description: 'A token with an unknown kid triggers a refetch at most this often.',
    }),
    timeout_ms: integer({ minimum: 100, maximum: 60_000, default: 5000, description: 'Longest wait for a JWKS answer.' }),
  },
  { additionalProperties: false, default: {}, description: 'JWKS fetching for auth.jwt.jwks_url (docs/auth.md).' },
);

export type AuthConfig = Infer<typeof authSchema>;
export type JwtConfig = NonNullable<AuthConfig['jwt']>;
export type ApiKeyConfig = NonNullable<AuthConfig['api_key']>;
export type JwksSettingsConfig = Infer<typeof jwksSettingsSchema>;
