// npm run test:browser — builds the browser test bundle (build.ts), starts the harness server,
// its tunnel and TLS peers (serve.ts), opens the page in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core; never a downloaded browser), prints every result
// line the page logs, and exits non-zero on any failed test, page error, crash or timeout; on a
// break of the file-selection rule (a test file left out that NODE_ONLY does not expect, see
// build.ts); and when a TLS peer is missing or one of its cases did not pass (below). The first
// two are found before Chromium starts, and the run stops there.
//
// Peers: the tunnel spec must have passed against all four peers, our Node server and openssl
// s_server, each with TLS 1.2 and 1.3. Without openssl that is a failure, unless
// MBEDTLS_WASM_SKIP_INTEROP=1 says to run without it (the Node peers are still required).
//
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), BROWSER_TEST_TIMEOUT_MS (default 110000),
// MBEDTLS_WASM_SKIP_INTEROP=1 (accept a missing openssl).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { buildBrowserTests } from './build.js';
import { peerCaseName, type HarnessConfig, type HarnessPeer } from './config.js';
import type { HarnessResult } from './runner.js';
import { startHarness, type Harness } from './serve.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TIMEOUT_MS = Number(process.env.BROWSER_TEST_TIMEOUT_MS ?? 110000);
const TTY = process.stdout.isTTY === true;
const dim = (s: string) => (TTY ? `\x1b[2m${s}\x1b[22m` : s);
const red = (s: string) => (TTY ? `\x1b[31m${s}\x1b[39m` : s);
/** uvu colours its output in the page; keep the colours only for a terminal. */
const plain = (s: string) => (TTY ? s : s.replace(/\x1b\[[0-9;]*m/g, ''));

/** The peers every run needs: node always, openssl unless interop is skipped. */
function requiredPeers(skipInterop: boolean): Array<Pick<HarnessPeer, 'kind' | 'version'>> {
  const kinds: Array<HarnessPeer['kind']> = skipInterop ? ['node'] : ['node', 'openssl'];
  return kinds.flatMap((kind) => (['TLSv1.2', 'TLSv1.3'] as const).map((version) => ({ kind, version })));
}

/** What is wrong with the peers before the run (missing ones) ... */
function peerProblems(config: HarnessConfig): string[] {
  const out: string[] = [];
  if (!config.skipInterop) {
    for (const m of config.missing) out.push(`peer not available: ${m}. Install it, or set MBEDTLS_WASM_SKIP_INTEROP=1 to run without it`);
  }
  for (const r of requiredPeers(config.skipInterop)) {
    if (!config.peers.some((p) => p.kind === r.kind && p.version === r.version)) out.push(`no ${r.kind} ${r.version} peer was registered for the tunnel spec`);
  }
  return out;
}

/** ... and after it: every registered peer's case must have reported that it passed. */
function peerCasesNotRun(config: HarnessConfig, reported: readonly string[]): string[] {
  return config.peers.filter((p) => !reported.includes(peerCaseName(p)))
    .map((p) => `the tunnel spec's case for ${p.name} (${p.kind} ${p.version}) did not run to the end`);
}

async function main(): Promise<number> {
  if (!existsSync(CHROMIUM)) {
    console.error(red(`browser tests: no Chromium at ${CHROMIUM}. Install Debian's (apt-get install -y chromium; scripts/setup.sh does) or set CHROMIUM_PATH.`));
    return 1;
  }
  const t0 = Date.now();
  const build = await buildBrowserTests();
  // (The page itself lists the files left out, with the reason.)
  console.log(dim(`browser bundle: ${build.modules.length} test files in ${Date.now() - t0} ms`));
  for (const n of build.notes) console.log(dim(`  note: ${n}`));
  const problems: string[] = [...build.problems];

  let harness: Harness | undefined;
  let context: BrowserContext | undefined;
  const userDataDir = mkdtempSync(join(tmpdir(), 'mbedtls-wasm-chromium-'));
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    harness = await startHarness({ build: async () => build });
    if (harness.config.skipInterop) for (const m of harness.config.missing) console.log(dim(`  peer not available (MBEDTLS_WASM_SKIP_INTEROP=1): ${m}`));
    problems.push(...peerProblems(harness.config));
    // The run is set up wrong (a file left out that NODE_ONLY does not expect, a peer missing):
    // fail now, rather than after a minute of tests whose result is already a failure.
    if (problems.length > 0) throw new Error('the browser was not started: fix the problems above first');
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
    problems.push(...peerCasesNotRun(harness.config, result.reported));
    console.log(dim(`tunnel spec: passed against ${harness.config.peers.filter((p) => result.reported.includes(peerCaseName(p))).map((p) => `${p.kind} ${p.version}`).join(', ')}`));
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
