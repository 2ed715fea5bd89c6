/**
 * generateSelfSigned(): an ECDSA P-256 key and a self-signed X.509 v3 certificate, both made by
 * mbedTLS inside the wasm module (no OpenSSL, works in browsers).
 */
import { fromMbedtls, invalidOption } from '../errors/tls-error.js';
import { lib } from '../wasm/module.js';

export interface SelfSignedOptions {
  /** Subject common name (default "localhost"). */
  commonName?: string;
  /** DNS names and IP addresses for subjectAltName (default: [commonName]). */
  altNames?: string[];
  /** Validity in days from now (default 365). */
  days?: number;
  /** Extra subject attributes, e.g. { O: 'Example' }. */
  organization?: string;
}

export interface SelfSigned {
  /** PEM private key (SEC1 "EC PRIVATE KEY"). */
  key: string;
  /** PEM certificate. */
  cert: string;
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

function dnValue(v: string): string {
  // mbedTLS's name parser: escape the separators it recognises.
  return v.replace(/([,=+<>#;\\"])/g, '\\$1');
}

export function generateSelfSigned(options: SelfSignedOptions = {}): SelfSigned {
  const cn = options.commonName ?? 'localhost';
  if (typeof cn !== 'string' || cn.length === 0 || cn.length > 64) throw invalidOption('commonName', 'expected a string of 1 to 64 characters');
  const alt = options.altNames ?? [cn];
  if (!Array.isArray(alt) || alt.length > 64 || alt.some((n) => typeof n !== 'string' || n.length === 0 || n.length > 253 || n.includes('\0'))) {
    throw invalidOption('altNames', 'expected up to 64 non-empty host names or IP addresses');
  }
  const days = options.days ?? 365;
  if (!Number.isInteger(days) || days < 1 || days > 36500) throw invalidOption('days', 'expected an integer number of days between 1 and 36500');
  const L = lib();
  const now = Date.now();
  const notBefore = stamp(new Date(now - 60_000));
  const notAfter = stamp(new Date(now + days * 86_400_000));
  let subject = `CN=${dnValue(cn)}`;
  if (options.organization) subject += `,O=${dnValue(options.organization)}`;
  const enc = new TextEncoder();
  const names = enc.encode(alt.map((n) => n + '\0').join(''));
  const rc = L.withCString(subject, (s) => L.withBytes(names, (np) => L.withCString(notBefore, (nb) =>
    L.withCString(notAfter, (na) => L.x.tlsw_x509_selfsigned(s, np, alt.length, nb, na)))));
  if (rc < 0) throw fromMbedtls(rc, (c) => L.strerror(c), 'generateSelfSigned');
  const pem = new TextDecoder().decode(L.takeResult());
  const split = pem.indexOf('-----BEGIN CERTIFICATE-----');
  return { key: pem.slice(0, split), cert: pem.slice(split) };
}
