import { readFileSync } from 'node:fs';

export const DASHBOARD_FILE = new URL('../../../docs/grafana/sluice-dashboard.json', import.meta.url);

export interface PanelQuery {
  readonly panel: string;
  readonly expr: string;
}

/** docs/grafana/sluice-dashboard.json, parsed. */
export function readDashboard(): any {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8'));
}

/** Every panel (rows' nested panels too), rows left out. */
export function panelsOf(dashboard: any): any[] {
  const out: any[] = [];
  for (const p of dashboard.panels ?? []) {
    if (p.type === 'row') out.push(...(p.panels ?? []));
    else out.push(p);
  }
  return out;
}

/** Every PromQL expression of every panel. */
export function queriesOf(dashboard: any): PanelQuery[] {
  return panelsOf(dashboard).flatMap((p) => (p.targets ?? []).map((t: any) => ({ panel: p.title, expr: String(t.expr) })));
}

/**
 * An expression as Grafana sends it: the dashboard's variables filled in (`$job` with the given job,
 * `$__rate_interval` with a window that holds several 1-second scrapes).
 */
export function asSent(expr: string, job: string, rateInterval = '10s'): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$job', job);
}
