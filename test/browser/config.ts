// What the harness server tells the page (GET /config.json): the peers the runner started for
// tests/browser/tls-tunnel.spec.ts, all reachable through the tunnel at `tunnelPath`.
export interface HarnessPeer {
  /** e.g. "openssl s_server -tls1_3" or "node createServer TLSv1.2". */
  name: string;
  kind: 'openssl' | 'node';
  version: 'TLSv1.2' | 'TLSv1.3';
  /** host:port, allowed on the tunnel. */
  target: string;
}

export interface HarnessConfig {
  tunnelPath: string;
  peers: HarnessPeer[];
  /** Peers that could not be started, with why (e.g. no openssl on PATH). */
  missing: string[];
  /**
   * MBEDTLS_WASM_SKIP_INTEROP=1 was set: missing openssl peers are accepted. Otherwise run.ts
   * fails when any of the four peers (node and openssl, TLS 1.2 and 1.3) is missing.
   */
  skipInterop: boolean;
  /** A port nothing listens on and that is not on the allow-list. */
  forbiddenTarget: string;
}

/** The global the page's runner collects reportCase() names in (see harness-config.ts). */
export const REPORTED_GLOBAL = '__harnessReported';

/** The name a tls-tunnel.spec.ts peer case reports once it has passed; run.ts checks them. */
export function peerCaseName(peer: HarnessPeer): string {
  return `tls-tunnel: ${peer.kind} ${peer.version}`;
}
