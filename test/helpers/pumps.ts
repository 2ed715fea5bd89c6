// Two pumps over an in-memory pair, each behind a FaultTransport the test scripts: the
// scheduler under test with nothing but events (no sockets, no timers).
import './setup.js';
import { TlsConfig, type SecureOptions } from '../../src/engine/config.js';
import { TlsEngine, type EngineOptions } from '../../src/engine/tls-engine.js';
import { Pump, type PumpHost, type PumpOptions } from '../../src/scheduler/pump.js';
import { FaultTransport, type FaultScript } from '../../src/transport/fault.js';
import { memoryPair } from '../../src/transport/memory.js';
import type { Transport, TransportHandlers } from '../../src/transport/transport.js';
import { pem } from './fixtures.js';

export interface Side {
  pump: Pump;
  fault: FaultTransport;
  engine: TlsEngine;
  /** Plaintext received, in order. */
  chunks: Uint8Array[];
  secure: boolean;
  peerEnded: boolean;
  closed: boolean;
  errors: Error[];
  /** Host callbacks in order, for ordering assertions. */
  log: string[];
  /** When set, onPlaintext returns this (false pauses reading). */
  accept: boolean;
  received(): Uint8Array;
  text(): string;
  /** Every byte this side has put on the wire so far (below its FaultTransport: what was sent). */
  wire(): Uint8Array;
}

export interface PumpPairOptions {
  server?: { script?: FaultScript; pump?: PumpOptions; engine?: EngineOptions; config?: SecureOptions; onSecure?: (side: Side) => void };
  client?: { script?: FaultScript; pump?: PumpOptions; engine?: EngineOptions; config?: SecureOptions; onSecure?: (side: Side) => void };
  /** Memory transport capacity per direction. */
  capacity?: number;
}

export interface PumpPair {
  client: Side;
  server: Side;
  dispose(): void;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Passes everything through and keeps a copy of what is written (the bytes on the wire). */
export class WireTap implements Transport {
  readonly sent: Uint8Array[] = [];
  constructor(private readonly inner: Transport) {}
  attach(handlers: TransportHandlers): void { this.inner.attach(handlers); }
  write(data: Uint8Array): boolean { this.sent.push(data.slice()); return this.inner.write(data); }
  end(cb?: (error?: Error) => void): void { this.inner.end(cb); }
  destroy(error?: Error): void { this.inner.destroy(error); }
  pause(): void { this.inner.pause(); }
  resume(): void { this.inner.resume(); }
  get needDrain(): boolean { return this.inner.needDrain; }
}

function makeSide(engine: TlsEngine, fault: FaultTransport, tap: WireTap, options: PumpOptions, onSecure?: (side: Side) => void): Side {
  const side = {
    fault, engine, chunks: [], secure: false, peerEnded: false, closed: false, errors: [], log: [], accept: true,
    received: () => concat(side.chunks),
    text: () => new TextDecoder().decode(concat(side.chunks)),
    wire: () => concat(tap.sent),
  } as unknown as Side;
  const host: PumpHost = {
    onSecure: () => { side.secure = true; side.log.push('secure'); onSecure?.(side); },
    onPlaintext: (d) => { side.chunks.push(d); side.log.push('data'); return side.accept; },
    onPeerEnd: () => { side.peerEnded = true; side.log.push('end'); },
    onEngineEvent: (ev) => { side.log.push(ev.type); },
    onQueueBelowHighWater: () => { side.log.push('below-hwm'); },
    onError: (e) => { side.errors.push(e); side.log.push('error'); side.pump.destroy(e); },
    onClose: () => { side.closed = true; side.log.push('close'); },
  };
  side.pump = new Pump(engine, fault, host, options);
  return side;
}

export function pumpPair(options: PumpPairOptions = {}): PumpPair {
  const serverConfig = TlsConfig.server({ ...pem.ecdsa(), ...options.server?.config });
  const clientConfig = TlsConfig.client({ ca: [pem.ca()], ...options.client?.config });
  const [a, b] = memoryPair({ capacity: options.capacity });
  const clientTap = new WireTap(a), serverTap = new WireTap(b);
  const clientFault = new FaultTransport(clientTap, options.client?.script);
  const serverFault = new FaultTransport(serverTap, options.server?.script);
  const serverEngine = new TlsEngine(serverConfig, options.server?.engine ?? {});
  const clientEngine = new TlsEngine(clientConfig, { servername: 'localhost', ...options.client?.engine });
  const server = makeSide(serverEngine, serverFault, serverTap, options.server?.pump ?? {}, options.server?.onSecure);
  const client = makeSide(clientEngine, clientFault, clientTap, options.client?.pump ?? {}, options.client?.onSecure);
  return {
    client, server,
    dispose() {
      client.pump.destroy();
      server.pump.destroy();
      clientConfig.dispose();
      serverConfig.dispose();
    },
  };
}

/** Lets queued microtasks (memory transport deliveries, pump runs) settle. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** Waits, by turning the microtask queue only, until `cond` holds (or throws after `rounds`). */
export async function until(cond: () => boolean, what: string, rounds = 100000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (cond()) return;
    await Promise.resolve();
  }
  throw new Error(`never happened: ${what}`);
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
