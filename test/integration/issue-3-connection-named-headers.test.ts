import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { type ScriptedUpstream, scripted } from '../helpers/scripted-upstream.js';

// Found in review of the response-head rewrite (issue 3), older than it: a header named by the
// upstream's Connection field was still forwarded when its name held '_' or '^' (the case fold turned
// them into other bytes), and only the last of several Connection fields was honoured.

let up: ScriptedUpstream;
let gw: TestGateway;

before(async () => {
  up = await scripted((_r, s) => {
    s.write(
      [
        'HTTP/1.1 200 OK',
        'Connection: X_Private',
        'X_Private: secret',
        'Connection: x-b, X^Caret',
        'X-B: hop',
        'x^caret: hop',
        'X-Keep: yes',
        'Content-Length: 2',
      ].join('\r\n') + '\r\n\r\nok',
    );
  });
  gw = await startGateway(`
upstreams:
  up: { endpoints: [ { url: "${up.origin}" } ] }
routes:
  - { name: all, match: { prefix: / }, upstream: up }
`);
});

after(async () => {
  await gw.stop();
  await up.close();
});

test('headers named by any Connection field are dropped, whatever token bytes their names hold', async () => {
  const r = await request(gw.url('/x'));
  assert.equal(r.status, 200);
  assert.equal(r.body, 'ok');
  assert.equal(r.headers['x_private'], undefined);
  assert.equal(r.headers['x-b'], undefined);
  assert.equal(r.headers['x^caret'], undefined);
  assert.equal(r.headers['x-keep'], 'yes');
  assert.equal(r.headers.connection, undefined, "the upstream's Connection fields are not relayed");
});
