/**
 * Child process for the node:tls idle-memory figure: a fresh process so that RSS growth is
 * attributable to the connections made here. Prints bytes per connection (RSS delta / 2N).
 */
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

const n = Number(process.argv[2] ?? 500);
const fx = (f: string) => readFileSync(new URL(`../test/fixtures/${f}`, import.meta.url), 'utf8');
const server = tls.createSecureContext({ key: fx('server-ecdsa.key'), cert: fx('server-ecdsa.crt') });
const client = tls.createSecureContext({ ca: fx('ca-ecdsa.crt') });

function pair(): Promise<unknown> {
  const mk = (): Duplex & { other?: Duplex } => new Duplex({
    read() {},
    write(c, _e, cb) { (this as { other?: Duplex }).other!.push(c); cb(); },
  });
  const a = mk(), b = mk();
  a.other = b; b.other = a;
  const s = new tls.TLSSocket(a, { isServer: true, secureContext: server });
  const c = tls.connect({ socket: b, secureContext: client, servername: 'localhost' });
  return new Promise((resolve) => { let k = 0; const d = () => { if (++k === 2) resolve([c, s]); }; s.once('secure', d); c.once('secureConnect', d); });
}

const keep: unknown[] = [];
for (let i = 0; i < 20; i++) keep.push(await pair()); // warm-up: OpenSSL's first-use allocations
global.gc?.();
await new Promise((r) => setTimeout(r, 50));
const before = process.memoryUsage().rss;
for (let i = 0; i < n; i++) keep.push(await pair());
global.gc?.();
await new Promise((r) => setTimeout(r, 50));
const after = process.memoryUsage().rss;
console.log(JSON.stringify({ perConnection: (after - before) / (2 * n) }));
process.exit(0);
