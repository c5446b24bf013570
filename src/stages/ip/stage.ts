import { containsLast, parseAddress } from '../../http/cidr.js';
import { errorReply } from '../../pipeline/local-reply.js';
import type { LocalReply, Stage } from '../../pipeline/phase.js';
import type { RequestCtx } from '../../pipeline/request-ctx.js';
import type { IpPlan, IpRule } from './compile.js';

/** First in every route's stages: a denied client meets nothing else (no CORS answer, no auth, no limit). */
export function ipStage(plan: IpPlan): Stage {
  const rules = plan.rules;
  return {
    name: 'ip',
    onRequest: (ctx: RequestCtx): LocalReply | null => (ipAllowed(rules, ctx.clientAddress) ? null : errorReply('SLUICE_ERR_IP_DENIED', ctx)),
  };
}

/**
 * Does every rule let the address pass? Deny wins over allow; a rule with an allow list denies what
 * it does not list. An address that does not parse (cannot happen for a socket peer) is denied by any
 * rule with an allow list. Hot path: one parse, then range lookups; nothing allocated.
 */
export function ipAllowed(rules: readonly IpRule[], address: string): boolean {
  const family = parseAddress(address);
  for (const r of rules) {
    if (family === 0) {
      if (r.allow !== null) return false;
      continue;
    }
    if (r.deny !== null && containsLast(r.deny, family)) return false;
    if (r.allow !== null && !containsLast(r.allow, family)) return false;
  }
  return true;
}
