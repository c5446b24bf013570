/**
 * A response head's header lines where they lie, in one buffer, in order: four offsets into `buf` per
 * line (name start, name end, value start, value end; the value without surrounding whitespace). One
 * buffer in order is what lets the downstream writer pass a run of lines to uWS as one range.
 */
export interface HeadLines {
  readonly buf: Buffer;
  readonly at: readonly number[];
}

export const NO_LINES: HeadLines = { buf: Buffer.alloc(0), at: [] };

/** Line `k` (a multiple of 4 in `at`): its name, or its value, as a string (for what is not on the hot path). */
export function lineName(h: HeadLines, k: number): string {
  return h.buf.toString('latin1', h.at[k], h.at[k + 1]);
}
export function lineValue(h: HeadLines, k: number): string {
  return h.buf.toString('latin1', h.at[k + 2], h.at[k + 3]);
}
