import pino, { type DestinationStream, type Logger } from 'pino';
import { REDACTED } from '../config/redact.js';
import { redactPaths } from './mask.js';

/**
 * Paths pino censors wherever a log call passes headers, whatever log.mask says: credentials never
 * reach a log line. log.mask adds its own names (observe/mask.ts redactPaths).
 */
export const REDACT_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'authorization',
  'cookie',
  '["set-cookie"]',
];

export type LogDestination = DestinationStream & { flush(): void; flushSync(): void };

/**
 * Each thread writes JSON lines straight to fd 1 through its own asynchronous sonic-boom (workers do
 * not funnel through the main thread's process.stdout).
 */
export function logDestination(): LogDestination {
  return pino.destination({ fd: 1, sync: false }) as unknown as LogDestination;
}

/** log.mask's names that pino redacts (read when the thread starts). */
export interface LogMask {
  readonly headers: readonly string[];
  readonly jsonFields: readonly string[];
}

export function createLogger(level: string, bindings: Record<string, unknown>, mask: LogMask, dest: LogDestination = logDestination()): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: { paths: [...new Set([...REDACT_PATHS, ...redactPaths(mask.headers, mask.jsonFields)])], censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/** Flush synchronously before a thread or process ends, so the last lines are not lost. */
export function flushLogger(log: Logger): void {
  try {
    log.flush();
  } catch {
    /* destination already closed */
  }
}

export function flushDestinationSync(dest: LogDestination): void {
  try {
    dest.flushSync();
  } catch {
    /* destination already closed or busy */
  }
}
