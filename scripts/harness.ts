// npm run harness — serves the browser test page on 127.0.0.1 for a person to open: the same
// bundle, tunnel and TLS peers as `npm run test:browser`, with the results rendered on the page.
// The bundle is rebuilt on every load of the page, so edit a test and reload.
//   npm run harness                 (any free port)
//   npm run harness -- --port 8099  (or HARNESS_PORT=8099)
import { buildBrowserTests } from '../test/browser/build.js';
import { startHarness } from '../test/browser/serve.js';

const i = process.argv.indexOf('--port');
const port = Number(i >= 0 ? process.argv[i + 1] : process.env.HARNESS_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error('harness: --port expects a port number');
  process.exit(2);
}

const harness = await startHarness({ build: buildBrowserTests, rebuild: true, port });
console.log(`browser test harness: open ${harness.url}`);
for (const p of harness.config.peers) console.log(`  peer ${p.name} on ${p.target} (through the tunnel at ${harness.config.tunnelPath})`);
for (const m of harness.config.missing) {
  console.log(`  not available: ${m}${harness.config.skipInterop ? '' : ' (npm run test:browser fails on this unless MBEDTLS_WASM_SKIP_INTEROP=1)'}`);
}
console.log('Ctrl-C to stop.');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void harness.close().finally(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
