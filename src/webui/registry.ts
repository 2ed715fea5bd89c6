/**
 * The web UI's view of its connections: one record per accepted TCP connection on either port,
 * from accept to close, with what the REST API and the dashboard show about it.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CounterValues, TLSSocket } from '../node/index.js';

export type Transport = 'tls' | 'plain';
/**
 * peeking: the HTTPS port is looking at the first bytes; handshaking; idle: open, no request in
 * flight; active: a request in flight; websocket; closing: our side ended; rejected: plaintext
 * HTTP on the HTTPS port, answered and closing; failed: the handshake failed.
 */
export type ConnState = 'peeking' | 'handshaking' | 'idle' | 'active' | 'websocket' | 'closing' | 'rejected' | 'failed';

export interface ConnRecord {
  readonly id: number;
  readonly transport: Transport;
  readonly raw: Socket;
  /** The stream HTTP runs on: the TLSSocket, or the raw socket for plain connections. */
  socket: Duplex | null;
  tls: TLSSocket | null;
  readonly openedAt: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  state: ConnState;
  requests: number;
  /** The request in flight, e.g. "GET /api/health". */
  current: string | null;
  error: string | null;
}

export interface ConnectionInfo {
  id: number;
  transport: Transport;
  remoteAddress: string | null;
  remotePort: number | null;
  state: ConnState;
  /**
   * What the connection waits for now: 'write' when it is backed up (the peer is not reading),
   * 'read' when it waits for the peer's bytes (for TLS: the pump's awaiting(), or its read
   * operation waiting for inbound bytes), 'nothing' when closed or ended.
   */
  waitingFor: 'read' | 'write' | 'nothing';
  waiting: Record<string, string | null> | null;
  protocol: string | null;
  cipher: string | null;
  alpn: string | null;
  sni: string | null;
  authorized: boolean | null;
  peerCertificate: { subject: string; fingerprint256: string } | null;
  queuedBytes: number;
  counters: Partial<CounterValues>;
  requests: number;
  current: string | null;
  error: string | null;
  ageMs: number;
}

export interface RegistryEvents {
  open: [ConnRecord];
  close: [ConnRecord];
  state: [ConnRecord];
}

export class Registry extends EventEmitter<RegistryEvents> {
  private nextId = 1;
  readonly live = new Map<number, ConnRecord>();
  private readonly bySocket = new WeakMap<object, ConnRecord>();
  readonly totals = { tls: 0, plain: 0 };
  /** Bytes of plain connections that have closed (live ones are read from their sockets). */
  private closedPlain = { bytesIn: 0, bytesOut: 0 };

  add(transport: Transport, raw: Socket, state: ConnState): ConnRecord {
    const rec: ConnRecord = {
      id: this.nextId++, transport, raw, socket: transport === 'plain' ? raw : null, tls: null,
      openedAt: Date.now(), remoteAddress: raw.remoteAddress, remotePort: raw.remotePort,
      state, requests: 0, current: null, error: null,
    };
    this.totals[transport]++;
    this.live.set(rec.id, rec);
    this.bySocket.set(raw, rec);
    raw.once('close', () => this.remove(rec));
    this.emit('open', rec);
    return rec;
  }

  attachTls(rec: ConnRecord, tls: TLSSocket): void {
    rec.tls = tls;
    rec.socket = tls;
    this.bySocket.set(tls, rec);
  }

  of(socket: object | null | undefined): ConnRecord | undefined {
    return socket ? this.bySocket.get(socket) : undefined;
  }

  setState(rec: ConnRecord, state: ConnState): void {
    if (rec.state === state || !this.live.has(rec.id)) return;
    // Terminal-ish states are not undone by late HTTP events.
    if ((rec.state === 'closing' || rec.state === 'failed' || rec.state === 'rejected') && state !== 'failed') return;
    rec.state = state;
    this.emit('state', rec);
  }

  private remove(rec: ConnRecord): void {
    if (!this.live.delete(rec.id)) return;
    if (rec.transport === 'plain') {
      this.closedPlain.bytesIn += rec.raw.bytesRead;
      this.closedPlain.bytesOut += rec.raw.bytesWritten;
    }
    this.emit('close', rec);
  }

  openCounts(): { tls: number; plain: number } {
    const n = { tls: 0, plain: 0 };
    for (const r of this.live.values()) n[r.transport]++;
    return n;
  }

  plainBytes(): { bytesIn: number; bytesOut: number } {
    let { bytesIn, bytesOut } = this.closedPlain;
    for (const r of this.live.values()) {
      if (r.transport !== 'plain') continue;
      bytesIn += r.raw.bytesRead;
      bytesOut += r.raw.bytesWritten;
    }
    return { bytesIn, bytesOut };
  }

  info(rec: ConnRecord, now = Date.now()): ConnectionInfo {
    const t = rec.tls;
    const secure = t !== null && !t.pending && !t.destroyed;
    let cert: ConnectionInfo['peerCertificate'] = null;
    if (secure && t.engine && !t.engine.disposed) {
      try {
        const c = t.getPeerCertificate();
        if (c && 'fingerprint256' in c && c.fingerprint256) {
          cert = { subject: Object.entries(c.subject).map(([k, v]) => `${k}=${String(v)}`).join(', '), fingerprint256: c.fingerprint256 };
        }
      } catch {
        cert = null;
      }
    }
    let waitingFor: ConnectionInfo['waitingFor'];
    let waiting: ConnectionInfo['waiting'] = null;
    let counters: Partial<CounterValues>;
    let queued: number;
    if (t) {
      waiting = t.pump.isDead ? null : { ...t.pump.waiting() };
      // The pump's awaiting() covers the pending operations (handshake, writes, close); a
      // connection with none of those that is still reading waits for the peer's next bytes.
      const pending = t.pump.awaiting();
      waitingFor = pending !== 'nothing' ? pending
        : waiting?.read === 'inbound' && !t.readableEnded ? 'read' : 'nothing';
      counters = t.pump.counters.snapshot();
      queued = t.pump.queuedBytes + t.writableLength;
    } else {
      const raw = rec.raw;
      // Backed up: the peer is not reading. Otherwise an open socket whose peer has not ended
      // waits for the peer's next bytes (the next request on an idle keep-alive connection).
      waitingFor = raw.destroyed ? 'nothing' : raw.writableNeedDrain ? 'write' : raw.readableEnded ? 'nothing' : 'read';
      counters = { bytesIn: raw.bytesRead, bytesOut: raw.bytesWritten };
      queued = raw.writableLength;
    }
    return {
      id: rec.id,
      transport: rec.transport,
      remoteAddress: rec.remoteAddress ?? null,
      remotePort: rec.remotePort ?? null,
      state: rec.state,
      waitingFor,
      waiting,
      protocol: secure ? t.getProtocol() : null,
      cipher: secure ? t.getCipher()?.name ?? null : null,
      alpn: secure ? t.alpnProtocol || null : null,
      sni: secure ? t.servername || null : null,
      authorized: secure ? t.authorized : null,
      peerCertificate: cert,
      queuedBytes: queued,
      counters,
      requests: rec.requests,
      current: rec.current,
      error: rec.error,
      ageMs: now - rec.openedAt,
    };
  }

  list(): ConnectionInfo[] {
    const now = Date.now();
    return [...this.live.values()].map((r) => this.info(r, now));
  }
}
