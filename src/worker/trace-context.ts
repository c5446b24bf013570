import { newSpanId, newTraceId } from '../observe/trace-ids.js';
import type { TraceContext } from '../pipeline/request-ctx.js';

/** Longest tracestate passed on: the spec asks to propagate at least 512 characters and at most 32 members. */
export const TRACESTATE_MAX_CHARS = 512;
const TRACESTATE_MAX_MEMBERS = 32;

/**
 * This hop's W3C trace context (https://www.w3.org/TR/trace-context/), made for every request, matched
 * or not: a valid `traceparent` is continued with a new span id for this hop; an absent or invalid one
 * starts a trace, sampled with probability `sample` (0 when nothing exports spans). `tracestate` is
 * kept (bounded) only with a valid traceparent, as the spec says.
 */
export function readTraceContext(rawHeaders: readonly string[], sample: number): TraceContext {
  let parent: string | undefined;
  let state: string | undefined;
  let twoParents = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name === 'traceparent') {
      twoParents = parent !== undefined;
      parent = rawHeaders[i + 1];
    } else if (name === 'tracestate') {
      state = state === undefined ? rawHeaders[i + 1] : `${state},${rawHeaders[i + 1]}`;
    }
  }
  if (parent !== undefined && !twoParents && validTraceparent(parent)) {
    return {
      traceId: parent.slice(3, 35),
      spanId: newSpanId(),
      parentSpanId: parent.slice(36, 52),
      sampled: (hexValue(parent.charCodeAt(54)) & 1) === 1,
      traceState: state === undefined ? '' : boundTraceState(state),
    };
  }
  return { traceId: newTraceId(), spanId: newSpanId(), parentSpanId: null, sampled: sample > 0 && Math.random() < sample, traceState: '' };
}

/**
 * version "-" trace-id "-" parent-id "-" trace-flags, lower-case hex only. Version ff is invalid; a
 * version above 00 may carry more after the flags, behind a "-" (forward compatibility): the first
 * four fields are read as version 00's. All-zero trace or parent ids are invalid.
 */
export function validTraceparent(v: string): boolean {
  const n = v.length;
  if (n < 55) return false;
  const v0 = hexValue(v.charCodeAt(0));
  const v1 = hexValue(v.charCodeAt(1));
  if (v0 < 0 || v1 < 0 || (v0 === 15 && v1 === 15)) return false;
  if (v0 === 0 && v1 === 0 ? n !== 55 : n > 55 && v.charCodeAt(55) !== 0x2d) return false;
  if (v.charCodeAt(2) !== 0x2d || v.charCodeAt(35) !== 0x2d || v.charCodeAt(52) !== 0x2d) return false;
  return hexRun(v, 3, 35) && hexRun(v, 36, 52) && hexRun(v, 53, 55);
}

/** [from, to) is lower-case hex and, for the ids, not all zeros (the flags may be 00). */
function hexRun(v: string, from: number, to: number): boolean {
  let any = to - from === 2;
  for (let i = from; i < to; i++) {
    const h = hexValue(v.charCodeAt(i));
    if (h < 0) return false;
    if (h !== 0) any = true;
  }
  return any;
}

/** 0-15 for a lower-case hex digit, -1 for anything else. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/** As received when within bounds; else whole members from the left, at most 32 and 512 characters. */
export function boundTraceState(v: string): string {
  if (v.length <= TRACESTATE_MAX_CHARS && commas(v) < TRACESTATE_MAX_MEMBERS) return v;
  let out = '';
  let members = 0;
  for (const raw of v.split(',')) {
    const m = raw.trim();
    if (m === '') continue;
    if (members === TRACESTATE_MAX_MEMBERS || out.length + m.length + (members > 0 ? 1 : 0) > TRACESTATE_MAX_CHARS) break;
    out = members === 0 ? m : `${out},${m}`;
    members++;
  }
  return out;
}

function commas(v: string): number {
  let n = 0;
  for (let i = v.indexOf(','); i !== -1; i = v.indexOf(',', i + 1)) n++;
  return n;
}
