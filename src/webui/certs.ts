/**
 * Certificates for the web UI server: the user's own (--cert/--key) or a self-signed ECDSA
 * P-256 certificate made by mbedTLS on first start and kept in the data directory
 * (key 0600, directory 0700, both enforced on every start), reused while it is valid and parses.
 */
import { nodeHash } from '../node/node-hash.js';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { generateSelfSigned, parseCertificate, TlsConfig, type PeerCertificate } from '../node/index.js';
import { pemToDerList } from '../engine/x509.js';


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
    return parseCertificate(ders[0]!, nodeHash);
  } catch (e) {
    throw new UsageError(`${what}: the certificate does not parse (${(e as Error).message})`, 'ERR_BAD_CERT');
  }
}

/** A text file the user named, or a one-line UsageError (ERR_UNREADABLE) saying why not. */
export function readText(path: string, what: string): string {
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
    const err = e as Error & { code?: string; option?: string; mbedtlsMessage?: string };
    const code = err.code ?? 'ERR_BAD_CERT';
    const msg = code === 'ERR_TLS_KEY_MISMATCH' ? 'the private key does not match the certificate'
      : err.option === 'key' ? `the private key does not load (${err.mbedtlsMessage || err.message})`
      : err.message;
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
 * Makes `dir` a private directory (0700), creating it when missing. An existing directory
 * that others can write to (e.g. /tmp) is refused rather than tightened: anyone could have
 * replaced its files, and changing the mode of a shared directory would break its other users.
 */
function privateDir(dir: string): void {
  let st: Stats | undefined;
  try {
    st = statSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw dataDirError(`cannot use data directory ${dir}`, e);
  }
  if (st && !st.isDirectory()) throw new UsageError(`data directory ${dir} is not a directory`, 'ERR_DATA_DIR');
  if (st && (st.mode & 0o002) !== 0) {
    throw new UsageError(`data directory ${dir} is writable by every user (mode ${(st.mode & 0o7777).toString(8)}): choose a private directory with --data-dir`, 'ERR_DATA_DIR');
  }
  try {
    if (!st) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is reduced by the umask, and an existing directory may be group-readable.
    if (!st || (st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  } catch (e) {
    throw dataDirError(st ? `cannot make data directory ${dir} private (chmod 0700)` : `cannot create data directory ${dir}`, e);
  }
}

/** Tightens a private key file to 0600, refusing to go on when that is not possible. */
function privateFile(path: string): void {
  try {
    if ((statSync(path).mode & 0o777) !== 0o600) chmodSync(path, 0o600);
  } catch (e) {
    throw dataDirError(`cannot make private key ${path} private (chmod 0600)`, e);
  }
}

function dataDirError(what: string, e: unknown): UsageError {
  return new UsageError(`${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'ERR_DATA_DIR');
}

/** The stored identity when both files are there, parse, match and stay valid for a day; else null. */
function reusable(certPath: string, keyPath: string): ServerIdentity | null {
  try {
    const id = loadIdentity(certPath, keyPath);
    return stillValid(id.leaf) ? { ...id, source: 'reused' } : null;
  } catch {
    return null; // missing, unreadable, corrupt or mismatched: make a new one
  }
}

/**
 * The self-signed identity in `dir`: reused when both files are there, parse, match and are
 * valid for at least another day; made (and stored) otherwise. Either way the directory ends up
 * 0700 and the key 0600.
 */
export function selfSignedIdentity(dir: string): ServerIdentity {
  privateDir(dir);
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const reused = reusable(certPath, keyPath);
  if (reused) {
    privateFile(keyPath);
    return reused;
  }
  const { key, cert } = generateSelfSigned({ commonName: 'localhost', altNames: ['localhost', '127.0.0.1', '::1'], days: 365, organization: 'mbedtls-wasm web UI' });
  try {
    writePrivate(keyPath, key, 0o600);
    writePrivate(certPath, cert, 0o644);
  } catch (e) {
    throw dataDirError(`cannot write to data directory ${dir}`, e);
  }
  return { key, cert, source: 'generated', certPath, keyPath, leaf: parseLeaf(cert, certPath) };
}

/** A DN as one line, e.g. "CN=localhost, O=Example". */
export function formatName(dn: Record<string, string | string[]>): string {
  return Object.entries(dn).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`)).join(', ');
}
