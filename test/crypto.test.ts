// Our own primitives (wasm/curve25519.c, wasm/ecdsa-verify.c, wasm/chacha20.c, wasm/poly1305.c,
// wasm/chachapoly.c) against node:crypto (OpenSSL) and published vectors, in both modules:
// mbedtls.wasm (wasm SIMD) and mbedtls-nosimd.wasm. Each module is instantiated on its own here,
// so the two run side by side; the calls go through the same mbedTLS entry points TLS uses (PSA
// ECDH, pk_verify, mbedtls_chacha20_update, the mbedtls_chachapoly_* functions).
import './helpers/setup.js';
import { createCipheriv, createHash, createPublicKey, diffieHellman, generateKeyPairSync, randomBytes, sign, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { BytePtr, TlswExports } from '../src/wasm/ffi.js';

const ERR_ECP_VERIFY_FAILED = -0x4e00;

function instantiate(file: string): { x: TlswExports; call: <T>(inputs: Uint8Array[], outLen: number, fn: (ptrs: BytePtr[], out: BytePtr) => T) => { rc: T; out: Buffer } } {
  let x: TlswExports | undefined;
  const bytes = readFileSync(new URL(`../wasm/${file}`, import.meta.url));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    env: {
      tlsw_js_random: (ptr: number, len: number) => { crypto.getRandomValues(new Uint8Array(x!.memory.buffer, ptr, len)); },
      tlsw_js_now_ms: () => Date.now(),
      emscripten_notify_memory_growth: () => {},
    },
  });
  x = instance.exports as unknown as TlswExports;
  x._initialize();
  assert.is(x.tlsw_lib_init(), 0);
  const call = <T>(inputs: Uint8Array[], outLen: number, fn: (ptrs: BytePtr[], out: BytePtr) => T) => {
    const ptrs = inputs.map((b) => { const p = x!.tlsw_mem_alloc(Math.max(1, b.length)); new Uint8Array(x!.memory.buffer).set(b, p); return p; });
    const out = x!.tlsw_mem_alloc(Math.max(1, outLen));
    try {
      const rc = fn(ptrs, out);
      return { rc, out: Buffer.from(new Uint8Array(x!.memory.buffer, out, outLen)) };
    } finally {
      for (const p of ptrs) x!.tlsw_mem_free(p);
      x!.tlsw_mem_free(out);
    }
  };
  return { x, call };
}

const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const nodeX25519 = (priv: Buffer, pub: Buffer): Buffer | undefined => {
  try {
    return diffieHellman({
      privateKey: createPrivateKey({ key: Buffer.concat([X25519_PKCS8, priv]), format: 'der', type: 'pkcs8' }),
      publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, pub]), format: 'der', type: 'spki' }),
    });
  } catch {
    return undefined;   // OpenSSL refuses an all-zero result
  }
};

/** node:crypto's ChaCha20 for `key` and `nonce`, from block `counter` (OpenSSL's 16-byte IV is
 * the little-endian counter, then the nonce). */
const opensslChacha = (key: Buffer, nonce: Buffer) => (counter: number, data: Buffer): Buffer => {
  const iv = Buffer.alloc(16);
  iv.writeUInt32LE(counter, 0);
  nonce.copy(iv, 4);
  return createCipheriv('chacha20', key, iv).update(data);
};

/** Poly1305 (RFC 8439 section 2.5) in BigInt arithmetic: the reference our radix-2^32 code is held to. */
function poly1305Reference(key: Buffer, msg: Buffer): Buffer {
  const le = (b: Buffer) => BigInt('0x' + (Buffer.from(b).reverse().toString('hex') || '0'));
  const p = (1n << 130n) - 5n;
  const r = le(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = le(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const block = msg.subarray(i, i + 16);
    acc = ((acc + le(block) + (1n << BigInt(8 * block.length))) * r) % p;
  }
  const tag = (acc + s) & ((1n << 128n) - 1n);
  return Buffer.from(tag.toString(16).padStart(32, '0'), 'hex').reverse();
}

for (const file of ['mbedtls.wasm', 'mbedtls-nosimd.wasm']) {
  const { x, call } = instantiate(file);
  const x25519 = (priv: Buffer, pub: Buffer) => call([priv, pub], 32, ([a, b], out) => x.tlsw_crypto_x25519(a!, b!, out));
  const verify = (spki: Buffer, hash: Buffer, sig: Buffer) =>
    call([spki, hash, sig], 0, ([k, h, s]) => x.tlsw_crypto_ecdsa_verify(k!, spki.length, h!, hash.length, s!, sig.length)).rc;
  const chacha = (key: Buffer, nonce: Buffer, counter: number, data: Buffer, step: number) =>
    call([key, nonce, data], data.length, ([k, n, d], out) => x.tlsw_crypto_chacha20(k!, n!, counter, d!, out, data.length, step));

  test(`${file}: X25519 matches RFC 7748's vector and node:crypto for random keys and arbitrary u`, () => {
    const rfc = x25519(Buffer.from('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4', 'hex'),
      Buffer.from('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c', 'hex'));
    assert.is(rfc.rc, 0);
    assert.is(rfc.out.toString('hex'), 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    for (let i = 0; i < 150; i++) {
      const priv = randomBytes(32);
      // random u, including values with the top bit set and values >= p (both reduce as RFC 7748 says)
      const pub = i % 10 === 0 ? Buffer.concat([Buffer.alloc(31, 0xff), Buffer.from([0x7f - (i % 3)])]) : randomBytes(32);
      pub[0] = pub[0]! | (i % 10 === 0 ? 0xe0 : 0);
      const ours = x25519(priv, pub), theirs = nodeX25519(priv, pub);
      assert.ok(theirs, `node:crypto derived a secret for case ${i}`);
      assert.is(ours.rc, 0, `case ${i}`);
      assert.is(ours.out.toString('hex'), theirs!.toString('hex'), `case ${i}: priv ${priv.toString('hex')} pub ${pub.toString('hex')}`);
    }
  });

  test(`${file}: X25519 with a low-order public value fails instead of yielding zeros`, () => {
    const p = (2n ** 255n) - 19n;
    const le = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex').reverse();
    // u = 0, 1, p - 1, p, p + 1 and the two order-8 points: every scalar maps them to infinity or 0.
    const lowOrder = [0n, 1n, p - 1n, p, p + 1n,
      0x57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5fn,
      0x00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0n];
    for (const u of lowOrder) {
      const r = x25519(randomBytes(32), le(u));
      assert.is.not(r.rc, 0, `u = ${u.toString(16)} must be refused`);
      assert.is(nodeX25519(randomBytes(32), le(u)), undefined, `OpenSSL refuses u = ${u.toString(16)} too`);
    }
  });

  const keys = (curve: string) => Array.from({ length: 4 }, () => generateKeyPairSync('ec', { namedCurve: curve }));
  const der = (k: KeyObject) => k.export({ format: 'der', type: 'spki' }) as Buffer;

  for (const [curve, hashes] of [['P-256', ['sha256', 'sha384', 'sha512']], ['P-384', ['sha384', 'sha256']]] as const) {
    test(`${file}: ECDSA ${curve} verifies node:crypto's signatures and refuses altered ones`, () => {
      let n = 0;
      for (const { publicKey, privateKey } of keys(curve)) {
        for (const alg of hashes) {
          for (let i = 0; i < 6; i++, n++) {
            const msg = randomBytes(20 + i);
            const hash = createHash(alg).update(msg).digest();
            const sig = sign(alg, msg, privateKey);
            assert.is(verify(der(publicKey), hash, sig), 0, `${curve} ${alg} #${i}`);
            const badHash = Buffer.from(hash); badHash[i % badHash.length]! ^= 1 << (i % 8);
            assert.is(verify(der(publicKey), badHash, sig), ERR_ECP_VERIFY_FAILED, `${curve} ${alg} #${i}: altered hash`);
            const other = keys(curve)[0]!.publicKey;
            assert.is(verify(der(other), hash, sig), ERR_ECP_VERIFY_FAILED, `${curve} ${alg} #${i}: another key`);
          }
        }
      }
      assert.ok(n >= 48);
    });
  }

  test(`${file}: ECDSA P-256 refuses r or s of 0, n or more, and a key off the curve`, () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const msg = Buffer.from('range checks');
    const hash = createHash('sha256').update(msg).digest();
    const good = sign('sha256', msg, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const r = BigInt('0x' + good.subarray(0, 32).toString('hex')), s = BigInt('0x' + good.subarray(32).toString('hex'));
    const n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const int = (v: bigint) => { let h = v.toString(16); if (h.length % 2) h = '0' + h; let b = Buffer.from(h, 'hex'); if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]); return Buffer.concat([Buffer.from([2, b.length]), b]); };
    const sigDer = (rr: bigint, ss: bigint) => { const body = Buffer.concat([int(rr), int(ss)]); return Buffer.concat([Buffer.from([0x30, body.length]), body]); };
    assert.is(verify(der(publicKey), hash, sigDer(r, s)), 0);
    for (const [rr, ss] of [[0n, s], [r, 0n], [n, s], [r, n], [r + n, s], [r, s + n], [n - r, s]] as const) {
      assert.is.not(verify(der(publicKey), hash, sigDer(rr, ss)), 0, `r=${rr.toString(16)} s=${ss.toString(16)}`);
    }
    // n - s is the other valid signature for the same r (ECDSA is malleable): accepted, as OpenSSL does
    assert.is(verify(der(publicKey), hash, sigDer(r, n - s)), 0);
    const spki = Buffer.from(der(publicKey));
    spki[spki.length - 1]! ^= 1;   // y + 1 or y - 1: no longer on the curve
    assert.is.not(verify(spki, hash, sigDer(r, s)), 0);
  });

  test(`${file}: ChaCha20 matches node:crypto at every length to 600 bytes and 16 KiB, in any pieces`, () => {
    const key = randomBytes(32), nonce = randomBytes(12);
    const nodeChacha = opensslChacha(key, nonce);
    for (let len = 0; len <= 600; len += len < 300 ? 1 : 7) {
      const data = randomBytes(len), counter = len * 3;
      const want = nodeChacha(counter, data).toString('hex');
      for (const step of [0, 1, 63, 64, 65, 100, 256, 257]) {
        const got = chacha(key, nonce, counter, data, step);
        assert.is(got.rc, 0);
        assert.is(got.out.toString('hex'), want, `len ${len} step ${step}`);
      }
    }
    const big = randomBytes(16384);
    for (const step of [0, 1000, 4096, 16383]) assert.ok(chacha(key, nonce, 1, big, step).out.equals(nodeChacha(1, big)), `16 KiB step ${step}`);
  });

  const poly1305 = (key: Buffer, data: Buffer, step: number) =>
    call([key, data], 16, ([k, d], out) => x.tlsw_crypto_poly1305(k!, d!, data.length, step, out));

  test(`${file}: Poly1305 matches RFC 8439's vector and a BigInt reference, for keys and messages at the accumulator's bounds, in any pieces`, () => {
    const rfc = poly1305(Buffer.from('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b', 'hex'), Buffer.from('Cryptographic Forum Research Group'), 0);
    assert.is(rfc.rc, 0);
    assert.is(rfc.out.toString('hex'), 'a8061dc1305136c6c22b8baf0c0127a9');
    const keys = [
      randomBytes(32),
      Buffer.alloc(32, 0xff),                                      // the largest clamped r, s all ones
      Buffer.concat([Buffer.alloc(16, 0xff), Buffer.alloc(16)]),   // largest r, s = 0
      Buffer.concat([Buffer.from('01', 'hex'), Buffer.alloc(31)]), // r = 1
      Buffer.alloc(32),                                            // r = 0: the tag is s
    ];
    const messages = [Buffer.alloc(0), Buffer.alloc(16, 0xff), Buffer.alloc(17, 0xff), Buffer.alloc(1000, 0xff), Buffer.alloc(64), randomBytes(15), randomBytes(16), randomBytes(333), randomBytes(4096)];
    // Blocks of all ones push h toward 2^130 and carry through every word. With r = 1, two of
    // them leave h = 2 * (2^128 + 2^128 - 1) = 2^130 - 2, in [p, 2^130): only the final
    // subtraction of p gets that tag right.
    messages.push(Buffer.alloc(32, 0xff), Buffer.alloc(48, 0xff));
    for (const key of keys) {
      for (const msg of messages) {
        const want = poly1305Reference(key, msg).toString('hex');
        for (const step of [0, 1, 15, 16, 17, 100]) {
          if (step === 1 && msg.length > 400) continue;
          const got = poly1305(key, msg, step);
          assert.is(got.rc, 0);
          assert.is(got.out.toString('hex'), want, `key ${key.toString('hex').slice(0, 8)}.. message of ${msg.length} bytes, step ${step}`);
        }
      }
    }
  });

  /** ChaCha20-Poly1305 through the shim: sealing or opening, in pieces of `step` bytes (0: the
   * one-shot functions TLS uses), into a separate buffer or in place. */
  const aead = (o: { key: Buffer; nonce: Buffer; aad: Buffer; data: Buffer; step: number; open?: boolean; tag?: Buffer; inPlace?: boolean }) => {
    const r = call([o.key, o.nonce, o.aad, o.data, o.tag ?? Buffer.alloc(16)], o.data.length, ([k, n, a, d, t], out) => {
      const rc = x.tlsw_crypto_chachapoly(k!, n!, a!, o.aad.length, d!, o.inPlace ? d! : out, o.data.length, o.step, t!, o.open ? 1 : 0);
      const mem = (p: number, len: number) => Buffer.from(new Uint8Array(x.memory.buffer, p, len));
      return { rc, tag: mem(t!, 16), inPlace: o.inPlace ? mem(d!, o.data.length) : null };
    });
    return { rc: r.rc.rc, tag: r.rc.tag, out: r.rc.inPlace ?? r.out };
  };
  const ERR_CHACHAPOLY_AUTH_FAILED = -0x0056;
  // Lengths around the 256-byte chunks the SIMD module seals and opens in one pass (it needs
  // whole chunks at a boundary of both primitives), and pieces that leave either primitive
  // part-way through a block between calls.
  const aeadLengths = [...Array.from({ length: 100 }, (_, i) => i * 5), 255, 256, 257, 511, 512, 513, 767, 768, 769, 1023, 1024, 1025, 4109,
    ...Array.from({ length: 20 }, (_, i) => 16384 + i)];
  const aeadSteps = [0, 1, 15, 16, 17, 31, 33, 100, 256, 300, 512, 4096];

  test(`${file}: ChaCha20-Poly1305 seals and opens as node:crypto does, for any AAD and message length, in any pieces`, () => {
    aeadLengths.forEach((len, i) => {
      const key = randomBytes(32), nonce = randomBytes(12);
      const aad = randomBytes(i % 3 === 0 ? 13 : (i * 7) % 40), data = randomBytes(len);
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      c.setAAD(aad, { plaintextLength: data.length });
      const sealed = Buffer.concat([c.update(data), c.final()]), tag = c.getAuthTag();
      for (const step of aeadSteps) {
        if (step === 1 && len > 2000) continue;
        const what = `case ${i} (aad ${aad.length}, data ${len}) step ${step}`;
        const seal = aead({ key, nonce, aad, data, step });
        assert.is(seal.rc, 0, what);
        assert.ok(seal.out.equals(sealed), `ciphertext, ${what}`);
        assert.is(seal.tag.toString('hex'), tag.toString('hex'), `tag, ${what}`);
        const open = aead({ key, nonce, aad, data: sealed, step, open: true, tag });
        assert.is(open.rc, 0, `open, ${what}`);
        assert.ok(open.out.equals(data), `plaintext, ${what}`);
        if (step !== 0) assert.is(open.tag.toString('hex'), tag.toString('hex'), `tag computed while opening, ${what}`);
      }
    });
  });

  test(`${file}: ChaCha20-Poly1305 in place, and opening refuses an altered tag or ciphertext and wipes its output`, () => {
    for (const len of [0, 100, 256, 1000, 16384]) {
      const key = randomBytes(32), nonce = randomBytes(12), aad = randomBytes(13), data = randomBytes(len);
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      c.setAAD(aad, { plaintextLength: len });
      const sealed = Buffer.concat([c.update(data), c.final()]), tag = c.getAuthTag();
      for (const step of [0, 256]) {
        const seal = aead({ key, nonce, aad, data, step, inPlace: true });
        assert.ok(seal.out.equals(sealed) && seal.tag.equals(tag), `sealed in place, ${len} bytes, step ${step}`);
        const open = aead({ key, nonce, aad, data: sealed, step, open: true, tag, inPlace: true });
        assert.ok(open.rc === 0 && open.out.equals(data), `opened in place, ${len} bytes, step ${step}`);
      }
      const badTag = Buffer.from(tag); badTag[len % 16]! ^= 0x80;
      const refused = aead({ key, nonce, aad, data: sealed, step: 0, open: true, tag: badTag });
      assert.is(refused.rc, ERR_CHACHAPOLY_AUTH_FAILED, `altered tag, ${len} bytes`);
      assert.ok(refused.out.equals(Buffer.alloc(len)), 'the output is wiped');
      const badAad = Buffer.from(aad); badAad[0]! ^= 1;
      assert.is(aead({ key, nonce, aad: badAad, data: sealed, step: 0, open: true, tag }).rc, ERR_CHACHAPOLY_AUTH_FAILED, `altered AAD, ${len} bytes`);
      if (len > 0) {
        const badData = Buffer.from(sealed); badData[len - 1]! ^= 1;
        const r = aead({ key, nonce, aad, data: badData, step: 0, open: true, tag, inPlace: true });
        assert.is(r.rc, ERR_CHACHAPOLY_AUTH_FAILED, `altered ciphertext, ${len} bytes`);
        assert.ok(r.out.equals(Buffer.alloc(len)), 'the output is wiped in place too');
      }
    }
  });

  test(`${file}: the ChaCha20 block counter wraps from 2^32 - 1 to 0 (mbedTLS's behaviour), in every path`, () => {
    const key = randomBytes(32), nonce = randomBytes(12);
    const data = randomBytes(64 * 9);
    const nodeChacha = opensslChacha(key, nonce);
    // blocks 0xfffffffe, 0xffffffff, then 0 .. 6
    const want = Buffer.concat([nodeChacha(0xfffffffe, data.subarray(0, 128)), nodeChacha(0, data.subarray(128))]);
    for (const step of [0, 64, 100]) assert.ok(chacha(key, nonce, 0xfffffffe, data, step).out.equals(want), `step ${step}`);
  });

  test(`${file}: the calls leave the wasm heap where it was`, () => {
    const before = x.tlsw_alloc_count();
    x25519(randomBytes(32), randomBytes(32));
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    verify(der(publicKey), createHash('sha256').update('m').digest(), sign('sha256', Buffer.from('m'), privateKey));
    chacha(randomBytes(32), randomBytes(12), 0, randomBytes(1000), 7);
    poly1305(randomBytes(32), randomBytes(1000), 7);
    aead({ key: randomBytes(32), nonce: randomBytes(12), aad: randomBytes(13), data: randomBytes(1000), step: 0 });
    assert.is(x.tlsw_alloc_count(), before);
  });
}

test('MBEDTLS_WASM_SIMD=0 makes the Node entry load mbedtls-nosimd.wasm, and TLS with ChaCha20 works on it', async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    import * as tls from ${JSON.stringify(new URL('../src/node/index.ts', import.meta.url).href)};
    import { wasmFile } from ${JSON.stringify(new URL('../src/node/wasm-source.ts', import.meta.url).href)};
    import nodeTls from 'node:tls';
    import { readFileSync } from 'node:fs';
    const fx = (n) => readFileSync(new URL(n, ${JSON.stringify(new URL('./fixtures/', import.meta.url).href)}), 'utf8');
    const server = nodeTls.createServer({ key: fx('server-ecdsa.key'), cert: fx('server-ecdsa.crt') }, (s) => s.pipe(s));
    server.listen(0, '127.0.0.1', () => {
      const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: fx('ca-ecdsa.crt'), ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }, () => {
        const payload = Buffer.alloc(100000, 7); let got = 0;
        c.on('data', (d) => { got += d.length; if (got === payload.length) { console.log([wasmFile, c.getCipher().name, got].join(" ")); c.end(); server.close(); } });
        c.write(payload);
      });
    });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, MBEDTLS_WASM_SIMD: '0', NODE_DEBUG: '' }, encoding: 'utf8', timeout: 60000,
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'mbedtls-nosimd.wasm TLS_CHACHA20_POLY1305_SHA256 100000');
});

test.run();
