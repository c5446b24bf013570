import { DEFAULT_ACCESS_LOG_FIELDS } from '../config/schema.js';
import type { GatewayConfig } from '../config/types.js';
import type { LogPlan } from './plan.js';

/** log: `access: true|false` is the object form with its defaults; header names compare lower-case. */
export function compileLog(log: GatewayConfig['log']): LogPlan {
  const access = typeof log.access === 'boolean' ? { enabled: log.access, fields: DEFAULT_ACCESS_LOG_FIELDS, request_headers: [] } : log.access;
  return {
    level: log.level,
    sample: log.sample,
    access: {
      enabled: access.enabled,
      fields: [...new Set(access.fields)],
      requestHeaders: [...new Set(access.request_headers.map((h) => h.toLowerCase()))],
    },
    mask: {
      headers: log.mask.headers.map((h) => h.toLowerCase()),
      queryParams: [...log.mask.query_params],
      jsonFields: [...log.mask.json_fields],
    },
  };
}
