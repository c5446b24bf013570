import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { CompiledPlan } from '../../src/compile/plan.js';
import { object, string } from '../../src/config/schema-node.js';
import { defineStage, type ServiceEnv } from '../../src/pipeline/stage-factory.js';
import { StageServices } from '../../src/primary/stage-services.js';
import { ServiceViews } from '../../src/worker/service-views.js';

// A stage's primary-side service (a key fetcher, say): started once by the primary, told of every
// config, and what it publishes reaches stage instances in the workers through their env.service.

const keys = defineStage({
  kind: 'keys',
  schema: object({ issuer: string() }, { required: ['issuer'] }),
  compile: (raw) => ({ issuer: raw.issuer }),
  service: {
    start(env: ServiceEnv) {
      return {
        configure(settings: unknown, plans: readonly { issuer: string }[]) {
          env.publish({ settings, issuers: plans.map((p) => p.issuer) });
        },
        async close() {},
      };
    },
  },
  instantiate: (_plan, env) => ({ name: 'keys', onRequest: () => (env.service.current === undefined ? { status: 503, code: null } : null) }),
});

function plan(issuers: string[]): CompiledPlan {
  const routes = issuers.map((issuer, index) => ({
    index,
    name: `r${index}`,
    stages: [
      { kind: 'keys', plan: { issuer } },
      { kind: 'other', plan: {} },
    ],
  }));
  return { stageSettings: { keys: { refreshMs: 1000 } }, routes } as unknown as CompiledPlan;
}

test('a stage service is told of each config (its settings, the plans of the routes that use it) and its values reach every worker', () => {
  const services = new StageServices([keys], pino({ level: 'silent' }));
  const delivered: unknown[] = [];
  // Values published before workers exist are kept for them (their workerData).
  services.configure(plan(['a', 'b']));
  const early = new ServiceViews(Object.fromEntries(services.latest));
  assert.deepEqual(early.view('keys').current, { settings: { refreshMs: 1000 }, issuers: ['a', 'b'] });

  // Later values go to running workers as messages; a view keeps its identity, so instances see them.
  services.onPublish = (kind, value) => {
    delivered.push(value);
    early.update(kind, value);
  };
  const view = early.view('keys');
  services.configure(plan(['c']));
  assert.deepEqual(delivered, [{ settings: { refreshMs: 1000 }, issuers: ['c'] }]);
  assert.deepEqual(view.current, { settings: { refreshMs: 1000 }, issuers: ['c'] });
});

test('a stage instance reads the newest published value; before the first it sees undefined', () => {
  const views = new ServiceViews({});
  const stage = keys.instantiate({ issuer: 'a' }, { service: views.view('keys') } as never);
  assert.deepEqual(stage.onRequest!(undefined as never), { status: 503, code: null });
  views.update('keys', { issuers: ['a'] });
  assert.equal(stage.onRequest!(undefined as never), null);
});

test("a worker's signal reaches its stage's service in the primary (onSignal), and only that one", () => {
  const heard: unknown[] = [];
  const listening = defineStage({
    kind: 'listening',
    schema: object({}),
    compile: () => ({}),
    service: {
      start: () => ({ configure() {}, onSignal: (v: unknown) => heard.push(v), async close() {} }),
    },
    instantiate: () => ({ name: 'listening' }),
  });
  const services = new StageServices([keys, listening], pino({ level: 'silent' }));
  // The worker side: a view's signal goes out as (kind, value); the supervisor hands it to the services.
  const views = new ServiceViews({}, (kind, value) => services.signal(kind, value));
  views.view('listening').signal({ url: 'https://idp.test/jwks' });
  views.view('keys').signal('ignored: keys has no onSignal');
  assert.deepEqual(heard, [{ url: 'https://idp.test/jwks' }]);
});
