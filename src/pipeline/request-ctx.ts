/**
 * What stages and the upstream leg can see of a request. Everything was copied out of the front door
 * (uWS's HttpRequest dies when its handler returns) before any phase runs.
 */
export interface RequestCtx {
  readonly id: string;
  readonly method: string;
  /** Normalised path (see router/normalize-path.ts). */
  readonly path: string;
  /** Raw query string without "?" ("" when none). */
  readonly query: string;
  /** Lower-case Host header value, port included when sent. */
  readonly host: string;
  readonly remoteAddress: string;
  readonly routeName: string;
  /** Values of the route pattern's :params, in pattern order. */
  readonly params: readonly string[];
  /** Flat [name, value, name, value, ...], lower-case names, as received. */
  readonly rawHeaders: readonly string[];
  /** Content-Length of the request, or -1 when it has none. */
  readonly contentLength: number;
  /** The request body came with Transfer-Encoding: chunked. */
  readonly chunked: boolean;
  header(lowerName: string): string | undefined;
  /** Per-request scratch of the stages, by StageEnv.slot; null until a stage stores something. */
  stageState: unknown[] | null;
}
