import assert from 'node:assert/strict';
import { test } from 'node:test';
import { object, string } from '../../src/config/schema-node.js';
import type { GatewayConfig, Predicate, RetriesConfig, RetryCondition, RouteConfig, UpstreamConfig } from '../../src/config/types.js';
import { loadPlanText } from '../../src/primary/load-plan.js';
import type { LimitConfig as RateLimitConfig } from '../../src/stages/rate-limit/schema.js';

// These checks run in tsc, not in node: a schema change that alters the derived config types in
// one of these ways fails the build, which `npm test` runs first.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;
type IsOptional<T, K extends keyof T> = {} extends Pick<T, K> ? true : false;
type IsReadonly<T, K extends keyof T> = Equal<Pick<T, K>, { -readonly [P in K]: T[P] }> extends true ? false : true;

export type Checks = [
  // Optional: neither required nor defaulted.
  Expect<IsOptional<RouteConfig, 'retries'>>,
  Expect<Equal<RouteConfig['retries'], RetriesConfig | undefined>>,
  Expect<IsOptional<RateLimitConfig, 'rate'>>,
  // Required because of `required`, and because of a default (validate.ts fills it in).
  Expect<Equal<IsOptional<RouteConfig, 'name'>, false>>,
  Expect<Equal<IsOptional<UpstreamConfig, 'pool'>, false>>,
  Expect<Equal<IsOptional<UpstreamConfig['pool'], 'connections'>, false>>,
  Expect<Equal<UpstreamConfig['pool']['connections'], number>>,
  Expect<Equal<RouteConfig['preserve_host'], boolean>>,
  // enum and const give literals; anyOf a union.
  Expect<Equal<RateLimitConfig['scope'], 'local' | 'cluster'>>,
  Expect<Equal<GatewayConfig['version'], 1>>,
  Expect<Equal<GatewayConfig['workers'], 'auto' | number>>,
  Expect<Equal<RetryCondition, 'connect_error' | 'reset' | 'timeout' | 500 | 502 | 503 | 504>>,
  Expect<Equal<Predicate, string | { readonly present: true }>>,
  // Arrays and objects are read-only; additionalProperties gives a record.
  Expect<Equal<RetriesConfig['on'], readonly RetryCondition[]>>,
  Expect<Equal<RateLimitConfig['key'], string | readonly string[]>>,
  Expect<Equal<GatewayConfig['upstreams'], Readonly<Record<string, UpstreamConfig>>>>,
  Expect<IsReadonly<RouteConfig, 'name'>>,
  Expect<IsReadonly<UpstreamConfig['pool'], 'connections'>>,
];

// Never called: only here for its compile error.
export function requiredMustNameAProperty(): unknown {
  // @ts-expect-error 'urls' is not a property of this object
  return object({ url: string() }, { required: ['urls'] });
}

test('a loaded config carries the types derived from the schema', () => {
  const { config } = loadPlanText('upstreams: { u: { endpoints: [ { url: "http://127.0.0.1:1" } ] } }\n', 'gw.yaml');
  const connections: number = config.upstreams.u.pool.connections;
  assert.equal(connections, 64);
});
