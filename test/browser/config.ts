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
  /** A port nothing listens on and that is not on the allow-list. */
  forbiddenTarget: string;
}
