/**
 * connect(): node:tls's client entry point. Accepts connect(options[, cb]) and
 * connect(port[, host][, options][, cb]); opens a TCP connection unless `socket` is given.
 */
import net from 'node:net';
import type { SecureOptions } from '../engine/config.js';
import { invalidOption } from '../errors/tls-error.js';
import type { SecureContext } from './secure-context.js';
import { TLSSocket } from './tls-socket.js';

export interface ConnectionOptions extends SecureOptions {
  host?: string;
  port?: number;
  socket?: import('node:stream').Duplex;
  servername?: string;
  session?: Uint8Array;
  secureContext?: SecureContext;
  timeout?: number;
  allowHalfOpen?: boolean;
  highWaterMark?: number;
  family?: number;
  localAddress?: string;
  /** Advanced: the engine's outbound ciphertext limit (see TLSSocketOptions). */
  outboundLimit?: number;
}

type Cb = () => void;

export function connect(...args: unknown[]): TLSSocket {
  let options: ConnectionOptions = {};
  let cb: Cb | undefined;
  const rest = [...args];
  if (typeof rest[rest.length - 1] === 'function') cb = rest.pop() as Cb;
  if (typeof rest[0] === 'number' || (typeof rest[0] === 'string' && /^\d+$/.test(rest[0]))) {
    options.port = Number(rest.shift());
    if (typeof rest[0] === 'string') options.host = rest.shift() as string;
    if (rest[0] && typeof rest[0] === 'object') options = { ...(rest.shift() as ConnectionOptions), ...options };
  } else if (rest[0] && typeof rest[0] === 'object') {
    options = rest[0] as ConnectionOptions;
  } else if (rest.length > 0) {
    throw invalidOption('options', 'expected connect(options[, cb]) or connect(port[, host][, options][, cb])');
  }
  const host = options.host ?? 'localhost';
  let raw = options.socket;
  if (!raw) {
    if (options.port === undefined || !Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw invalidOption('port', `expected a port number, got ${String(options.port)}`);
    }
    // The TLS layer decides when to end the TCP stream (after close_notify): the raw socket must
    // not send its FIN by itself when the peer's arrives.
    raw = net.connect({ host, port: options.port, family: options.family, localAddress: options.localAddress, allowHalfOpen: true });
  }
  const socket = new TLSSocket(raw, {
    ...options,
    isServer: false,
    host,
    servername: options.servername ?? (net.isIP(host) ? undefined : host),
    handshakeTimeout: 0,
  });
  if (options.timeout) socket.setTimeout(options.timeout);
  if (cb) socket.once('secureConnect', cb);
  return socket;
}
