import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';
import pino from 'pino';
import { createLogger, type LogDestination } from '../../src/observe/log.js';
import { logSafeUrl, maskQuery, secretNamePattern } from '../../src/observe/mask.js';

/** What one structured log call writes, through the logger the gateway builds (createLogger). */
function logged(mask: { headers: string[]; jsonFields: string[] }, obj: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-mask-'));
  const file = join(dir, 'out.log');
  const dest = pino.destination({ dest: file, sync: true }) as unknown as LogDestination;
  createLogger('info', { role: 'test' }, mask, dest).info(obj, 'line');
  const text = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true });
  return text;
}

test('structured lines mask the configured headers and JSON fields, up to two objects down', () => {
  const line = JSON.parse(
    logged(
      { headers: ['x-api-key'], jsonFields: ['password', 'client_secret'] },
      {
        headers: { 'x-api-key': 'K1', authorization: 'Bearer K2', accept: '*/*' },
        req: { headers: { 'x-api-key': 'K3' } },
        password: 'P1',
        config: { client_secret: 'S1', store: { password: 'P2' }, url: 'redis://r:6379' },
      },
    ),
  );
  assert.equal(line.headers['x-api-key'], '[redacted]');
  assert.equal(line.headers.authorization, '[redacted]', 'the built-in paths stay');
  assert.equal(line.headers.accept, '*/*');
  assert.equal(line.req.headers['x-api-key'], '[redacted]');
  assert.equal(line.password, '[redacted]');
  assert.equal(line.config.client_secret, '[redacted]');
  assert.equal(line.config.store.password, '[redacted]');
  assert.equal(line.config.url, 'redis://r:6379');
});

test('query masking follows the configured names (substring, any case; regex characters are literal)', () => {
  const re = secretNamePattern(['token', 'a.b']);
  assert.equal(maskQuery('Access_Token=1&x=2&a.b=3&axb=4&flag', re), 'Access_Token=[redacted]&x=2&a.b=[redacted]&axb=4&flag');
  assert.equal(maskQuery('token=1', secretNamePattern([])), 'token=1');
});

test('URLs in structured lines lose their credentials and query', () => {
  assert.equal(logSafeUrl('https://user:pw@idp.example/jwks.json?access_token=T'), 'https://idp.example/jwks.json?[redacted]');
  assert.equal(logSafeUrl('http://etcd:2379'), 'http://etcd:2379/');
  assert.equal(logSafeUrl('not a url with secret'), '[redacted]');
});
