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
        });
        histogram.destroy();
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
    });
  });
}

/** A setupRequest that gives each request the next token of the list, shared by all connections. */
function bearerInTurn(list: readonly string[]): (req: { headers?: Record<string, string> }) => object {
  let next = 0;
  return (req) => {
    const token = list[next];
    next = (next + 1) % list.length;
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
  };
}
