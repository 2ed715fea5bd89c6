// Browser side: the peers and tunnel the harness server set up (see config.ts, serve.ts).
import { REPORTED_GLOBAL, type HarnessConfig } from './config.js';

export const config = (await (await fetch('/config.json', { cache: 'no-store' })).json()) as HarnessConfig;

export function tunnelUrl(target: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${config.tunnelPath}?target=${encodeURIComponent(target)}`;
}

/**
 * Records that a case ran to the end (called after its last assertion). The runner passes the
 * names to run.ts, which fails unless every case it expects is there: a case that was never
 * registered (a peer that did not start) cannot pass unnoticed.
 */
export function reportCase(name: string): void {
  const g = globalThis as unknown as Record<string, string[] | undefined>;
  (g[REPORTED_GLOBAL] ??= []).push(name);
}
