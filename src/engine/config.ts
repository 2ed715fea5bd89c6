/**
 * TlsConfig: node:tls-style options validated and turned into one mbedTLS configuration in wasm.
 *
 * A config is shared by every connection made from it (a server's connections, or a client's
 * reconnects). It is Disposable; disposing it drops the JS owner's reference, and the wasm side
 * frees it only when the last connection using it is freed as well, so configs outlive their
 * connections whatever the order of dispose() calls. Invalid options throw a TlsError with code
 * ERR_TLS_INVALID_OPTION naming the option; nothing is left allocated in that case.
 */
import { fromMbedtls, invalidOption, misuse, TlsError } from '../errors/tls-error.js';
import type { CfgPtr } from '../wasm/ffi.js';
import { lib, type WasmLib } from '../wasm/module.js';
import { parseCipherList, parseGroupList, VERSIONS, type TlsVersion } from './ciphers.js';
import type { PeerCertificate } from './x509.js';

/** PEM text, as a string or bytes (a node Buffer is a Uint8Array). */
export type PemInput = string | Uint8Array;
export interface KeyInput { pem: PemInput; passphrase?: string }

export type CheckServerIdentity = (hostname: string, cert: PeerCertificate) => Error | undefined;

export interface CertificateOptions {
  /** Private key(s), PEM; one per certificate chain in `cert`. */
  key?: PemInput | Array<PemInput | KeyInput>;
  /** Certificate chain(s), PEM, leaf first; one per key. */
  cert?: PemInput | PemInput[];
  /** Passphrase for encrypted keys (PKCS#8 PBES2 or legacy PEM encryption). */
  passphrase?: string;
}

export interface SecureOptions extends CertificateOptions {
  /** Trusted CA certificates (PEM). Clients without `ca` trust nothing at this layer. */
  ca?: PemInput | PemInput[];
  /** Server: ask for a client certificate. */
  requestCert?: boolean;
  /** Client (default true) / server with requestCert (default true): fail on verification errors. */
  rejectUnauthorized?: boolean;
  checkServerIdentity?: CheckServerIdentity;
  /** ALPN protocol names in preference order. */
  ALPNProtocols?: string[] | Uint8Array;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** Ciphersuites in preference order, IANA or OpenSSL names separated by ':'. */
  ciphers?: string;
  /** Key exchange groups: "X25519:P-256:P-384" or "auto". */
  ecdhCurve?: string;
  /**
   * Server: session ticket lifetime in seconds (default 300, as node); 0 disables tickets.
   * Servers with `requestCert` issue no tickets (see the constructor).
   */
  sessionTimeout?: number;
  /** Server: certificates per server name (exact or "*.example.com"), chosen by the client's SNI. */
  sniCertificates?: Record<string, CertificateOptions>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function pemBytes(v: PemInput, option: string): Uint8Array {
  if (typeof v === 'string') return encoder.encode(v);
  if (v instanceof Uint8Array) return v;
  throw invalidOption(option, `expected a PEM string or Buffer, got ${typeName(v)}`);
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function concatPem(list: PemInput[], option: string): Uint8Array {
  const parts = list.map((p) => pemBytes(p, option));
  const total = parts.reduce((n, p) => n + p.length + 1, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; out[off++] = 0x0a; }
  return out;
}

function checkBool(o: Record<string, unknown>, name: string): void {
  if (o[name] !== undefined && typeof o[name] !== 'boolean') throw invalidOption(name, `expected a boolean, got ${typeName(o[name])}`);
}

function alpnList(v: string[] | Uint8Array): string[] {
  if (v instanceof Uint8Array) {
    // node's wire format: length-prefixed names
    const names: string[] = [];
    for (let i = 0; i < v.length;) {
      const n = v[i]!;
      if (n === 0 || i + 1 + n > v.length) throw invalidOption('ALPNProtocols', 'malformed length-prefixed protocol list');
      names.push(new TextDecoder().decode(v.subarray(i + 1, i + 1 + n)));
      i += 1 + n;
    }
    return names;
  }
  if (!Array.isArray(v)) throw invalidOption('ALPNProtocols', `expected an array of strings, got ${typeName(v)}`);
  for (const p of v) {
    if (typeof p !== 'string' || p.length === 0 || encoder.encode(p).length > 255) {
      throw invalidOption('ALPNProtocols', 'each protocol must be a non-empty string of at most 255 bytes');
    }
  }
  return v;
}

export class TlsConfig implements Disposable {
  readonly isServer: boolean;
  readonly rejectUnauthorized: boolean;
  readonly requestCert: boolean;
  readonly checkServerIdentity: CheckServerIdentity | undefined;
  readonly alpnProtocols: readonly string[];
  readonly hasCertificate: boolean;
  private cfg: CfgPtr;
  /** The wasm library this config lives in (engines made from it use the same). */
  readonly lib: WasmLib;

  private constructor(isServer: boolean, options: SecureOptions) {
    if (options === null || typeof options !== 'object') throw invalidOption('options', `expected an object, got ${typeName(options)}`);
    const o = options as Record<string, unknown>;
    for (const b of ['requestCert', 'rejectUnauthorized']) checkBool(o, b);
    if (options.checkServerIdentity !== undefined && typeof options.checkServerIdentity !== 'function') {
      throw invalidOption('checkServerIdentity', 'expected a function');
    }
    if (options.passphrase !== undefined && typeof options.passphrase !== 'string') throw invalidOption('passphrase', 'expected a string');
    this.isServer = isServer;
    this.requestCert = isServer ? options.requestCert === true : false;
    this.rejectUnauthorized = options.rejectUnauthorized !== false;
    this.checkServerIdentity = options.checkServerIdentity;
    this.alpnProtocols = options.ALPNProtocols !== undefined ? alpnList(options.ALPNProtocols) : [];

    let min = 0x0303, max = 0x0304;
    for (const [name, value] of [['minVersion', options.minVersion], ['maxVersion', options.maxVersion]] as const) {
      if (value !== undefined && !(value in VERSIONS)) {
        throw invalidOption(name, `"${String(value)}" is not supported (use 'TLSv1.2' or 'TLSv1.3')`);
      }
    }
    if (options.minVersion) min = VERSIONS[options.minVersion];
    if (options.maxVersion) max = VERSIONS[options.maxVersion];
    if (min > max) throw invalidOption('minVersion', `minVersion ${options.minVersion} is above maxVersion ${options.maxVersion}`);

    let suiteIds: number[] | undefined;
    if (options.ciphers !== undefined) {
      if (typeof options.ciphers !== 'string') throw invalidOption('ciphers', 'expected a string');
      const parsed = parseCipherList(options.ciphers);
      if ('unknown' in parsed) throw invalidOption('ciphers', `unknown or unsupported ciphersuite "${parsed.unknown}"`);
      if (parsed.suites.length === 0) throw invalidOption('ciphers', 'no ciphersuite named');
      // Restrict the protocol range to the versions the chosen suites exist in.
      const has13 = parsed.suites.some((s) => s.version === 'TLSv1.3');
      const has12 = parsed.suites.some((s) => s.version === 'TLSv1.2');
      if (!has13) max = Math.min(max, 0x0303);
      if (!has12) min = Math.max(min, 0x0304);
      if (min > max) throw invalidOption('ciphers', 'no named ciphersuite belongs to the allowed protocol versions');
      suiteIds = parsed.suites.map((s) => s.id);
    }
    let groupIds: number[] | undefined;
    if (options.ecdhCurve !== undefined) {
      if (typeof options.ecdhCurve !== 'string') throw invalidOption('ecdhCurve', 'expected a string');
      const parsed = parseGroupList(options.ecdhCurve);
      if ('unknown' in parsed) throw invalidOption('ecdhCurve', `unknown or unsupported group "${parsed.unknown}"`);
      if (parsed.groups.length === 0) throw invalidOption('ecdhCurve', 'no group named');
      groupIds = parsed.groups.map((g) => g.id);
    }
    if (options.sessionTimeout !== undefined &&
        (typeof options.sessionTimeout !== 'number' || !Number.isInteger(options.sessionTimeout) || options.sessionTimeout < 0)) {
      throw invalidOption('sessionTimeout', 'expected a non-negative integer number of seconds');
    }

    this.lib = lib();
    const x = this.lib.x;
    const cfg = x.tlsw_cfg_new(isServer ? 1 : 0);
    if (cfg === 0) throw new TlsError('ERR_TLS_ALLOC_FAILED', 'local', 'could not allocate a TLS configuration');
    this.cfg = cfg;
    try {
      this.check(x.tlsw_cfg_set_versions(cfg, min, max), 'minVersion');
      if (suiteIds) this.check(this.withInts(suiteIds, (p, n) => x.tlsw_cfg_set_ciphersuites(cfg, p, n)), 'ciphers');
      if (groupIds) this.check(this.withInts(groupIds, (p, n) => x.tlsw_cfg_set_groups(cfg, p, n)), 'ecdhCurve');
      if (this.alpnProtocols.length > 0) {
        if (this.alpnProtocols.length > 16) throw invalidOption('ALPNProtocols', 'at most 16 protocols');
        const buf = concatNul(this.alpnProtocols);
        this.check(this.lib.withBytes(buf, (p, len) => x.tlsw_cfg_set_alpn(cfg, p, len, this.alpnProtocols.length)), 'ALPNProtocols');
      }
      if (options.ca !== undefined) {
        const list = asArray(options.ca);
        // mbedTLS skips text without PEM armour; as each entry is meant to be a CA, say so.
        list.forEach((entry, i) => {
          if (!decoder.decode(pemBytes(entry, 'ca')).includes('-----BEGIN CERTIFICATE-----')) {
            throw invalidOption('ca', `entry ${i} holds no PEM certificate`);
          }
        });
        if (list.length > 0) {
          const pem = concatPem(list, 'ca');
          this.check(this.lib.withBytes(pem, (p, len) => x.tlsw_cfg_set_ca(cfg, p, len), true), 'ca');
        }
      }
      this.hasCertificate = this.addCertificates(options, 'key', 'cert', null);
      if (isServer) {
        const sni = options.sniCertificates;
        if (sni !== undefined) {
          if (sni === null || typeof sni !== 'object') throw invalidOption('sniCertificates', 'expected an object of server name → { key, cert }');
          for (const [name, certs] of Object.entries(sni)) this.addContext(name, certs);
        }
        // Servers that request client certificates issue no tickets: mbedTLS's TLS 1.3 tickets
        // cannot carry the client's certificate, so a resumed connection could not tell who
        // the client is (authorized false, no peer certificate) although it proved it before.
        // Every connection then does a full handshake with client authentication.
        this.check(x.tlsw_cfg_set_tickets(cfg, this.requestCert ? 0 : options.sessionTimeout ?? 300), 'sessionTimeout');
        // requestCert: required when rejecting unauthorized clients, optional otherwise.
        this.check(x.tlsw_cfg_set_authmode(cfg, this.requestCert ? (this.rejectUnauthorized ? 2 : 1) : 0), 'requestCert');
      }
    } catch (e) {
      x.tlsw_cfg_free(cfg);
      this.cfg = 0 as CfgPtr;
      throw e;
    }
  }

  static client(options: SecureOptions = {}): TlsConfig {
    return new TlsConfig(false, options);
  }

  static server(options: SecureOptions = {}): TlsConfig {
    return new TlsConfig(true, options);
  }

  /** Server: adds certificates used when the client's SNI matches `servername` (or "*.domain"). */
  addContext(servername: string, certs: CertificateOptions): void {
    void this.ptr; // throws after dispose(): never hand a freed (NULL) config to the shim
    if (!this.isServer) throw invalidOption('servername', 'addContext is for server configs');
    if (typeof servername !== 'string' || servername.length === 0 || servername.length > 253) {
      throw invalidOption('servername', 'expected a host name');
    }
    if (!this.addCertificates(certs, 'key', 'cert', servername)) {
      throw invalidOption('cert', `no certificate given for "${servername}"`);
    }
  }

  /** The wasm pointer; throws after dispose(). */
  get ptr(): CfgPtr {
    if (this.cfg === 0) throw misuse('ERR_TLS_DISPOSED', 'TlsConfig used after dispose()');
    return this.cfg;
  }

  get disposed(): boolean {
    return this.cfg === 0;
  }

  dispose(): void {
    if (this.cfg === 0) return;
    this.lib.x.tlsw_cfg_free(this.cfg);
    this.cfg = 0 as CfgPtr;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  private addCertificates(options: CertificateOptions, keyName: string, certName: string, servername: string | null): boolean {
    const certs = asArray(options.cert);
    const keys = asArray(options.key);
    if (certs.length === 0 && keys.length === 0) return false;
    if (certs.length !== keys.length) {
      throw invalidOption(certs.length < keys.length ? certName : keyName,
        `${certs.length} certificate chain(s) but ${keys.length} key(s): give one key per chain`);
    }
    const x = this.lib.x;
    for (let i = 0; i < certs.length; i++) {
      const k = keys[i]!;
      const keyInput: KeyInput = typeof k === 'string' || k instanceof Uint8Array ? { pem: k } : k;
      if (keyInput === null || typeof keyInput !== 'object' || keyInput.pem === undefined) throw invalidOption(keyName, 'expected PEM or { pem, passphrase }');
      const pass = keyInput.passphrase ?? options.passphrase;
      const certPem = concatPem([certs[i]!], certName);
      const keyPem = concatPem([keyInput.pem], keyName);
      const passBytes = pass !== undefined ? encoder.encode(pass) : new Uint8Array(0);
      const rc = this.lib.withBytes(certPem, (cp, cl) =>
        this.lib.withBytes(keyPem, (kp, kl) =>
          this.lib.withBytes(passBytes, (pp, pl) =>
            this.lib.withCString(servername, (sn) => x.tlsw_cfg_add_cert(this.ptr, cp, cl, kp, kl, pp, pl, sn)), false, true),
        true, true), true);
      if (rc !== 0) {
        const err = fromMbedtls(rc, (c) => this.lib.strerror(c), 'certificate/key');
        const mismatch = err.code === 'ERR_TLS_KEY_MISMATCH';
        // The shim parses the certificate first, then the key; PEM errors (and only those codes)
        // come from either, so ask mbedTLS about the certificate on its own to know which.
        const certBad = !mismatch && !this.certificateParses(certPem);
        // Wrong or missing passphrase: mbedTLS says so (PEM / PK password codes), or, for an
        // encrypted key, a wrong passphrase decrypts to bytes that do not parse as a key.
        const passwordCode = [-0x1300, -0x1380, -0x3B80, -0x3C00].includes(rc);
        const passphraseBad = !mismatch && !certBad && (passwordCode || isEncryptedKey(keyPem));
        const option = certBad ? certName : passphraseBad && keyInput.passphrase === undefined ? 'passphrase' : keyName;
        const what = mismatch ? 'the private key does not match the certificate'
          : passphraseBad ? `${pass === undefined || pass === '' ? 'missing' : 'wrong'} passphrase for the encrypted key`
          : err.message;
        throw new TlsError(mismatch ? err.code : 'ERR_TLS_INVALID_OPTION', 'local',
          `Invalid option "${option}": ${what}`, { option, mbedtlsCode: rc, mbedtlsMessage: err.mbedtlsMessage, cause: err });
      }
    }
    return true;
  }

  /** Whether mbedTLS parses `pem` (NUL-terminated) as certificates, in a scratch config. */
  private certificateParses(pem: Uint8Array): boolean {
    const x = this.lib.x;
    const tmp = x.tlsw_cfg_new(0);
    if (tmp === 0) return true;
    try {
      return this.lib.withBytes(pem, (p, len) => x.tlsw_cfg_set_ca(tmp, p, len), true) === 0;
    } finally {
      x.tlsw_cfg_free(tmp);
    }
  }

  private check(rc: number, option: string): void {
    if (rc === 0) return;
    const err = fromMbedtls(rc, (c) => this.lib.strerror(c), option);
    throw new TlsError('ERR_TLS_INVALID_OPTION', 'local', `Invalid option "${option}": ${err.mbedtlsMessage}`,
      { option, mbedtlsCode: rc, mbedtlsMessage: err.mbedtlsMessage, cause: err });
  }

  private withInts(values: number[], fn: (p: never, n: number) => number): number {
    const bytes = new Uint8Array(values.length * 4);
    const dv = new DataView(bytes.buffer);
    values.forEach((v, i) => dv.setInt32(i * 4, v, true));
    return this.lib.withBytes(bytes, (p) => fn(p as never, values.length));
  }
}

/** PKCS#8 EncryptedPrivateKeyInfo or traditional PEM encryption ("Proc-Type: 4,ENCRYPTED"). */
function isEncryptedKey(pem: Uint8Array): boolean {
  const text = decoder.decode(pem.subarray(0, 4096));
  return text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || /Proc-Type:\s*4,\s*ENCRYPTED/.test(text);
}

function concatNul(names: readonly string[]): Uint8Array {
  const parts = names.map((n) => encoder.encode(n));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length + 1; }
  return out;
}
