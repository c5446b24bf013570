import { type CidrSet, compileCidrs } from '../../http/cidr.js';
import type { RouteContext, StageProblems } from '../../pipeline/stage-factory.js';
import type { IpConfig } from './schema.js';

/** One allow/deny pair: deny wins; with an allow list, anything not on it is denied. */
export interface IpRule {
  /** null = no allow list: everything not denied passes. */
  readonly allow: CidrSet | null;
  readonly deny: CidrSet | null;
}

/** A route's checks: the top-level rule first, then the route's own. */
export interface IpPlan {
  readonly rules: readonly IpRule[];
}

/** The top-level `ip:` (settings): its rule, or none when it is absent or empty. */
export function compileIpSettings(raw: IpConfig | undefined, problems: StageProblems): readonly IpRule[] {
  const rule = raw === undefined ? null : compileRule(raw, [], problems);
  return rule === null ? [] : [rule];
}

/** Per route, with the top-level rule folded in: every route gets it, so the check is one stage. */
export function compileIp(raw: IpConfig | undefined, _route: RouteContext, top: readonly IpRule[], problems: StageProblems): IpPlan | null {
  const own = raw === undefined ? null : compileRule(raw, ['ip'], problems);
  const rules = own === null ? top : [...top, own];
  return rules.length === 0 ? null : { rules };
}

function compileRule(raw: IpConfig, at: readonly string[], problems: StageProblems): IpRule | null {
  const allow = raw.allow === undefined ? null : cidrs(raw.allow, [...at, 'allow'], problems);
  const deny = raw.deny === undefined || raw.deny.length === 0 ? null : cidrs(raw.deny, [...at, 'deny'], problems);
  if (raw.allow !== undefined && raw.allow.length === 0)
    problems.report([...at, 'allow'], 'is empty and would deny every request; remove it, or list who may pass');
  return allow === null && deny === null ? null : { allow, deny };
}

function cidrs(list: readonly string[], at: readonly string[], problems: StageProblems): CidrSet | null {
  const set = compileCidrs(list);
  if ('v4' in set) return set;
  problems.report([...at, set.index], set.message);
  return null;
}
