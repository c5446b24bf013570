/**
 * limits.path compiled: how the normaliser treats the path forms that ordinary upstreams read
 * differently from sluice (encoded separators, backslashes, ";" parameters). Plain data, shipped in
 * the plan; normalize-path.ts reads it on every request, so it holds only string constants.
 *
 *  - escapedSlashes (%2F, any case): reject → 400; decode → a real "/" before dot-segment removal
 *    and matching; keep → forwarded as %2F, except where a piece between encoded separators is a
 *    dot-segment or the path would start with one (an upstream that decodes it would climb or
 *    change meaning).
 *  - backslash (raw "\" and %5C alike, since a decoding upstream cannot tell them apart): the same
 *    three choices; keep forwards both as %5C.
 *  - pathParams: reject_dot_segments → 400 for a segment whose part before ";" (raw or %3B) is "."
 *    or ".." (Tomcat and Jetty strip the parameter and then climb), any other ";" passes (matrix
 *    parameters, jsessionid, ids with ";" are legitimate); reject → 400 for any ";" or %3B. There is
 *    no "keep": "..;" has no legitimate use, so no option lets it through.
 */
export type SeparatorPolicy = 'reject' | 'decode' | 'keep';
export type PathParamsPolicy = 'reject_dot_segments' | 'reject';

export interface PathPolicy {
  readonly escapedSlashes: SeparatorPolicy;
  readonly backslash: SeparatorPolicy;
  readonly pathParams: PathParamsPolicy;
}

/** The config defaults; also what route prefixes and rewrite prefixes are checked against when no config applies. */
export const DEFAULT_PATH_POLICY: PathPolicy = Object.freeze({ escapedSlashes: 'reject', backslash: 'reject', pathParams: 'reject_dot_segments' });

export function compilePathPolicy(cfg: { escaped_slashes: SeparatorPolicy; backslash: SeparatorPolicy; path_params: PathParamsPolicy }): PathPolicy {
  return { escapedSlashes: cfg.escaped_slashes, backslash: cfg.backslash, pathParams: cfg.path_params };
}
