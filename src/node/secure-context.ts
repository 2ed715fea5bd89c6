/**
 * SecureContext: node:tls's reusable bundle of TLS options. Ours holds up to two TlsConfigs
 * (client role, server role), made on first use, and frees them on dispose(). Clients with no
 * `ca` trust node's bundled root certificates, as node:tls does.
 */
import { rootCertificates } from 'node:tls';
import { TlsConfig, type PemInput, type SecureOptions } from '../engine/config.js';
import { parseCertificateInfo, pemToDerList, type CertificateInfo } from '../engine/x509.js';
import './wasm-source.js';

export class SecureContext implements Disposable {
  private client: TlsConfig | null = null;
  private server: TlsConfig | null = null;
  private disposed = false;
  private anchors: { client?: CertificateInfo[]; server?: CertificateInfo[] } = {};
  private readonly own = new Map<string, Uint8Array | null>();

  constructor(readonly options: SecureOptions) {
    // Validate eagerly, as node does: a bad option throws here, not at the first connection.
    if (options.key !== undefined || options.cert !== undefined) this.config(true);
  }

  config(isServer: boolean): TlsConfig {
    if (this.disposed) throw new Error('SecureContext used after dispose()');
    if (isServer) {
      this.server ??= TlsConfig.server(this.options);
      return this.server;
    }
    if (!this.client) {
      const opts = this.options.ca === undefined ? { ...this.options, ca: [...rootCertificates] } : this.options;
      this.client = TlsConfig.client(opts);
    }
    return this.client;
  }

  /**
   * The CA certificates this context trusts in a role, parsed (for getPeerCertificate(true),
   * which names the trusted root a peer did not send). Clients without `ca` trust node's
   * bundled roots. Entries that do not parse are left out: mbedTLS has accepted them, and a
   * missing issuer only shortens the reported chain. Reads options only, so it keeps working
   * after dispose() for sockets that outlive their context.
   */
  trustAnchors(isServer: boolean): readonly CertificateInfo[] {
    const role = isServer ? 'server' : 'client';
    const cached = this.anchors[role];
    if (cached) return cached;
    const ca = this.options.ca ?? (isServer ? [] : rootCertificates);
    const out: CertificateInfo[] = [];
    for (const entry of (Array.isArray(ca) ? ca : [ca]) as PemInput[]) {
      try {
        for (const der of pemToDerList(entry)) out.push(parseCertificateInfo(der));
      } catch { /* see above */ }
    }
    this.anchors[role] = out;
    return out;
  }

  /**
   * DER of the local certificate a connection presents (getCertificate()): the leaf of the
   * first `cert` chain, or of the sniCertificates entry the client's server name selects
   * (exact name, then "*.parent"), as the shim picks them. null when there is none.
   */
  ownCertificate(servername?: string | null): Uint8Array | null {
    const sni = this.options.sniCertificates;
    const name = servername?.toLowerCase();
    let chosen = this.options.cert;
    if (sni && name) {
      const wildcard = name.includes('.') ? `*${name.slice(name.indexOf('.'))}` : undefined;
      const hit = Object.entries(sni).find(([k]) => k.toLowerCase() === name)
        ?? (wildcard ? Object.entries(sni).find(([k]) => k.toLowerCase() === wildcard) : undefined);
      if (hit?.[1].cert !== undefined) chosen = hit[1].cert;
    }
    const key = chosen === this.options.cert ? '' : name ?? '';
    if (this.own.has(key)) return this.own.get(key)!;
    let der: Uint8Array | null = null;
    const first = Array.isArray(chosen) ? chosen[0] : chosen;
    if (first !== undefined) {
      try { der = pemToDerList(first)[0] ?? null; } catch { der = null; }
    }
    this.own.set(key, der);
    return der;
  }

  dispose(): void {
    this.disposed = true;
    this.client?.dispose();
    this.server?.dispose();
    this.client = this.server = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export function createSecureContext(options: SecureOptions = {}, isServer?: boolean): SecureContext {
  const ctx = new SecureContext(options);
  if (isServer !== undefined) ctx.config(isServer);
  return ctx;
}
