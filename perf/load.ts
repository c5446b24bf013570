import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import type { Scenario } from './scenarios.js';

export interface LoadResult {
  readonly rps: number;
  /** Latency percentiles in milliseconds (µs resolution, from an hdr histogram of every response). */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly requests: number;
  /** Connection errors + timeouts + non-2xx answers. */
  readonly errors: number;
  /** The latency distribution, for the HTML report's percentile plot: [percentile, ms] points (see percentileCurve). */
  readonly curve: readonly (readonly [number, number])[];
}

export interface LoadOptions {
  readonly connections: number;
  readonly seconds: number;
}

/** One autocannon run of a scenario against `port`. */
export function runLoad(port: number, path: string, s: Scenario, o: LoadOptions): Promise<LoadResult> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}${path}`,
        method: s.method,
        body: s.body,
        headers: s.newConnectionPerRequest ? { connection: 'close' } : s.body ? { 'content-type': 'application/octet-stream' } : {},
        connections: o.connections,
        pipelining: 1, // uWS closes a connection that pipelines behind a pending proxied answer (README)
        duration: o.seconds,
        timeout: 10,
        requests: s.tokens === undefined ? undefined : [{ setupRequest: bearerInTurn(s.tokens()) }],
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          rps: r.requests.total / r.duration,
          p50: histogram.getValueAtPercentile(50) / 1000,
          p99: histogram.getValueAtPercentile(99) / 1000,
          p999: histogram.getValueAtPercentile(99.9) / 1000,
          requests: r.requests.total,
          errors: r.errors + r.timeouts + r.non2xx,
          curve: percentileCurve(histogram),
        });
        histogram.destroy();
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
    });
  });
}

/**
 * The histogram as HdrHistogram plots it: percentiles evenly spaced on a log scale of 1 / (1 − p)
 * (0 %, 90 %, 99 %, 99.9 %..., ten points per decade), up to the last one the sample count resolves,
 * then the maximum (100 %).
 */
export function percentileCurve(h: hdr.Histogram): [number, number][] {
  const points: [number, number][] = [];
  for (let i = 0; 10 ** (i / 10) <= h.totalCount && i <= 60; i++) {
    const p = 100 * (1 - 10 ** (-i / 10));
    points.push([round(p, 5), h.getValueAtPercentile(p) / 1000]);
  }
  if (h.totalCount > 0) points.push([100, h.maxValue / 1000]);
  return points;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A setupRequest that gives each request the next token of the list, shared by all connections. */
function bearerInTurn(list: readonly string[]): (req: { headers?: Record<string, string> }) => object {
  let next = 0;
  return (req) => {
    const token = list[next];
    next = (next + 1) % list.length;
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
  };
}
