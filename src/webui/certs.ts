/**
 * Certificates for the web UI server: the user's own (--cert/--key) or a self-signed ECDSA
 * P-256 certificate made by mbedTLS on first start and kept in the data directory
 * (key 0600, directory 0700), reused while it is valid and parses.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSigned, parseCertificate, TlsConfig, type PeerCertificate } from '../node/index.js';
import { pemToDerList } from '../engine/x509.js';

export const hashes = {
  sha256: (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest()),
  sha1: (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest()),
  sha512: (d: Uint8Array) => new Uint8Array(createHash('sha512').update(d).digest()),
};

/** `$XDG_STATE_HOME/mbedtls-wasm`, else `~/.local/state/mbedtls-wasm`. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.local', 'state');
  return join(base, 'mbedtls-wasm');
}

export interface ServerIdentity {
  key: string;
  cert: string;
  /** Where they came from: files given by the user, or the data directory. */
  source: 'files' | 'generated' | 'reused';
  certPath?: string;
  keyPath?: string;
  /** The leaf certificate, parsed. */
  leaf: PeerCertificate;
}

/** A one-line, user-facing error (the CLI prints `error: <message>` and exits non-zero). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, readonly code = 'ERR_USAGE') { super(message); }
}

export function parseLeaf(pem: string, what: string): PeerCertificate {
  let ders: Uint8Array[];
  try {
    ders = pemToDerList(pem);
  } catch (e) {
    throw new UsageError(`${what}: not a PEM certificate (${(e as Error).message})`, 'ERR_BAD_CERT');
  }
  if (ders.length === 0) throw new UsageError(`${what}: no PEM certificate found`, 'ERR_BAD_CERT');
  try {
    return parseCertificate(ders[0]!, hashes);
  } catch (e) {
    throw new UsageError(`${what}: the certificate does not parse (${(e as Error).message})`, 'ERR_BAD_CERT');
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new UsageError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`, 'ERR_UNREADABLE');
  }
}

/**
 * Checks that key and certificate load together in mbedTLS (the same check the server makes),
 * turning TlsConfig's errors (ERR_TLS_KEY_MISMATCH, ERR_TLS_INVALID_OPTION) into one line.
 */
export function checkPair(key: string, cert: string, where: string): void {
  try {
    TlsConfig.server({ key, cert }).dispose();
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'ERR_BAD_CERT';
    const msg = code === 'ERR_TLS_KEY_MISMATCH' ? 'the private key does not match the certificate' : (e as Error).message;
    throw new UsageError(`${where}: ${msg} (${code})`, code);
  }
}

/** Loads --cert/--key files given by the user. */
export function loadIdentity(certPath: string, keyPath: string): ServerIdentity {
  const cert = readText(certPath, 'certificate');
  const key = readText(keyPath, 'key');
  const leaf = parseLeaf(cert, certPath);
  checkPair(key, cert, `${certPath} / ${keyPath}`);
  return { key, cert, source: 'files', certPath, keyPath, leaf };
}

/** Reads the CA bundle for --ca. */
export function loadCa(path: string): string {
  const pem = readText(path, 'CA file');
  parseLeaf(pem, path);
  return pem;
}

function stillValid(leaf: PeerCertificate, now = Date.now()): boolean {
  const from = Date.parse(leaf.valid_from);
  const to = Date.parse(leaf.valid_to);
  // Regenerate a little before expiry rather than serve an expired certificate.
  return Number.isFinite(from) && Number.isFinite(to) && from <= now + 60_000 && to > now + 86_400_000;
}

function writePrivate(path: string, text: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/**
 * The self-signed identity in `dir`: reused when both files are there, parse, match and are
 * valid for at least another day; made (and stored) otherwise.
 */
export function selfSignedIdentity(dir: string): ServerIdentity {
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    try {
      const cert = readFileSync(certPath, 'utf8');
      const key = readFileSync(keyPath, 'utf8');
      const leaf = parseLeaf(cert, certPath);
      if (stillValid(leaf)) {
        checkPair(key, cert, certPath);
        return { key, cert, source: 'reused', certPath, keyPath, leaf };
      }
    } catch {
      // Unreadable, corrupt or mismatched: make a new one below.
    }
  }
  try {
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
  } catch (e) {
    throw new UsageError(`cannot create data directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'ERR_DATA_DIR');
  }
  const { key, cert } = generateSelfSigned({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1', '::1'], days: 365, organization: 'mbedtls-wasm web UI' });
  try {
    writePrivate(keyPath, key, 0o600);
    writePrivate(certPath, cert, 0o644);
  } catch (e) {
    throw new UsageError(`cannot write to data directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'ERR_DATA_DIR');
  }
  return { key, cert, source: 'generated', certPath, keyPath, leaf: parseLeaf(cert, certPath) };
}

/** A DN as one line, e.g. "CN=localhost, O=Example". */
export function formatName(dn: Record<string, string | string[]>): string {
  return Object.entries(dn).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`)).join(', ');
}
