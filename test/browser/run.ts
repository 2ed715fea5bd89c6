// npm run test:browser — builds the browser test bundle (build.ts), starts the harness server,
// its tunnel and TLS peers (serve.ts), opens the page in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core; never a downloaded browser), prints every result
// line the page logs, and exits non-zero on any failed test, page error, crash or timeout.
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT_MS (default 110000).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildBrowserTests } from './build.js';
import type { HarnessResult } from './runner.js';
import { startHarness, type Harness } from './serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS ?? 110000);
const TTY = process.stdout.isTTY === true;
const dim = (s: string) => (TTY ? `\x1b[2m${s}\x1b[22m` : s);
const red = (s: string) => (TTY ? `\x1b[31m${s}\x1b[39m` : s);
/** uvu colours its output in the page; keep the colours only for a terminal. */
const plain = (s: string) => (TTY ? s : s.replace(/\x1b\[[0-9;]*m/g, ''));

async function main(): Promise<number> {
  if (!existsSync(CHROMIUM)) {
    console.error(red(`browser tests: no Chromium at ${CHROMIUM}. Install Debian's (apt-get install -y chromium; scripts/setup.sh does) or set CHROMIUM_PATH.`));
    return 1;
  }
  const t0 = Date.now();
  const build = await buildBrowserTests();
  // (The page itself lists the files left out, with the reason.)
  console.log(dim(`browser bundle: ${build.modules.length} test files in ${Date.now() - t0} ms`));

  let harness: Harness | undefined;
  let context: BrowserContext | undefined;
  const userDataDir = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-chromium-'));
  const problems: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    harness = await startHarness({ build: async () => build });
    for (const m of harness.config.missing) console.log(dim(`  peer not available: ${m}`));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--no-first-run', '--disable-quic', '--disable-sync'],
    });
    const page = context.pages()[0] ?? await context.newPage();
    let resolveResult!: (r: HarnessResult) => void;
    const resultPromise = new Promise<HarnessResult>((resolve) => { resolveResult = resolve; });
    let stopped: ((reason: string) => void) | undefined;
    const stop = new Promise<never>((_, reject) => { stopped = (reason) => reject(new Error(reason)); });

    page.on('console', (msg) => {
      const text = msg.text();
      if (text.startsWith('HARNESS-RESULT ')) { resolveResult(JSON.parse(text.slice('HARNESS-RESULT '.length)) as HarnessResult); return; }
      const type = msg.type();
      if (type === 'log' || type === 'info') console.log(plain(text));
      else console.log(dim(`[page ${type}] ${plain(text)}`));
    });
    page.on('pageerror', (err) => {
      problems.push(`page error: ${err.stack ?? err.message}`);
      console.log(red(`[page error] ${err.stack ?? err.message}`));
    });
    page.on('crash', () => { problems.push('the page crashed'); stopped?.('the page crashed'); });
    page.on('requestfailed', (req) => console.log(dim(`[request failed] ${req.url()} ${req.failure()?.errorText ?? ''}`)));
    page.on('response', (res) => { if (res.status() >= 400) problems.push(`HTTP ${res.status()} for ${res.url()}`); });

    timer = setTimeout(() => stopped?.(`timed out after ${TIMEOUT_MS} ms (the last file printed above was still running)`), TIMEOUT_MS);
    await page.goto(harness.url);
    const result = await Promise.race([resultPromise, stop]);
    console.log(dim(`browser: ${result.userAgent}`));
    if (!result.ok) problems.push(`${result.failed} of ${result.total} browser tests failed`);
    if (result.total === 0) problems.push('no browser tests ran');
  } catch (e) {
    problems.push((e as Error).message);
  } finally {
    clearTimeout(timer);
    await context?.close().catch(() => {});
    await harness?.close().catch(() => {});
    rmSync(userDataDir, { recursive: true, force: true });
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(red(`browser tests: ${p}`));
    return 1;
  }
  return 0;
}

process.exitCode = await main();
