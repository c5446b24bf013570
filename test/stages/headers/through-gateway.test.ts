import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { json, request } from '../../helpers/http.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

/** `headers:` through the real data plane: 2 worker threads, a real upstream that records what it got. */
let up: TestUpstream;
let gw: TestGateway;
let flaky = 0;

before(async () => {
  up = await startUpstream((req, res) => {
    // The first try of /flaky fails with a 503 the route retries: the edits must be on every try.
    if (req.url === '/flaky' && flaky++ === 0) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', server: 'origin/1.0', 'X-Powered-By': 'php', 'cache-control': 'public' });
    res.end(JSON.stringify({ headers: req.headers }));
  });
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - name: edited
    match: { prefix: / }
    upstream: up
    retries: { attempts: 2, on: [503] }
    headers:
      request: { set: { x-env: prod, x-user: gateway }, remove: [cookie, x-forwarded-for] }
      response: { set: { Cache-Control: no-store }, remove: [server, x-powered-by] }
`);
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

test("the upstream gets the route's request edits, and a client cannot supply a header the route sets", async () => {
  const r = await request(gw.url('/x'), { headers: { cookie: 'session=1', 'x-user': 'admin', accept: 'text/plain' } });
  assert.equal(r.status, 200);
  const seen = json(r).headers;
  assert.equal(seen['x-env'], 'prod');
  assert.equal(seen['x-user'], 'gateway', "the client's x-user is replaced, not passed beside");
  assert.equal(seen.cookie, undefined);
  assert.equal(seen['x-forwarded-for'], undefined, "sluice's own headers can be removed too");
  assert.equal(seen.accept, 'text/plain', 'other headers pass');
  assert.equal(seen.via, '1.1 sluice');
});

test("the client gets the route's response edits, case-insensitively; the rest of the head passes", async () => {
  const r = await request(gw.url('/x'));
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.equal(r.headers.server, undefined);
  assert.equal(r.headers['x-powered-by'], undefined);
  assert.equal(r.headers['content-type'], 'application/json');
  assert.equal(r.headers.via, '1.1 sluice');
});

test('a retried request carries the edits on its second try', async () => {
  const r = await request(gw.url('/flaky'), { headers: { 'x-user': 'admin' } });
  assert.equal(r.status, 200);
  assert.equal(flaky, 2, 'two tries reached the upstream');
  assert.equal(json(r).headers['x-user'], 'gateway');
  assert.equal(r.headers['cache-control'], 'no-store');
});
