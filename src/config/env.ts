import type { ConfigIssue } from '../errors/gateway-error.js';

/**
 * Environment overrides, applied on top of the file after validation (tuning without editing YAML).
 * Each is documented in README with its default.
 */
export interface EnvOverrides {
  port?: number;
  adminPort?: number;
  workers?: number | 'auto';
  logLevel?: string;
  poolConnections?: number;
  pipelining?: number;
  rateLimitSlots?: number;
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function readEnvOverrides(env: NodeJS.ProcessEnv): { overrides: EnvOverrides; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const overrides: EnvOverrides = {};
  const int = (name: string, min: number, max: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^[0-9]{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      issues.push({ file: 'environment', line: 0, col: 0, path: name, message: `must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}` });
      return undefined;
    }
    return Number(raw);
  };
  overrides.port = int('SLUICE_PORT', 0, 65535);
  overrides.adminPort = int('SLUICE_ADMIN_PORT', 0, 65535);
  overrides.workers = env.SLUICE_WORKERS === 'auto' ? 'auto' : int('SLUICE_WORKERS', 1, 1024);
  overrides.poolConnections = int('SLUICE_POOL_CONNECTIONS', 1, 100_000);
  overrides.pipelining = int('SLUICE_PIPELINING', 1, 128);
  overrides.rateLimitSlots = int('SLUICE_RATE_LIMIT_SLOTS', 16, 67_108_864);
  const level = env.SLUICE_LOG_LEVEL;
  if (level !== undefined && level !== '') {
    if (LEVELS.includes(level)) overrides.logLevel = level;
    else issues.push({ file: 'environment', line: 0, col: 0, path: 'SLUICE_LOG_LEVEL', message: `must be one of ${LEVELS.join(', ')}` });
  }
  return { overrides, issues };
}

/** Apply overrides to the (still mutable) defaulted config object. */
export function applyEnvOverrides(cfg: any, o: EnvOverrides): void {
  if (o.port !== undefined) cfg.listen.port = o.port;
  if (o.adminPort !== undefined) cfg.admin.port = o.adminPort;
  if (o.workers !== undefined) cfg.workers = o.workers;
  if (o.logLevel !== undefined) cfg.log.level = o.logLevel;
  if (o.rateLimitSlots !== undefined) cfg.rate_limits.table_slots = o.rateLimitSlots;
  for (const u of Object.values(cfg.upstreams ?? {}) as any[]) {
    if (o.poolConnections !== undefined) u.pool.connections = o.poolConnections;
    if (o.pipelining !== undefined) u.pool.pipelining = o.pipelining;
  }
}
