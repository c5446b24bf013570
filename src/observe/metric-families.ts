/**
 * Every metric sluice exposes on GET /metrics, with its type, labels and help text: the one list
 * docs/observability.md documents (a test checks that every family here has its row there).
 *
 * Labels are bounded by config: route, upstream and endpoint names come from it, status is a class,
 * never a path. `route=""` is a request no route matched.
 */
export interface MetricFamily {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
}

const family = (name: string, type: MetricFamily['type'], labels: readonly string[], help: string): MetricFamily => ({ name, type, help, labels });

export const FAMILIES = {
  // ── requests, per route (recorded by workers) ──
  requests: family(
    'sluice_requests_total',
    'counter',
    ['route', 'status_class', 'code'],
    'Requests answered, by status class and the SLUICE_ERR_* code the gateway answered with ("" for none).',
  ),
  requestDuration: family('sluice_request_duration_seconds', 'histogram', ['route'], 'Time from the request head to the end of the response.'),
  requestPercentiles: family(
    'sluice_request_duration_percentile_seconds',
    'gauge',
    ['route', 'percentile'],
    'p50/p90/p99/p99.9 of the request duration since the process started (within 12.5 %); percentile="99" is p99.',
  ),
  inFlight: family('sluice_requests_in_flight', 'gauge', ['route'], 'Requests started and not yet finished.'),
  requestBytes: family('sluice_request_bytes_total', 'counter', ['route'], 'Request body bytes received from clients.'),
  responseBytes: family('sluice_response_bytes_total', 'counter', ['route'], 'Response body bytes sent to clients.'),
  localReplies: family(
    'sluice_local_replies_total',
    'counter',
    ['route', 'stage'],
    'Requests a stage answered itself (respond, a CORS preflight, a 401, a 429...).',
  ),
  // ── upstreams (recorded by workers) ──
  tries: family(
    'sluice_upstream_tries_total',
    'counter',
    ['upstream', 'endpoint', 'outcome'],
    'Tries sent to an endpoint, by outcome: ok, or failed (connect error, reset, timeout, 5xx).',
  ),
  tryDuration: family('sluice_upstream_try_duration_seconds', 'histogram', ['upstream'], "Time from a try's start to its response head (or its failure)."),
  tryPercentiles: family(
    'sluice_upstream_try_duration_percentile_seconds',
    'gauge',
    ['upstream', 'percentile'],
    'p50/p90/p99/p99.9 of the try duration since the process started (within 12.5 %).',
  ),
  retries: family('sluice_upstream_retries_total', 'counter', ['route', 'upstream'], 'Tries after the first.'),
  budgetRefusals: family('sluice_upstream_retry_budget_refusals_total', 'counter', ['upstream'], 'Retries refused because the retry budget was spent.'),
  ejections: family('sluice_endpoint_ejections_total', 'counter', ['upstream', 'endpoint'], 'Times passive health ejected an endpoint.'),
  resends: family(
    'sluice_upstream_resends_total',
    'counter',
    ['upstream', 'endpoint'],
    'Requests sent again on a new connection, unanswered, after a reused connection turned out closed (not retries).',
  ),
  poolConnections: family(
    'sluice_upstream_pool_connections',
    'gauge',
    ['endpoint', 'state'],
    "Connections in every worker's pools to the endpoint: idle or busy.",
  ),
  poolQueued: family('sluice_upstream_pool_queued', 'gauge', ['endpoint'], 'Tries waiting for a connection to the endpoint, all workers.'),
  // ── upstreams (read by the primary from shared memory) ──
  circuit: family('sluice_upstream_circuit_state', 'gauge', ['upstream', 'state'], '1 on the current state of the circuit breaker (closed, open, half_open).'),
  upstreamInFlight: family('sluice_upstream_in_flight', 'gauge', ['upstream'], 'Tries in flight to the upstream, all workers.'),
  healthy: family('sluice_endpoint_healthy', 'gauge', ['upstream', 'endpoint'], '1 while the endpoint takes traffic (not down by active checks, not ejected).'),
  ejected: family('sluice_endpoint_ejected', 'gauge', ['upstream', 'endpoint'], '1 while passive health has the endpoint ejected.'),
  discoveryEndpoints: family(
    'sluice_discovery_endpoints',
    'gauge',
    ['upstream', 'discovery'],
    'Endpoints the upstream has now, by how it finds them (static, dns, etcd).',
  ),
  discoveryUp: family(
    'sluice_discovery_up',
    'gauge',
    ['upstream', 'discovery'],
    "1 while the upstream's discovery source answers (DNS: the latest lookup succeeded; etcd: listed, watch open).",
  ),
  discoveryLastSuccess: family(
    'sluice_discovery_last_success_timestamp_seconds',
    'gauge',
    ['upstream', 'discovery'],
    'When the discovery source last answered with a list, in seconds since the Unix epoch (0 = never).',
  ),
  discoveryErrors: family(
    'sluice_discovery_errors_total',
    'counter',
    ['upstream', 'discovery'],
    'Discovery rounds that failed (a DNS lookup, an etcd listing, a broken watch); the last endpoints stay.',
  ),
  // ── stages (recorded by workers) ──
  rateLimit: family(
    'sluice_rate_limit_decisions_total',
    'counter',
    ['route', 'limit', 'decision'],
    'Rate-limit decisions per limit: allowed (this limit let it pass; a later one may still deny), denied, or store_error (the table or Redis could not answer).',
  ),
  authFailures: family('sluice_auth_failures_total', 'counter', ['route', 'reason'], 'Requests the auth stage refused, by reason (the SLUICE_ERR_* code).'),
  // ── tracing (recorded by workers) ──
  spansExported: family('sluice_tracing_spans_exported_total', 'counter', [], 'Spans the OTLP collector accepted.'),
  spansDropped: family('sluice_tracing_spans_dropped_total', 'counter', [], 'Spans lost: the export queue was full, or their POST failed or timed out.'),
  // ── workers and the process ──
  workerInFlight: family('sluice_worker_requests_in_flight', 'gauge', ['worker'], 'Requests in flight in one worker.'),
  eventLoopDelay: family('sluice_worker_event_loop_delay_p99_seconds', 'gauge', ['worker'], "p99 of the worker's event-loop delay over the last 10 s window."),
  heapUsed: family('sluice_worker_heap_used_bytes', 'gauge', ['worker'], "V8 heap in use by the worker's isolate."),
  workerUp: family('sluice_worker_up', 'gauge', ['worker'], '1 while the worker answered the scrape.'),
  restarts: family('sluice_worker_restarts_total', 'counter', [], 'Workers that died and were replaced.'),
  generation: family('sluice_config_generation', 'gauge', [], 'The config generation in force.'),
  reloads: family('sluice_config_reloads_total', 'counter', ['result'], 'Reloads (file, SIGHUP, admin, certificate), by result: ok or failed.'),
  lastReload: family('sluice_config_last_reload_success', 'gauge', [], '1 if the latest reload was applied, 0 if it was refused (the previous config stays).'),
  rss: family('sluice_process_resident_memory_bytes', 'gauge', [], 'Resident memory of the whole process (primary and workers).'),
  primaryHeap: family('sluice_primary_heap_used_bytes', 'gauge', [], "V8 heap in use by the primary's isolate."),
  startTime: family('sluice_process_start_time_seconds', 'gauge', [], 'When the process started, in seconds since the Unix epoch.'),
} as const;

export type FamilyKey = keyof typeof FAMILIES;
