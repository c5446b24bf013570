import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { CompiledPlan, EndpointPlan, UpstreamPlan } from '../../src/compile/plan.js';
import { EndpointRows } from '../../src/primary/endpoint-rows.js';
import { createEndpointTable, ENDPOINT_ROWS, EndpointHealth } from '../../src/shared/endpoint-health.js';
import { createUpstreamTable, UpstreamTable } from '../../src/shared/upstream-table.js';

// Rows of the shared tables as discovery churns: history kept for endpoints that come back, and a
// full table leaves endpoints out instead of rejecting the plan.
const ep = (port: number): EndpointPlan => ({ origin: `http://10.0.0.1:${port}`, hostHeader: '', weight: 1, row: -1 });
const plan = (endpoints: EndpointPlan[]): CompiledPlan =>
  ({
    upstreams: [{ name: 'api', endpoints, discovery: { kind: 'static' } } as unknown as UpstreamPlan],
  }) as unknown as CompiledPlan;

test('an endpoint that leaves and comes back gets its row (and its ejection history) back', () => {
  const health = new EndpointHealth(createEndpointTable());
  const rows = new EndpointRows(health, new UpstreamTable(createUpstreamTable()), pino({ level: 'silent' }));
  const first = rows.bind(plan([ep(1), ep(2)]), new Map()).upstreams[0].endpoints;
  health.setActiveDown(first[1].row, true);
  rows.bind(plan([ep(1)]), new Map());
  const again = rows.bind(plan([ep(1), ep(2)]), new Map()).upstreams[0].endpoints;
  assert.equal(again[1].row, first[1].row);
  assert.equal(health.isActiveDown(again[1].row), true);
});

test('a full endpoint table leaves the extra endpoints out, the plan still binds', () => {
  const logs: string[] = [];
  const log = pino({ level: 'error' }, { write: (l: string) => logs.push(l) });
  const rows = new EndpointRows(new EndpointHealth(createEndpointTable()), new UpstreamTable(createUpstreamTable()), log);
  const many = Array.from({ length: ENDPOINT_ROWS + 10 }, (_, i) => ep(i + 1));
  const bound = rows.bind(plan(many), new Map()).upstreams[0];
  assert.equal(bound.endpoints.length, ENDPOINT_ROWS);
  assert.equal(new Set(bound.endpoints.map((e) => e.row)).size, bound.endpoints.length);
  assert.match(logs.join(''), /endpoint table full/);
});
