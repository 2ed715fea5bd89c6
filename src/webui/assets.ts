/**
 * The dashboard's files: the HTML page (here) and its script, read from a prebuilt dashboard.js
 * next to this module when there is one (dist/, made by npm run build), else bundled from
 * src/webui/dashboard/*.ts with esbuild on first use (npm start from a clone), cached for the
 * process. Neither available is an error: a server that says it serves the dashboard and then
 * answers / with a page that does nothing would hide a broken build or install.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { UsageError } from './certs.js';

export interface DashboardAssets {
  html: string;
  script: string;
}

let cached: Promise<DashboardAssets> | null = null;

export function dashboardAssets(): Promise<DashboardAssets> {
  cached ??= loadDashboard(new URL('./', import.meta.url)).catch((e: unknown) => {
    cached = null;
    throw e;
  });
  return cached;
}

/**
 * The dashboard from the module directory `base`: `base`/dashboard.js, else a bundle of
 * `base`/dashboard/main.ts. Rejects with a UsageError (ERR_DASHBOARD) when neither is there or
 * the bundle cannot be built.
 */
export async function loadDashboard(base: URL): Promise<DashboardAssets> {
  const prebuilt = new URL('dashboard.js', base);
  if (existsSync(prebuilt)) return { html: PAGE, script: readFileSync(prebuilt, 'utf8') };
  const entry = fileURLToPath(new URL('dashboard/main.ts', base));
  if (!existsSync(entry)) {
    throw new UsageError(`the dashboard script is missing (neither ${fileURLToPath(prebuilt)} nor ${entry}): run npm run build, or serve with --no-dashboard`, 'ERR_DASHBOARD');
  }
  // esbuild is a development dependency: `npm start` from a clone has it; a packaged build
  // ships dashboard.js instead.
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (e) {
    throw new UsageError(`cannot bundle the dashboard from ${entry}: esbuild is not installed (${(e as Error).message.split('\n')[0]}): run npm install, or serve with --no-dashboard`, 'ERR_DASHBOARD');
  }
  let script: string;
  try {
    const out = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'iife',
      target: 'es2020',
      platform: 'browser',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    });
    script = out.outputFiles[0]!.text;
  } catch (e) {
    throw new UsageError(`cannot bundle the dashboard from ${entry}: ${(e as Error).message.split('\n')[0]}`, 'ERR_DASHBOARD');
  }
  return { html: PAGE, script };
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mbedtls-wasm · server dashboard</title>
<link rel="icon" href="data:,">
<style>
  :root { color-scheme: light dark; --fg: #1d2330; --muted: #687083; --bg: #f6f7f9; --card: #fff; --line: #e2e5ea; --accent: #2563eb; --warn: #c2410c; --ok: #15803d; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e6e8ee; --muted: #98a0b3; --bg: #12151b; --card: #1a1e26; --line: #2a303b; --accent: #60a5fa; --warn: #fb923c; --ok: #4ade80; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--fg); }
  header { display: flex; align-items: baseline; gap: 1rem; padding: 0.8rem 1.2rem; border-bottom: 1px solid var(--line); background: var(--card); }
  header h1 { font-size: 1.1rem; margin: 0; }
  header .status { color: var(--muted); }
  header .status.live::before { content: "● "; color: var(--ok); }
  header .status.down::before { content: "● "; color: var(--warn); }
  main { padding: 1rem 1.2rem; display: grid; gap: 1rem; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.8rem 1rem; }
  section h2 { font-size: 0.95rem; margin: 0 0 0.6rem; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: 0.6rem; }
  .tile { border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem 0.6rem; }
  .tile .k { color: var(--muted); font-size: 0.78rem; }
  .tile .v { font-size: 1.15rem; font-variant-numeric: tabular-nums; }
  canvas { width: 100%; height: 260px; display: block; }
  .legend { display: flex; gap: 1rem; flex-wrap: wrap; font-size: 0.8rem; color: var(--muted); margin-top: 0.3rem; }
  .legend i { display: inline-block; width: 0.8rem; height: 0.25rem; margin-right: 0.3rem; vertical-align: middle; }
  table { width: 100%; border-collapse: collapse; font-size: 0.82rem; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { color: var(--muted); font-weight: 600; }
  tr.self td { background: color-mix(in srgb, var(--accent) 12%, transparent); }
  td.wait-write { color: var(--warn); font-weight: 600; }
  td.wait-read { color: var(--accent); }
  .tag { display: inline-block; padding: 0 0.35rem; border-radius: 4px; border: 1px solid var(--line); font-size: 0.75rem; }
  .tag.tls { border-color: var(--ok); color: var(--ok); }
  .tag.plain { border-color: var(--warn); color: var(--warn); }
  .empty { color: var(--muted); padding: 0.6rem 0.5rem; }
</style>
</head>
<body>
<header><h1>mbedtls-wasm server</h1><span id="status" class="status">connecting…</span><span id="uptime" class="status"></span></header>
<main>
  <section><h2>Totals</h2><div id="tiles" class="tiles"></div></section>
  <section><h2>Throughput and WANT results per second</h2><canvas id="chart" width="1200" height="260"></canvas><div id="legend" class="legend"></div></section>
  <section><h2>Connections <span id="count" class="status"></span></h2>
    <table><thead><tr><th>id</th><th>transport</th><th>remote</th><th>state</th><th>waiting for</th><th>protocol</th><th>cipher</th><th>ALPN</th><th>SNI</th><th>queued</th><th>in / out</th><th>requests</th><th>age</th></tr></thead>
    <tbody id="rows"></tbody></table>
  </section>
</main>
<script src="/dashboard.js"></script>
</body>
</html>
`;
