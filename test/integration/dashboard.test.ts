import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../helpers/gateway.js';
import { request } from '../helpers/http.js';
import { skipWithout } from '../helpers/system-services.js';
import { refusedPort, startUpstream } from '../helpers/upstream.js';

// The built-in dashboard (GET / on the admin listener) in a real browser: Debian's chromium, driven
// by playwright-core, after real traffic through the workers. It asserts what a person sees, and
// keeps a screenshot in test-artifacts/dashboard.png (git-ignored).

const TOKEN = 'dashboard-test-admin-token-0123';
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

const skip = skipWithout('chromium');

test('the dashboard shows a failing upstream as down, both routes with a live rate, and the failing route with 5xx', { skip }, async (t) => {
  const { chromium } = await import('playwright-core');
  const up = await startUpstream();
  t.after(() => up.close());
  const closed = await refusedPort();
  const gw = await startGateway(
    `
admin: { token: "${TOKEN}" }
upstreams:
  app: { endpoints: [ { url: "${up.origin}" } ] }
  broken:
    endpoints: [ { url: "http://127.0.0.1:${closed}" } ]
    health: { active: { path: /healthz, interval_ms: 100, timeout_ms: 100, unhealthy: 1 } }
routes:
  - { name: orders, match: { prefix: /orders }, upstream: app }
  - { name: payments, match: { prefix: /payments }, upstream: broken, retries: { attempts: 1 } }
  # Valid route names that are also Object.prototype's: once, one blanked the whole page.
  - { name: constructor, match: { path: /constructor }, respond: { body: c } }
  - { name: toString, match: { path: /to-string }, respond: { body: t } }
`,
    { SLUICE_WORKERS: '2' },
  );
  const profile = mkdtempSync(join(tmpdir(), 'sluice-chromium-'));
  // Bounded background traffic to both routes while the page polls (rates are per poll interval).
  let sending = true;
  const traffic = (async () => {
    for (let i = 0; sending && i < 2000; i++) {
      await Promise.all([request(gw.url(`/orders/${i}`)), request(gw.url(`/payments/${i}`))]);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    await page.goto(`http://127.0.0.1:${gw.adminPort}/`);

    // Behind the token: the page asks for it, keeps it in this tab, and then shows the data.
    await page.getByPlaceholder('admin token').waitFor({ state: 'visible' });
    await page.getByPlaceholder('admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'use token' }).click();

    const upstreamState = (name: string) => page.locator(`tr[data-upstream="${name}"] td[data-col="state"]`);
    await upstreamState('broken').getByText('down').waitFor({ timeout: 15_000 });
    assert.equal(((await upstreamState('broken').textContent()) ?? '').trim(), 'down');
    assert.equal(((await upstreamState('app').textContent()) ?? '').trim(), 'up');

    const routeCell = (route: string, col: string) => page.locator(`tr[data-route="${route}"] td[data-col="${col}"]`);
    assert.equal(await page.locator('tr[data-route]').count(), 4, 'every route, constructor and toString included');
    const number = async (route: string, col: string) => Number.parseFloat((await routeCell(route, col).textContent()) ?? '');
    const deadline = Date.now() + 20_000;
    while (!((await number('orders', 'rate')) > 0 && (await number('payments', 'rate')) > 0 && (await number('payments', 'errors')) > 0)) {
      assert.ok(Date.now() < deadline, `no live numbers: ${await page.locator('#routes-body').textContent()}`);
      await page.waitForTimeout(250);
    }
    assert.equal(await number('orders', 'errors'), 0, 'the healthy route has no 5xx');
    assert.ok((await number('orders', 'p99')) > 0, 'a live p99 from the duration buckets');
    // Both workers, from GET /workers.
    assert.equal(await page.locator('#workers-body tr').count(), 2);
    assert.equal(await page.locator('#workers-body tr', { hasText: 'up' }).count(), 2);
    assert.equal(await page.locator('#generation').textContent(), '1');

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  } finally {
    sending = false;
    await traffic;
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
    assert.equal(await gw.stop(), 0);
  }
});
