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
const verdict = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');
const overhead = engineRows.filter((r) => r.raw).map((r) => {
  const pct = (1 - r.ours / r.raw!) * 100;
  return `${r.label.split(' (')[0]}: ${pct.toFixed(1)}% (${verdict(pct <= 15)})`;
});
console.log(`\nengine overhead over raw mbedTLS (target <= 15%):\n  ${overhead.join('\n  ')}`);
const idle = engineRows.find((r) => r.label.includes('wasm heap + JS heap'));
if (idle) console.log(`memory per idle established connection: ${(idle.ours / 1024).toFixed(1)} KiB (target <= 40 KB: ${verdict(idle.ours <= 40000)})`);

const { runLoopbackBench } = await import('./loopback.js');
const loopRows = await runLoopbackBench(quick);
print('Loopback (separate processes): ours = our client → our server, node = node:tls → node:tls', loopRows);
const ratio = (label: string) => { const r = loopRows.find((x) => x.label.includes(label)); return r && r.node ? r.ours / r.node : NaN; };
const stall = loopRows.find((x) => x.label.includes('stall'));
console.log('\nloopback targets:');
console.log(`  handshakes >= 0.40x node:tls: TLSv1.3 ${ratio('TLSv1.3').toFixed(2)}x, TLSv1.2 ${ratio('TLSv1.2').toFixed(2)}x (${verdict(ratio('TLSv1.3') >= 0.4 && ratio('TLSv1.2') >= 0.4)})`);
console.log(`  bulk >= 0.50x node:tls: ${ratio('single-connection bulk').toFixed(2)}x (${verdict(ratio('single-connection bulk') >= 0.5)}; median rounds ${ratio('median of').toFixed(2)}x, first round in fresh processes ${ratio('first round').toFixed(2)}x)`);
console.log(`  stall CPU <= 50 ms: ${stall ? stall.ours.toFixed(1) : '-'} ms (${verdict(!!stall && stall.ours <= 50)})`);
console.log(`  memory per connection <= node:tls: ${ratio('memory').toFixed(2)}x (${verdict(ratio('memory') <= 1)})`);
