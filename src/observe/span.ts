/**
 * One finished span as plain data, queued for export (observe/otlp-exporter.ts). Times are
 * milliseconds since the epoch (performance.timeOrigin + performance.now(): sub-millisecond).
 */
export interface Span {
  readonly traceId: string;
  readonly spanId: string;
  /** Null for a trace's first span. */
  readonly parentSpanId: string | null;
  readonly name: string;
  readonly kind: SpanKind;
  readonly startMs: number;
  readonly endMs: number;
  /** Flat [key, value, key, value, ...]; a number value is an integer attribute. */
  readonly attributes: readonly (string | number)[];
  /** The span's status is error (a 5xx answer, a failed try). */
  readonly error: boolean;
}

/** OTLP's SpanKind numbers. */
export const SERVER = 2;
export const CLIENT = 3;
export type SpanKind = typeof SERVER | typeof CLIENT;
