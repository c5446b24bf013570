/**
 * The few SVG pieces the HTML report draws with: scales, ticks and elements as strings. Plain
 * functions, no library: the report must open anywhere, offline, as one file.
 */

/** Text for HTML and SVG, attribute values included. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export type Scale = (x: number) => number;

/** Maps [d0, d1] onto [r0, r1]. */
export function linear(d0: number, d1: number, r0: number, r1: number): Scale {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}

/** Maps [d0, d1] (both > 0) onto [r0, r1] on a log scale. */
export function logarithmic(d0: number, d1: number, r0: number, r1: number): Scale {
  const l = linear(Math.log10(d0), Math.log10(d1), r0, r1);
  return (x) => l(Math.log10(Math.max(x, d0)));
}

/** About `count` round tick values from 0 to at least `max` (steps of 1, 2 or 5 × 10^n). */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = 0; v < max + step / 2; v += step) out.push(round(v));
  if (out[out.length - 1] < max) out.push(round(out[out.length - 1] + step));
  return out;
}

/** Ticks of 1, 2 and 5 × 10^n covering [min, max] (for a log scale). */
export function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = round(m * 10 ** e);
      if (v >= min && v <= max) out.push(v);
    }
  }
  return out;
}

const round = (x: number) => Number(x.toPrecision(12));
const n = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : 0);

export function line(x1: number, y1: number, x2: number, y2: number, attrs = ''): string {
  return `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" ${attrs}/>`;
}

export function rect(x: number, y: number, w: number, h: number, attrs = ''): string {
  return `<rect x="${n(x)}" y="${n(y)}" width="${n(Math.max(w, 0))}" height="${n(Math.max(h, 0))}" ${attrs}/>`;
}

export function circle(x: number, y: number, r: number, attrs = ''): string {
  return `<circle cx="${n(x)}" cy="${n(y)}" r="${r}" ${attrs}/>`;
}

export function text(x: number, y: number, s: string, attrs = ''): string {
  return `<text x="${n(x)}" y="${n(y)}" ${attrs}>${esc(s)}</text>`;
}

export function polyline(points: readonly (readonly [number, number])[], attrs = ''): string {
  return `<polyline fill="none" points="${points.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}" ${attrs}/>`;
}

/** An <svg> element of the given size holding `body`. */
export function svg(width: number, height: number, body: string, label: string): string {
  return `<svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}">${body}</svg>`;
}
