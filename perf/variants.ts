/**
 * Variants: a scenario run again through a second gateway whose config differs by an overlay, in
 * the same rounds as the scenario itself (interleaved), so that the cost of a feature is measured
 * side by side: "cost of the access log" = req/s with it ÷ req/s without it, run by run.
 *
 * Adding a variant is one line in `variants` below (perf/README.md, "Variants").
 */
export interface Variant {
  /** Short name; the variant is reported as `<scenario>+<name>` (e.g. `tiny-get+log-off`). */
  readonly name: string;
  /** The scenarios it is run with. */
  readonly scenarios: readonly string[];
  /** The feature whose cost it measures, as a person names it ("access log"). */
  readonly feature: string;
  /** Whether the overlay turns the feature on (the scenario runs without it) or off (the scenario runs with it). */
  readonly turns: 'on' | 'off';
  /** Merged into the top-level settings of the suite's gateway config (scenarios.ts, `gatewayConfig`). */
  readonly overlay: Overlay | ((ports: { origin: number }) => Overlay);
}

export type Overlay = Readonly<Record<string, unknown>>;

export const variants: readonly Variant[] = [
  { name: 'log-off', scenarios: ['tiny-get'], feature: 'access log', turns: 'off', overlay: { log: { access: false } } },
  { name: 'metrics-off', scenarios: ['tiny-get'], feature: 'metrics', turns: 'off', overlay: { metrics: { enabled: false } } },
  // The origin answers any POST with 200, so it stands in for the OTLP collector.
  {
    name: 'trace-1pct',
    scenarios: ['tiny-get'],
    feature: 'tracing at 1 %',
    turns: 'on',
    overlay: ({ origin }) => ({ tracing: { sample: 0.01, otlp: { endpoint: `http://127.0.0.1:${origin}/v1/traces` } } }),
  },
];

export const variantName = (scenario: string, v: Variant) => `${scenario}+${v.name}`;

export function overlayOf(v: Variant, originPort: number): Overlay {
  return typeof v.overlay === 'function' ? v.overlay({ origin: originPort }) : v.overlay;
}

/** `base` with `overlay` merged in: objects are merged key by key, anything else is replaced. */
export function merged(base: Overlay, overlay: Overlay): Overlay {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(overlay)) out[k] = isObject(out[k]) && isObject(v) ? merged(out[k], v) : v;
  return out;
}

const isObject = (x: unknown): x is Overlay => typeof x === 'object' && x !== null && !Array.isArray(x);
