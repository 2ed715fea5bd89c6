/**
 * `mbedtls-wasm connect HOST:PORT`: a TLS client in the spirit of openssl s_client. Prints the
 * handshake's outcome and the certificate chain on stderr, then pipes stdin → server → stdout.
 */
import net from 'node:net';
import { connect, type DetailedPeerCertificate, type TLSSocket } from '../node/index.js';
import { formatName, readText } from '../webui/certs.js';
import { hostPort } from '../webui/http-util.js';
import { EXIT, fail, intOption, paint, parse, UsageError, withCode } from './common.js';

export const CONNECT_HELP = `Usage: mbedtls-wasm connect HOST:PORT [options]

Connects with TLS (mbedTLS in WebAssembly), prints the protocol, cipher, ALPN, the server's
certificate chain and the verification result on stderr, then copies stdin to the connection
and the connection to stdout. PORT defaults to 443; IPv6 as [::1]:8443.

Options:
  --servername NAME   SNI and the name the certificate must match (default: HOST)
  --ca FILE           trust these CA certificates (PEM) instead of the bundled roots
  --cert FILE         client certificate (PEM), with --key
  --key FILE          client private key (PEM)
  --alpn LIST         ALPN protocols, comma-separated (e.g. h2,http/1.1)
  --tls1.2            TLS 1.2 only
  --tls1.3            TLS 1.3 only
  --insecure          go on even if verification fails (the result is still printed)
  --timeout MS        give up on the connection and handshake after MS (default 15000)
  -q, --quiet         print nothing but the data
  -h, --help          this help

Exit codes: 0 the connection ended normally; 1 connect or handshake failure, verification
failure (without --insecure), or a connection error; 2 usage error.
`;

const OPTIONS = {
  servername: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  alpn: { type: 'string' },
  'tls1.2': { type: 'boolean' },
  'tls1.3': { type: 'boolean' },
  insecure: { type: 'boolean' },
  timeout: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  if (!m) {
    if (net.isIPv6(text)) return { host: text, port: 443 };
    throw new UsageError(`expected HOST:PORT, got "${text}"`);
  }
  const port = m[2] === undefined ? 443 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`port must be 1-65535, got "${m[2]}"`);
  return { host: m[1]!, port };
}

function chain(socket: TLSSocket): DetailedPeerCertificate[] {
  const leaf = socket.getPeerCertificate(true);
  const out: DetailedPeerCertificate[] = [];
  // {} (no certificate) has no raw.
  let c = leaf && 'raw' in leaf ? (leaf as DetailedPeerCertificate) : undefined;
  while (c && out.length < 16 && !out.includes(c)) {
    out.push(c);
    c = c.issuerCertificate;
  }
  return out;
}

export async function connectCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('connect', args, OPTIONS, true);
  if (values.help) { process.stdout.write(CONNECT_HELP); return; }
  if (positionals.length !== 1) throw new UsageError('connect needs exactly one HOST:PORT (see mbedtls-wasm connect --help)');
  if ((values.cert === undefined) !== (values.key === undefined)) throw new UsageError('--cert and --key go together');
  if (values['tls1.2'] && values['tls1.3']) throw new UsageError('choose one of --tls1.2 and --tls1.3 (default: both)');
  const { host, port } = parseHostPort(positionals[0]!);
  const timeout = intOption('timeout', values.timeout, 1, 3_600_000) ?? 15_000;
  const alpn = values.alpn?.split(',').map((s) => s.trim()).filter(Boolean);
  const quiet = values.quiet === true;
  const c = paint(process.stderr);
  const info = (line: string) => { if (!quiet) process.stderr.write(`${line}\n`); };
  const version = values['tls1.2'] ? 'TLSv1.2' : values['tls1.3'] ? 'TLSv1.3' : undefined;

  const ca = values.ca !== undefined ? readText(values.ca, 'CA file') : undefined;
  const cert = values.cert !== undefined ? readText(values.cert, 'certificate') : undefined;
  const key = values.key !== undefined ? readText(values.key, 'key') : undefined;
  let socket: TLSSocket;
  try {
    socket = connect({
      host,
      port,
      servername: values.servername,
      ca,
      cert,
      key,
      ALPNProtocols: alpn && alpn.length > 0 ? alpn : undefined,
      minVersion: version,
      maxVersion: version,
      // Verification is decided below, after the chain and the result are printed.
      rejectUnauthorized: false,
    });
  } catch (e) {
    const err = e as Error & { code?: string; option?: string };
    // Name the file behind a rejected key/cert/ca option: the message only names the option.
    const file = err.option === 'key' || err.option === 'cert' || err.option === 'ca' ? values[err.option] : undefined;
    throw new UsageError(`${file ? `${file}: ` : ''}${withCode(err)}`, err.code ?? 'ERR_OPTION');
  }

  const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no handshake within ${timeout} ms`), { code: 'ETIMEDOUT' })), timeout);
  let secure = false;
  socket.on('error', (e: Error & { code?: string; syscall?: string }) => {
    clearTimeout(timer);
    if (e.syscall === 'connect' || e.syscall === 'getaddrinfo') {
      fail(`cannot connect to ${positionals[0]}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? 'host not found' : e.message} (${e.code ?? 'ERR_CONNECT'})`);
    }
    fail(`${secure ? 'connection error' : 'handshake failed'}: ${withCode(e)}`);
  });

  socket.once('secureConnect', () => {
    secure = true;
    clearTimeout(timer);
    const cipher = socket.getCipher();
    info(`${c.bold('Connected')} to ${hostPort({ host, port })}`);
    info(`Protocol:     ${socket.getProtocol()}`);
    info(`Cipher:       ${cipher ? `${cipher.standardName}${cipher.name !== cipher.standardName ? ` (${cipher.name})` : ''}` : '(unknown)'}`);
    info(`ALPN:         ${socket.alpnProtocol || '(none)'}`);
    info(`SNI sent:     ${socket.servername || '(none)'}`);
    info(`Session reused: ${socket.isSessionReused() ? 'yes' : 'no'}`);
    const certs = chain(socket);
    info(`Certificate chain (${certs.length}):`);
    certs.forEach((cert, i) => {
      info(` ${i} subject: ${formatName(cert.subject)}`);
      info(`   issuer:  ${formatName(cert.issuer)}`);
      info(`   valid:   ${cert.valid_from} → ${cert.valid_to}`);
      if (cert.subjectaltname) info(`   SAN:     ${cert.subjectaltname}`);
      info(`   SHA-256: ${cert.fingerprint256}`);
    });
    if (socket.authorized) {
      info(`Verification: ${c.green('OK')}`);
    } else if (values.insecure) {
      info(`Verification: ${c.yellow(`FAILED (${socket.authorizationError ?? 'unknown'})`)}; going on because of --insecure`);
    } else {
      info(`Verification: ${c.red(`FAILED (${socket.authorizationError ?? 'unknown'})`)}`);
      socket.destroy();
      // The way out depends on the reason: a name mismatch is not fixed by trusting a CA.
      const hint = socket.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `the certificate is not for ${socket.servername || host}; connect with the name it is for (--servername NAME), or --insecure`
        : 'use --ca FILE to trust the issuer, or --insecure';
      fail(`certificate verification failed: ${socket.authorizationError ?? 'unknown reason'} (${hint})`);
    }
    info('---');
    const stdin = process.stdin;
    stdin.pipe(socket);
    socket.pipe(process.stdout);
    socket.on('close', () => {
      stdin.unpipe(socket);
      stdin.destroy();
      process.stdout.write('', () => process.exit(EXIT.ok));
    });
  });
}
