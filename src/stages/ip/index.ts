import { defineStage } from '../../pipeline/stage-factory.js';
import { compileIp, compileIpSettings, type IpPlan, type IpRule } from './compile.js';
import { ipSchema } from './schema.js';
import { ipStage } from './stage.js';

/**
 * `ip:` on a route and at the top level (docs/network-policy.md). The top-level rule is compiled into
 * every route's plan (everyRoute), so it runs as this one stage; requests that match no route are
 * checked against it by the front door before it answers 404.
 */
export const ipPolicy = defineStage<typeof ipSchema, IpPlan, readonly IpRule[]>({
  kind: 'ip',
  schema: ipSchema,
  everyRoute: true,
  settings: { key: 'ip', schema: ipSchema, compile: compileIpSettings },
  compile: (raw, route, top, problems) => compileIp(raw, route, top, problems),
  instantiate: (plan) => ipStage(plan),
});
