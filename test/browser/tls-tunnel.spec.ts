// Real TLS from the browser: our client (the browser entry's connect(), a TLSStream over a
// WebSocketTransport) reaches real servers through the tunnel — openssl s_server -www and our
// own Node server, TLS 1.2 and 1.3 — verifies them against test/fixtures/ca-ecdsa.crt, and
// makes an HTTP/1.1 request over the TLS stream. Each peer case reports itself when it passes;
// run.ts requires all four (node and openssl × TLS 1.2 and 1.3) unless MBEDTLS_WASM_SKIP_INTEROP=1
// let it run without openssl.
import '../helpers/setup.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type ConnectOptions, type TLSStream } from '../../src/browser/index.js';
import { fixture } from '../helpers/fixtures.js';
import { peerCaseName } from './config.js';
import { config, reportCase, tunnelUrl } from './harness-config.js';

const CASE_MS = 15000;
const decoder = new TextDecoder();

interface Outcome {
  protocol: string | null;
  cipher: string | undefined;
  alpn: string | false;
  authorized: boolean;
  response: string;
  error: Error | null;
}

/** Connects through the tunnel, sends a GET once secure, collects the response until close. */
function get(target: string, options: Partial<ConnectOptions> = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let stream: TLSStream;
    const timer = setTimeout(() => { stream?.destroy(); reject(new Error(`no close within ${CASE_MS} ms`)); }, CASE_MS);
    const chunks: string[] = [];
    let protocol: string | null = null;
    let cipher: string | undefined;
    let error: Error | null = null;
    stream = connect({
      url: tunnelUrl(target), servername: 'localhost', ca: fixture('ca-ecdsa.crt'), ALPNProtocols: ['http/1.1'], ...options,
    });
    stream.on('secureConnect', () => {
      protocol = stream.getProtocol();
      cipher = stream.getCipher()?.name;
      stream.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    });
    stream.on('data', (d) => chunks.push(decoder.decode(d, { stream: true })));
    stream.on('error', (e) => { error = e; });
    stream.on('close', () => {
      clearTimeout(timer);
      resolve({ protocol, cipher, alpn: stream.alpnProtocol, authorized: stream.authorized, response: chunks.join(''), error });
    });
  });
}

if (config.missing.length > 0) console.log(`tls-tunnel: not testing ${config.missing.join('; ')}`);

for (const peer of config.peers) {
  test(`${peer.name}: handshake, certificate verified, HTTP/1.1 GET → 200`, async () => {
    const r = await get(peer.target);
    assert.is(r.error, null, `no error (got ${r.error?.message})`);
    assert.is(r.protocol, peer.version);
    assert.is(r.authorized, true);
    assert.is(r.alpn, 'http/1.1');
    assert.ok(r.cipher, 'a cipher was negotiated');
    const statusLine = r.response.split('\r\n', 1)[0];
    assert.match(statusLine, peer.kind === 'openssl' ? /^HTTP\/1\.[01] 200 ok$/i : /^HTTP\/1\.1 200 OK$/);
    if (peer.kind === 'node') assert.ok(r.response.endsWith(`hello from mbedtls-wasm ${peer.version} ${r.cipher}\n`), r.response);
    else assert.match(r.response, /s_server/);
    reportCase(peerCaseName(peer));
  });
}

test('an untrusted server certificate fails the handshake (certificate fault), no data', async () => {
  const peer = config.peers[0]!;
  const r = await get(peer.target, { ca: fixture('untrusted-ca.crt') });
  assert.ok(r.error, 'an error');
  assert.is((r.error as Error & { fault?: string }).fault, 'certificate');
  assert.is(r.protocol, null);
  assert.is(r.response, '');
});

test('a target that is not on the allow-list is refused by the tunnel (4403)', async () => {
  const r = await get(config.forbiddenTarget);
  assert.ok(r.error, 'an error');
  assert.is((r.error as Error & { code?: string }).code, 'ERR_WS_CLOSED');
  assert.match(r.error!.message, /4403: target not allowed/);
});

test.run();
