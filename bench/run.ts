/**
 * npm run bench: prints our figures, node:tls's for the same work in the same run, and ratios.
 *   --quick   shorter runs (a smoke check, noisier figures)
 */
import { runEngineBench, type Row } from './engine.js';

const quick = process.argv.includes('--quick');

function fmt(n: number | undefined, unit: string): string {
  if (n === undefined) return '-';
  if (unit === 'bytes') return `${(n / 1024).toFixed(1)} KiB`;
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

function print(title: string, rows: Row[]): void {
  console.log(`\n## ${title}`);
  console.log(['figure', 'ours', 'raw mbedTLS', 'node:tls', 'ours/raw', 'ours/node'].join(' | '));
  for (const r of rows) {
    // For rates, ours/raw < 1 means engine overhead; for memory, lower is better.
    const or = r.raw ? (r.ours / r.raw).toFixed(2) : '-';
    const on = r.node ? (r.ours / r.node).toFixed(2) : '-';
    console.log([r.label, fmt(r.ours, r.unit), fmt(r.raw, r.unit), fmt(r.node, r.unit), or, on].join(' | '));
  }
}

const engineRows = await runEngineBench(quick);
print('In-process (engine): ours = TlsEngine pair, raw = same records through mbedTLS inside wasm, node = node:tls over an in-memory duplex pair', engineRows);
const overhead = engineRows.filter((r) => r.raw).map((r) => `${r.label.split(' (')[0]}: ${((1 - r.ours / r.raw!) * 100).toFixed(1)}%`);
console.log(`\nengine overhead over raw mbedTLS (target <= 15%):\n  ${overhead.join('\n  ')}`);

const { runLoopbackBench } = await import('./loopback.js');
const loopRows = await runLoopbackBench(quick);
print('Loopback (separate processes): ours = our client → our server, node = node:tls → node:tls', loopRows);
console.log('\ntargets: handshakes >= 0.40x, bulk >= 0.50x, stall CPU <= 50 ms, memory per connection <= node:tls');
