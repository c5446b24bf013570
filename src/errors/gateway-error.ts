import { catalog, type ErrorCode, type ErrorSource } from './catalog.js';

/**
 * The one error type sluice raises. Match on `.code`, never on `instanceof` or message text:
 * errors cross worker-thread boundaries as plain data.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly source: ErrorSource;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    const entry = catalog[code];
    super(detail === undefined ? entry.message : `${entry.message} ${detail}`, options);
    this.name = 'GatewayError';
    this.code = code;
    this.status = entry.status;
    this.source = entry.source;
  }
}

/** One config problem, located in the file. Printed as `FILE:LINE:COL field.path: message`. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly path: string;
  readonly message: string;
}

export function formatConfigIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col} ${i.path || '(root)'}: ${i.message}`;
}

/** Thrown by config loading; carries every problem found, not just the first. */
export class ConfigError extends GatewayError {
  readonly issues: readonly ConfigIssue[];

  constructor(
    issues: readonly ConfigIssue[],
    code: 'SLUICE_ERR_CONFIG_INVALID' | 'SLUICE_ERR_CONFIG_READ' | 'SLUICE_ERR_ADMIN_OPEN' = 'SLUICE_ERR_CONFIG_INVALID',
  ) {
    super(code, '\n' + issues.map(formatConfigIssue).join('\n'));
    this.issues = issues;
  }
}
