// The dashboard in headless Chromium: loads https://127.0.0.1:PORT/ from our TLS stack (the
// generated certificate pinned by its key), waits until the live table shows the page's own
// WebSocket connection and one of the test's, and the chart has samples, and saves a screenshot.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { WebServer } from '../src/webui/server.js';
import { getJson, isPattern, portOf, rawConnection, request, roundTrip, startTestServer, testIdentity, waitFor } from './helpers/webui-client.js';

const CHROMIUM = '/usr/bin/chromium';
const dash = suite<{ server: WebServer; context: BrowserContext; profile: string }>('webui: dashboard in Chromium');

dash.before(async (ctx) => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh does)`);
  ctx.server = await startTestServer({ dashboard: true, statsIntervalMs: 250 });
  // Trust exactly the generated certificate: Chromium accepts its public key by SPKI hash.
  const spki = new X509Certificate(testIdentity().cert).publicKey.export({ type: 'spki', format: 'der' });
  const pin = createHash('sha256').update(spki).digest('base64');
  ctx.profile = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-chromium-'));
  ctx.context = await chromium.launchPersistentContext(ctx.profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync', `--ignore-certificate-errors-spki-list=${pin}`,
    ],
  });
});

dash.after(async (ctx) => {
  await ctx.context?.close();
  if (ctx.profile) rmSync(ctx.profile, { recursive: true, force: true });
  await ctx.server?.shutdown({ drainMs: 1000 });
});

dash('the page shows its own connection live, over HTTPS from our stack', async ({ server, context }) => {
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const port = portOf(server, 'tls');
  const res = await page.goto(`https://127.0.0.1:${port}/`);
  assert.is(res?.status(), 200);
  assert.match(String(res?.headers()['content-type']), /^text\/html/);
  const security = await res!.securityDetails();
  assert.match(String(security?.protocol), /TLS 1\.[23]/);

  // The row for this page's WebSocket connection appears, marked as its own.
  const self = page.locator('#rows tr.self');
  await self.waitFor({ timeout: 20_000 });
  const text = await self.innerText();
  assert.match(text, /this page/);
  assert.match(text, /websocket/);
  assert.match(text, /TLS/);
  assert.match(text, /TLSv1\.3/);

  // A connection of the test's own, kept open and idle, appears as its own row.
  const mine = await rawConnection('tls', port);
  try {
    assert.is((await roundTrip(mine, '/api/health')).status, 200);
    const local = (mine as { localPort?: number }).localPort;
    const me = await waitFor('own connection listed', async () => {
      const list = await getJson({ kind: 'plain', port: portOf(server, 'plain'), path: '/api/connections' });
      return list.json.connections.find((c: any) => c.remotePort === local);
    });
    const row = page.locator(`#rows tr[data-id="${me.id}"]`);
    await row.waitFor({ timeout: 20_000 });
    await page.waitForFunction((id) => /\bidle\b/.test(document.querySelector(`#rows tr[data-id="${id}"] td.state`)?.textContent ?? ''), me.id, { timeout: 20_000 });
    const cells = await row.locator('td').allInnerTexts();
    assert.is(cells[0], String(me.id));
    assert.is(cells[1], 'TLS');
    assert.is(cells[2], `127.0.0.1:${local}`);
    assert.is(cells[3], 'idle');
    assert.is(cells[4], 'read');
    assert.is(cells[5], 'TLSv1.3');
    assert.match(cells[6]!, /^TLS_/);
    assert.is(cells[11], '1', 'one request');
    assert.not.ok(await row.evaluate((tr) => tr.classList.contains('self')), 'not the page itself');
    assert.is(await page.locator('#rows td.empty').count(), 0, 'no placeholder row');

    // Traffic while the page watches: the chart gets samples and the totals move.
    for (let i = 0; i < 4; i++) {
      const r = await request({ kind: i % 2 ? 'plain' : 'tls', port: portOf(server, i % 2 ? 'plain' : 'tls'), path: `/api/download?bytes=${(i + 1) * 400_000}` });
      assert.ok(isPattern(r.body));
    }
    await page.waitForFunction(() => {
      const tiles = [...document.querySelectorAll('#tiles .tile')].map((t) => t.textContent ?? '');
      return tiles.some((t) => /^bytes out[\d.]+ MiB$/.test(t.trim()));
    }, undefined, { timeout: 20_000 });
    // The chart has drawn at least two rate samples (a line, not a point).
    await page.waitForFunction(() => Number((document.getElementById('chart') as HTMLCanvasElement).dataset.samples) >= 2, undefined, { timeout: 20_000 });
    const legend = await page.locator('#legend span').allInnerTexts();
    for (const name of ['in', 'out', 'WANT_READ', 'WANT_WRITE', 'retries']) assert.ok(legend.map((t) => t.trim()).includes(name), `legend names ${name}: ${legend.join(', ')}`);
    assert.match(await page.locator('#status').innerText(), /live \(HTTPS\)/);
    assert.equal(errors, []);

    // While the test's connection is still open, so the picture shows it too.
    const shot = join(tmpdir(), `mbedtls-wasm-dashboard-${process.pid}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  dashboard screenshot: ${shot}`);
  } finally {
    mine.destroy();
  }
});

dash.run();
