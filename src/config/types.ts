/**
 * The validated, defaulted, deep-frozen configuration, derived from schema.ts so the two cannot
 * drift: a field added, made required or given a default there changes these types too. Stage
 * fields are typed in each stage's folder, from its own schema.
 */

import type {
  configSchema,
  dnsDiscoverySchema,
  endpointSchema,
  etcdDiscoverySchema,
  predicateSchema,
  retriesSchema,
  routeSchema,
  upstreamSchema,
} from './schema.js';
import type { Infer } from './schema-node.js';

export type GatewayConfig = Infer<typeof configSchema>;
export type UpstreamConfig = Infer<typeof upstreamSchema>;
export type EndpointConfig = Infer<typeof endpointSchema>;
export type DnsDiscoveryConfig = Infer<typeof dnsDiscoverySchema>;
export type EtcdDiscoveryConfig = Infer<typeof etcdDiscoverySchema>;
export type RouteConfig = Infer<typeof routeSchema>;
export type RetriesConfig = Infer<typeof retriesSchema>;
export type Predicate = Infer<typeof predicateSchema>;
export type BalancePolicy = UpstreamConfig['balance'];
export type RetryCondition = RetriesConfig['on'][number];
