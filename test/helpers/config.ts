import assert from 'node:assert/strict';
import { ConfigError, formatConfigIssue } from '../../src/errors/gateway-error.js';
import { type LoadedPlan, loadPlanText } from '../../src/primary/load-plan.js';

/** Every problem of a config that must be refused, as `sluice validate` prints them (gw.yaml:LINE:COL field: message). */
export function configProblems(yaml: string, env: Record<string, string> = {}): string[] {
  try {
    loadPlanText(yaml, 'gw.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map(formatConfigIssue);
  }
  assert.fail('config was accepted');
}

/** A config that must be accepted, compiled. */
export function compileConfig(yaml: string, env: Record<string, string> = {}): LoadedPlan {
  return loadPlanText(yaml, 'gw.yaml', env);
}

/** The plan one stage compiled for route `route` (by name) of a config. */
export function stagePlan<P>(yaml: string, kind: string, route: string): P | undefined {
  const r = compileConfig(yaml).plan.routes.find((x) => x.name === route);
  return r?.stages.find((s) => s.kind === kind)?.plan as P | undefined;
}
