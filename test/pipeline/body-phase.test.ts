import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { createGzip, gunzipSync } from 'node:zlib';
import { NO_LINES } from '../../src/http/head-lines.js';
import type { BodySink, BodyTransform } from '../../src/pipeline/body-chain.js';
import type { Forwarder, LegHandle, LegRequest } from '../../src/pipeline/downstream.js';
import { type ResponseHead, type Stage, setHeader, type UpstreamRequestHead } from '../../src/pipeline/phase.js';
import { routeRuntime } from '../../src/pipeline/route-runtime.js';
import { FakeFrontDoor } from '../helpers/fake-front-door.js';

// The body phase in-process: an Exchange between a recording front door and a scripted upstream leg,
// with test stages that transform bodies. What a client would see is what the front door records.

/** A leg the test drives by hand: `req` is what the real upstream leg would write to. */
class ScriptedLeg implements LegHandle {
  readonly upstreamName = 'up';
  readonly endpoint = 'http://127.0.0.1:1';
  readonly tries = 1;
  readonly lastError = null;
  req!: LegRequest;
  resumed = 0;
  released = 0;
  attach(req: LegRequest): this {
    this.req = req;
    return this;
  }
  start(): void {}
  resume(): void {
    this.resumed++;
  }
  release(): void {
    this.released++;
  }
}

function forwarder(leg: ScriptedLeg): Forwarder {
  return { keepsBody: () => false, createLeg: (req) => leg.attach(req) };
}

function head(status = 200, length = -1): ResponseHead {
  return { status, upstream: NO_LINES, connectionNamed: null, length, set: null, remove: null };
}

/** A byte filter: pushes in write, passes backpressure straight through. */
function upperCase(sink: BodySink): BodyTransform {
  return {
    write: (c) => sink.push(Buffer.from(c.toString('latin1').toUpperCase(), 'latin1')),
    end: () => sink.end(),
    drain: () => sink.ready(),
    destroy: () => {},
  };
}

/** gzip through node:zlib: output comes later than input, with backpressure both ways. */
function gzip(sink: BodySink): BodyTransform {
  const z = createGzip();
  z.on('data', (d: Buffer) => {
    if (!sink.push(d)) z.pause();
  });
  z.on('drain', () => sink.ready());
  z.on('end', () => sink.end());
  return {
    write: (c) => z.write(c),
    end: () => z.end(),
    drain: () => z.resume(),
    destroy: () => z.destroy(),
  };
}

function setup(stages: Stage[], request?: ConstructorParameters<typeof FakeFrontDoor>[1]) {
  const leg = new ScriptedLeg();
  const front = new FakeFrontDoor(routeRuntime('r', forwarder(leg), stages), request);
  return { leg, front, ex: front.ex };
}

test('a response body stage transforms every chunk in order; its head edits (length, headers) reach the client', () => {
  const stage: Stage = {
    name: 'upper',
    onResponseBody(_ctx, h, sink) {
      h.length = -1;
      setHeader(h, 'x-transformed', 'upper');
      return upperCase(sink);
    },
  };
  const { leg, front, ex } = setup([stage]);
  ex.start();
  leg.req.writeHead(head(200, 11), true);
  assert.equal(front.head!.length, -1, 'a length-changing transform makes the body chunked');
  assert.deepEqual(front.head!.set, ['x-transformed', 'upper']);
  leg.req.writeChunk(Buffer.from('hello '));
  leg.req.writeChunk(Buffer.from('world'));
  leg.req.end();
  assert.equal(front.body(), 'HELLO WORLD');
  assert.deepEqual(front.events, ['head 200', 'end']);
});

test('a stage may decline a response (null): its body passes untouched, and so does a HEAD/204/304 answer', () => {
  const seen: number[] = [];
  const stage: Stage = {
    name: 'picky',
    onResponseBody(_c, h, sink) {
      seen.push(h.status);
      return h.status === 201 ? upperCase(sink) : null;
    },
  };
  for (const [method, status] of [
    ['GET', 200],
    ['HEAD', 201],
    ['GET', 204],
    ['GET', 304],
  ] as const) {
    const { leg, front, ex } = setup([stage], { method });
    ex.start();
    leg.req.writeHead(head(status, 2), true);
    leg.req.writeChunk(Buffer.from('ok'));
    leg.req.end();
    assert.equal(front.body(), 'ok');
  }
  assert.deepEqual(seen, [200], 'bodiless answers never reach the body phase');
});

test('backpressure: a slow client pauses the transform, which pauses the upstream; draining resumes both', () => {
  const { leg, front, ex } = setup([{ name: 'upper', onResponseBody: (_c, _h, sink) => upperCase(sink) }]);
  ex.start();
  leg.req.writeHead(head(), false);
  front.room = false;
  assert.equal(leg.req.writeChunk(Buffer.from('a')), false, 'the upstream is told to wait');
  assert.equal(leg.resumed, 0);
  front.drained();
  assert.equal(leg.resumed, 1, 'the drain travels back through the transform to the upstream');
});

test('gzip as a body stage: 1 MiB through a client that keeps refusing, the client gets exactly the input compressed', async () => {
  const { leg, front, ex } = setup([
    {
      name: 'gzip',
      onResponseBody(_c, h, sink) {
        h.length = -1;
        setHeader(h, 'content-encoding', 'gzip');
        return gzip(sink);
      },
    },
  ]);
  // Incompressible, so the compressed output is as large as the input and meets the slow client often.
  const input = randomBytes(1024 * 1024);
  ex.start();
  leg.req.writeHead(head(200, input.length), true);
  // The client refuses every other write and drains a turn later, as a slow socket does.
  let writes = 0;
  let refusals = 0;
  const done = new Promise<void>((resolve) => {
    front.writeChunk = (c: Buffer) => {
      front.chunks.push(Buffer.from(c));
      if (++writes % 2 === 1) return true;
      refusals++;
      setImmediate(() => front.drained());
      return false;
    };
    const origEnd = front.end.bind(front);
    front.end = () => {
      origEnd();
      resolve();
    };
  });
  let at = 0;
  const pump = () => {
    while (at < input.length) {
      const ok = leg.req.writeChunk(input.subarray(at, at + 16_384));
      at += 16_384;
      if (!ok) return;
    }
    leg.req.end();
  };
  const resume = leg.resume.bind(leg);
  leg.resume = () => {
    resume();
    setImmediate(pump);
  };
  pump();
  await done;
  assert.ok(refusals > 0, 'the client did push back');
  assert.ok(leg.resumed > 0, 'the upstream was paused and resumed');
  assert.deepEqual(gunzipSync(Buffer.concat(front.chunks)), input);
  assert.deepEqual(front.head!.set, ['content-encoding', 'gzip']);
});

test("a request body stage transforms the upload; it goes upstream chunked, without the client's Content-Length", async () => {
  const stage: Stage = { name: 'upper', onRequestBody: (_c, sink) => upperCase(sink) };
  const { leg, front, ex } = setup([stage], { method: 'POST', contentLength: 10, headers: ['content-length', '10', 'x-a', '1'] });
  ex.openBody();
  front.ex.pushBody(Buffer.from('abcde'), false);
  ex.start();
  front.ex.pushBody(Buffer.from('fghij'), true);
  const body = leg.req.body!;
  assert.equal(body.chunked, true);
  assert.equal(body.kept, null, 'a transformed body is streamed, never kept for retries');
  const up: UpstreamRequestHead = { path: '/x', query: '', headers: ['content-length', '10', 'x-a', '1'] };
  leg.req.onUpstreamRequest(up);
  assert.deepEqual(up.headers, ['x-a', '1']);
  const got: Buffer[] = [];
  for await (const c of body.stream!) got.push(c as Buffer);
  assert.equal(Buffer.concat(got).toString(), 'ABCDEFGHIJ');
});

test('routes without body stages keep the direct path: the body is kept for retries and the length is untouched', () => {
  const leg = new ScriptedLeg();
  const f: Forwarder = { keepsBody: () => true, createLeg: (req) => leg.attach(req) };
  const front = new FakeFrontDoor(routeRuntime('r', f, []), { method: 'POST', contentLength: 4 });
  front.ex.openBody();
  front.ex.pushBody(Buffer.from('ab'), false);
  front.ex.pushBody(Buffer.from('cd'), true);
  front.ex.start();
  assert.equal(leg.req.body!.kept!.toString(), 'abcd');
  assert.equal(leg.req.body!.chunked, false);
});

test('onLog runs exactly once, whatever ends the exchange: answer, stage reply, failure, cut, client gone, repeated ends', async () => {
  const ends: Array<[string, (s: ReturnType<typeof setup>) => void]> = [
    [
      'answered',
      ({ leg }) => {
        leg.req.writeHead(head(), true);
        leg.req.end();
        leg.req.end();
      },
    ],
    [
      'failed before the head',
      ({ leg }) => {
        leg.req.fail('SLUICE_ERR_UPSTREAM_RESET');
        leg.req.fail('SLUICE_ERR_UPSTREAM_RESET');
      },
    ],
    [
      'cut after the head',
      ({ leg }) => {
        leg.req.writeHead(head(), false);
        leg.req.writeChunk(Buffer.from('x'));
        leg.req.fail('SLUICE_ERR_UPSTREAM_RESET');
      },
    ],
    [
      'client gone mid-body',
      ({ leg, front }) => {
        leg.req.writeHead(head(), false);
        front.abort();
        leg.req.end();
      },
    ],
    [
      'client gone before anything',
      ({ front }) => {
        front.abort();
        front.abort();
      },
    ],
  ];
  for (const [name, end] of ends) {
    const logged: number[] = [];
    const s = setup([
      {
        name: 'count',
        onLog: (_c, o) => {
          logged.push(o.status);
        },
      },
    ]);
    s.ex.start();
    end(s);
    s.ex.finish(false);
    assert.equal(logged.length, 1, name);
    assert.equal(s.leg.released, 1, `${name}: the leg is released once`);
  }
  // A stage that answers by itself, after an await.
  const logged: number[] = [];
  const s = setup([
    { name: 'deny', onRequest: async () => ({ status: 403, code: null, body: 'no' }) },
    {
      name: 'count',
      onLog: (_c, o) => {
        logged.push(o.status);
      },
    },
  ]);
  s.ex.start();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(logged, [403]);
  assert.equal(s.leg.released, 0, 'no upstream leg was started');
});

test('a client gone while a stage awaits: later stages never run, so nothing is taken after onLog', async () => {
  let release!: () => void;
  const waited = new Promise<null>((r) => {
    release = () => r(null);
  });
  const later: string[] = [];
  const s = setup([
    { name: 'slow', onRequest: () => waited },
    {
      name: 'takes',
      onRequest: () => {
        later.push('onRequest');
        return null;
      },
      onLog: () => {
        later.push('onLog');
      },
    },
  ]);
  s.ex.start();
  s.front.abort();
  release();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(later, ['onLog'], 'onLog ran once at the abort; onRequest never ran after it');
  assert.equal(s.leg.released, 0, 'no upstream leg was started');
});
