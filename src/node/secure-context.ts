/**
 * SecureContext: node:tls's reusable bundle of TLS options. Ours holds up to two TlsConfigs
 * (client role, server role), made on first use, and frees them on dispose(). Clients with no
 * `ca` trust node's bundled root certificates, as node:tls does.
 */
import { rootCertificates } from 'node:tls';
import { TlsConfig, type SecureOptions } from '../engine/config.js';
import './wasm-source.js';

export class SecureContext implements Disposable {
  private client: TlsConfig | null = null;
  private server: TlsConfig | null = null;
  private disposed = false;

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
