/**
 * `mbedtls-wasm serve`: the web UI server (HTTPS through mbedTLS-in-wasm, plus plain HTTP).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaultDataDir, formatName, loadCa, loadIdentity, selfSignedIdentity, type ServerIdentity } from '../webui/certs.js';
import { hostPort } from '../webui/http-util.js';
import { DEFAULTS, MAX_DOWNLOAD, WebServer, type Address } from '../webui/server.js';
import { EXIT, fail, intOption, paint, parse, sizeOption, UsageError, version } from './common.js';

export const SERVE_HELP = `Usage: mbedtls-wasm serve [options]

Serves the web UI and its REST API over HTTPS (TLS 1.2/1.3 by mbedTLS in WebAssembly) and plain
HTTP. Without --cert, a self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1 is
made on first start and reused from the data directory.

Options:
  --host ADDR              address to listen on (default ${DEFAULTS.host})
  --port N                 HTTPS port (default ${DEFAULTS.port}; 0 picks a free one)
  --http-port N            plain HTTP port (default ${DEFAULTS.httpPort}; 0 picks a free one)
  --no-http                no plain HTTP port
  --cert FILE --key FILE   PEM certificate chain and private key to serve
  --ca FILE                CA bundle for client certificates (with --request-cert)
  --request-cert           require a client certificate signed by --ca (mutual TLS)
  --data-dir DIR           where the generated certificate is kept, made 0700 with the key
                           0600; a directory every user can write to is refused
                           (default $XDG_STATE_HOME/mbedtls-wasm or ~/.local/state/mbedtls-wasm)
  --keylog FILE            append NSS key log lines (for Wireshark); also $SSLKEYLOGFILE
  --drain-ms N             on shutdown, let responses drain this long (default ${DEFAULTS.drainMs})
  --echo-limit BYTES       largest POST /api/echo body (default 1m; k/m/g suffixes)
  --handshake-timeout MS   time from connect to a complete TLS handshake (default ${DEFAULTS.handshakeTimeout})
  --headers-timeout MS     time to send the request headers (default ${DEFAULTS.headersTimeout})
  --request-timeout MS     time to send a whole request (default ${DEFAULTS.requestTimeout})
  --keep-alive-timeout MS  idle keep-alive connections close after this (default ${DEFAULTS.keepAliveTimeout})
  --idle-timeout MS        close a connection with no progress for this long (default ${DEFAULTS.idleTimeout})
  --max-header-size BYTES  request header limit, 431 beyond it (default 16k)
  --check-interval MS      how often header/request timeouts are checked (default ${DEFAULTS.connectionsCheckingInterval})
  --no-dashboard           serve the API only
  -h, --help               this help

Endpoints: / (dashboard), /ws (WebSocket: events, stats every second, echo), GET /api/health,
GET /api/stats, GET /api/connections, GET /api/connections/:id, GET /api/download?bytes=N
(at most 1 GiB), POST /api/echo.

Prints "listening https=HOST:PORT http=HOST:PORT" (http=off with --no-http) once ready.
SIGINT/SIGTERM: stop accepting, close WebSockets (1001), drain for --drain-ms, exit 0.
A second signal exits at once with code 130.
`;

const OPTIONS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'http-port': { type: 'string' },
  'no-http': { type: 'boolean' },
  cert: { type: 'string' },
  key: { type: 'string' },
  ca: { type: 'string' },
  'request-cert': { type: 'boolean' },
  'data-dir': { type: 'string' },
  keylog: { type: 'string' },
  'drain-ms': { type: 'string' },
  'echo-limit': { type: 'string' },
  'handshake-timeout': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
  'keep-alive-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-header-size': { type: 'string' },
  'check-interval': { type: 'string' },
  'no-dashboard': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HOUR = 3_600_000;

/** Opens the key log for appending (0600 when it is made here). */
function openKeylog(path: string): number {
  try {
    return openSync(resolve(path), 'a', 0o600);
  } catch (e) {
    throw new UsageError(`cannot open key log file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function serve(args: string[]): Promise<void> {
  const { values } = parse('serve', args, OPTIONS, false);
  if (values.help) { process.stdout.write(SERVE_HELP); return; }
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  if (values['request-cert'] && values.ca === undefined) throw new UsageError('--request-cert needs --ca FILE (the CA that signs client certificates)');
  if (values['no-http'] && values['http-port'] !== undefined) throw new UsageError('--no-http and --http-port contradict each other');
  const port = intOption('port', values.port, 0, 65535) ?? DEFAULTS.port;
  const httpPort = values['no-http'] ? null : intOption('http-port', values['http-port'], 0, 65535) ?? DEFAULTS.httpPort;
  const drainMs = intOption('drain-ms', values['drain-ms'], 0, HOUR) ?? DEFAULTS.drainMs;
  const opts = {
    handshakeTimeout: intOption('handshake-timeout', values['handshake-timeout'], 1, HOUR),
    headersTimeout: intOption('headers-timeout', values['headers-timeout'], 1, HOUR),
    requestTimeout: intOption('request-timeout', values['request-timeout'], 0, HOUR),
    keepAliveTimeout: intOption('keep-alive-timeout', values['keep-alive-timeout'], 1, HOUR),
    idleTimeout: intOption('idle-timeout', values['idle-timeout'], 0, 24 * HOUR),
    connectionsCheckingInterval: intOption('check-interval', values['check-interval'], 1, HOUR),
    maxHeaderSize: sizeOption('max-header-size', values['max-header-size'], 1024 * 1024),
    echoLimit: sizeOption('echo-limit', values['echo-limit'], MAX_DOWNLOAD),
  };
  const headersTimeout = opts.headersTimeout ?? DEFAULTS.headersTimeout;
  const requestTimeout = opts.requestTimeout ?? DEFAULTS.requestTimeout;
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    throw new UsageError(`--headers-timeout (${headersTimeout}) must not exceed --request-timeout (${requestTimeout})`);
  }

  const out = paint(process.stdout);
  let identity: ServerIdentity;
  let dataDir: string | undefined;
  if (values.cert !== undefined && values.key !== undefined) {
    identity = loadIdentity(resolve(values.cert), resolve(values.key));
  } else {
    dataDir = resolve(values['data-dir'] ?? defaultDataDir());
    identity = selfSignedIdentity(dataDir);
  }
  const ca = values.ca !== undefined ? loadCa(resolve(values.ca)) : undefined;

  const keylogPath = values.keylog ?? (process.env.SSLKEYLOGFILE || undefined);
  const fd = keylogPath ? openKeylog(keylogPath) : null;
  const ver = version();

  const server = await WebServer.start({
    key: identity.key,
    cert: identity.cert,
    ca,
    requestCert: values['request-cert'] === true,
    host: values.host ?? DEFAULTS.host,
    port,
    httpPort,
    drainMs,
    ...opts,
    keylog: fd === null ? undefined : (line) => { try { writeSync(fd, line); } catch { /* disk full: keep serving */ } },
    dashboard: values['no-dashboard'] !== true,
    version: ver,
    log: (line) => process.stderr.write(`${line}\n`),
  });

  const https = server.httpsAddress!;
  const http = server.httpAddress;
  // A wildcard address is reached as localhost.
  const urlHostPort = (a: Address) => hostPort(a.host === '0.0.0.0' || a.host === '::' ? { ...a, host: 'localhost' } : a);
  const lines = [
    `${out.bold('mbedtls-wasm')} ${ver} · web UI`,
    `  ${out.cyan(`https://${urlHostPort(https)}/`)}   TLS 1.2/1.3 by mbedTLS in WebAssembly${values['request-cert'] ? ' (client certificate required)' : ''}`,
    http ? `  ${out.cyan(`http://${urlHostPort(http)}/`)}` : `  ${out.dim('plain HTTP off')}`,
    `certificate: ${formatName(identity.leaf.subject)}; ${identity.source === 'files' ? `from ${identity.certPath}`
      : identity.source === 'generated' ? `self-signed, generated now in ${dataDir}` : `self-signed, reused from ${dataDir}`}; valid until ${identity.leaf.valid_to}`,
    `SHA-256 fingerprint: ${out.bold(identity.leaf.fingerprint256)}`,
    keylogPath ? `key log: appending to ${resolve(keylogPath)}` : '',
    `listening https=${hostPort(https)} http=${http ? hostPort(http) : 'off'}`,
  ].filter(Boolean);
  // Handlers first: whoever reads the listening line may signal at once.
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`${sig} again: exiting now\n`);
      process.exit(EXIT.interrupted);
    }
    process.stderr.write(`${sig}: shutting down, draining for up to ${drainMs} ms (send it again to exit at once)\n`);
    server.shutdown({ drainMs }).then((r) => {
      process.stderr.write(`stopped: ${r.drained} connection(s) drained, ${r.abandoned} abandoned\n`);
      if (fd !== null) closeSync(fd);
      process.exit(EXIT.ok);
    }, (e: unknown) => fail(`shutdown failed: ${(e as Error).message}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.stdout.write(lines.join('\n') + '\n');
}
