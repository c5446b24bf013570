import pino, { type Logger } from 'pino';

/**
 * Paths pino censors wherever a log call passes headers: credentials never reach a log line.
 * The access log itself never logs headers; this is the net under everything else.
 */
export const REDACT_PATHS = [
  'headers.authorization', 'headers.cookie', 'headers["set-cookie"]', 'headers["proxy-authorization"]',
  'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
  'authorization', 'cookie', '["set-cookie"]',
];

/**
 * One logger per thread, writing JSON lines straight to fd 1 with an asynchronous sonic-boom
 * (workers do not funnel through the main thread's process.stdout).
 */
export function createLogger(level: string, bindings: Record<string, unknown>): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 1, sync: false }),
  );
}

/** Flush before a thread or process ends, so the last lines are not lost. */
export function flushLogger(log: Logger): void {
  try { log.flush(); } catch { /* destination already closed */ }
}
