// Browser side: the peers and tunnel the harness server set up (see config.ts, serve.ts).
import type { HarnessConfig } from './config.js';

export const config = (await (await fetch('/config.json', { cache: 'no-store' })).json()) as HarnessConfig;

export function tunnelUrl(target: string): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${config.tunnelPath}?target=${encodeURIComponent(target)}`;
}
