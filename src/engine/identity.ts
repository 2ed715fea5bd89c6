/**
 * Server identity checking with node:tls's `checkServerIdentity` semantics (RFC 6125 as node
 * applies it), reimplemented for any JavaScript runtime.
 *
 *  - IP hostnames (as node's net.isIP recognises them) match only "IP Address:" alt names,
 *    compared in canonical form (IPv6 zero compression, zone id ignored).
 *  - Other hostnames match "DNS:" alt names; the subject CN is consulted only when the
 *    certificate has no DNS alt name at all.
 *  - Matching is ASCII case-insensitive, ignores one trailing dot, and allows a wildcard only in
 *    the leftmost label of a pattern with at least three labels; the wildcard matches within
 *    that one label (node allows "ba*.example.com" but not "*.com", "a*b*.example.com" or
 *    wildcards in punycode labels).
 *
 * Browser-safe: no node:* imports, no Buffer.
 */
import type { DistinguishedName } from './x509.js';

/** The parts of a certificate the check reads (node's getPeerCertificate() objects qualify). */
export interface IdentityCertificate {
  subject?: DistinguishedName | { CN?: string | string[] } | null;
  subjectaltname?: string;
}

/** What checkServerIdentity returns on a mismatch (same fields and message as node's error). */
export interface AltNameInvalidError<C = IdentityCertificate> extends Error {
  code: 'ERR_TLS_CERT_ALTNAME_INVALID';
  reason: string;
  host: string;
  cert: C;
}

// ---------------------------------------------------------------------------------------------
// IP addresses

/** "0".."255" without leading zeros (what node and libuv accept). */
function parseIpv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (p.length === 0 || p.length > 3) return undefined;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 0x30 || c > 0x39) return undefined;
    }
    if (p.length > 1 && p[0] === '0') return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseGroups(s: string, allowV4Last: boolean): number[] | undefined {
  if (s === '') return [];
  const parts = s.split(':');
  const words: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (allowV4Last && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (!v4) return undefined;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
    words.push(parseInt(p, 16));
  }
  return words;
}

/** IPv6 text (no zone) → eight 16-bit words, or undefined when not a valid address. */
function parseIpv6(s: string): number[] | undefined {
  const dbl = s.indexOf('::');
  if (dbl < 0) {
    const w = parseGroups(s, true);
    return w && w.length === 8 ? w : undefined;
  }
  if (s.indexOf('::', dbl + 1) >= 0) return undefined;
  const head = parseGroups(s.slice(0, dbl), false);
  const tail = parseGroups(s.slice(dbl + 2), true);
  if (!head || !tail) return undefined;
  // "::" stands for at least one group of zeros.
  if (head.length + tail.length > 7) return undefined;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

const ZONE = /^[0-9a-zA-Z\-.:]+$/;

/** node's net.isIP: 4, 6, or 0 when `s` is not an IP address. IPv6 may carry a %zone. */
export function isIP(s: string): 0 | 4 | 6 {
  if (parseIpv4(s)) return 4;
  const pct = s.indexOf('%');
  if (pct >= 0 && !ZONE.test(s.slice(pct + 1))) return 0;
  return parseIpv6(pct >= 0 ? s.slice(0, pct) : s) ? 6 : 0;
}

/** IPv6 words → text as libuv prints it (RFC 5952-style compression, embedded IPv4 forms). */
function formatIpv6Canonical(w: number[]): string {
  let bestBase = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestBase = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  if (bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
    const v4 = `${w[6] >> 8}.${w[6] & 0xff}.${w[7] >> 8}.${w[7] & 0xff}`;
    return bestLen === 5 ? `::ffff:${v4}` : `::${v4}`;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += w[i].toString(16);
  }
  return out;
}

/**
 * An IP address in canonical text form, as node compares them (IPv4 dotted; IPv6 compressed,
 * lowercase, zone dropped), or undefined when `s` is not an address.
 */
export function canonicalizeIP(s: string): string | undefined {
  const v4 = parseIpv4(s);
  if (v4) return v4.join('.');
  let addr = s;
  const pct = s.indexOf('%');
  if (pct >= 0) {
    if (pct > 45) return undefined;
    addr = s.slice(0, pct);
  }
  const w = parseIpv6(addr);
  return w ? formatIpv6Canonical(w) : undefined;
}

// ---------------------------------------------------------------------------------------------
// DNS names

/** Drops one trailing dot. */
function stripTrailingDot(s: string): string {
  return s.endsWith('.') ? s.slice(0, -1) : s;
}

/** Lowercases A-Z only (locale-independent) and splits into labels. */
function labels(name: string): string[] {
  return stripTrailingDot(name).replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)).split('.');
}

/** Pattern labels may hold only printable ASCII (no controls, blanks or U-labels). */
function hasBadChar(label: string): boolean {
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c < 0x21 || c > 0x7f) return true;
  }
  return false;
}

function matchesPattern(host: string[], patternValue: unknown): boolean {
  if (!patternValue) return false;
  const pattern = labels(String(patternValue));
  if (pattern.length !== host.length) return false;
  for (const l of pattern) if (l === '' || hasBadChar(l)) return false;
  for (let i = pattern.length - 1; i > 0; i--) {
    if (pattern[i] !== host[i]) return false;
  }
  const first = pattern[0];
  const star = first.indexOf('*');
  // No wildcard, or a punycode label (RFC 6125 forbids wildcards there): exact match only.
  if (star < 0 || first.includes('xn--')) return host[0] === first;
  if (first.indexOf('*', star + 1) >= 0) return false;
  if (pattern.length <= 2) return false;
  const prefix = first.slice(0, star);
  const suffix = first.slice(star + 1);
  const label = host[0];
  return prefix.length + suffix.length <= label.length && label.startsWith(prefix) && label.endsWith(suffix);
}

// ---------------------------------------------------------------------------------------------
// subjectaltname strings

function altNameFormatError(): Error {
  const e = new SyntaxError('Invalid subject alternative name string') as SyntaxError & { code: string };
  e.code = 'ERR_TLS_CERT_ALTNAME_FORMAT';
  return e;
}

/** Length of the JSON string literal starting at `s[start]` (a '"'), or -1 when invalid. */
function jsonStringLength(s: string, start: number): number {
  let i = start + 1;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 0x22) return i + 1 - start;
    if (c === 0x5c) {
      const e = s[i + 1];
      if (e !== undefined && '"\\/bfnrt'.includes(e)) { i += 2; continue; }
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) { i += 6; continue; }
      return -1;
    }
    if (c < 0x20) return -1;
    i++;
  }
  return -1;
}

/**
 * Splits node's subjectaltname string into entries. Entries may be (partly) JSON string
 * literals, used when a value holds a separator or other unsafe characters.
 */
export function splitAltNames(altNames: string): string[] {
  if (!altNames.includes('"')) return altNames.split(', ');
  const out: string[] = [];
  let token = '';
  let pos = 0;
  while (pos < altNames.length) {
    const sep = altNames.indexOf(', ', pos);
    const quote = altNames.indexOf('"', pos);
    if (quote >= 0 && (sep < 0 || quote < sep)) {
      token += altNames.slice(pos, quote);
      const n = jsonStringLength(altNames, quote);
      if (n < 0) throw altNameFormatError();
      token += JSON.parse(altNames.slice(quote, quote + n)) as string;
      pos = quote + n;
    } else if (sep >= 0) {
      out.push(token + altNames.slice(pos, sep));
      token = '';
      pos = sep + 2;
    } else {
      token += altNames.slice(pos);
      pos = altNames.length;
    }
  }
  out.push(token);
  return out;
}

// ---------------------------------------------------------------------------------------------

function altNameError<C>(reason: string, host: string, cert: C): AltNameInvalidError<C> {
  const err = new Error(`Hostname/IP does not match certificate's altnames: ${reason}`) as AltNameInvalidError<C>;
  err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  err.reason = reason;
  err.host = host;
  err.cert = cert;
  // node's errors print as "Error [CODE]: message".
  Object.defineProperty(err, 'toString', {
    value(this: Error & { code: string }) { return `${this.name} [${this.code}]: ${this.message}`; },
    enumerable: false, writable: true, configurable: true,
  });
  if (typeof err.stack === 'string' && err.stack.startsWith('Error: ')) {
    err.stack = `Error [${err.code}]: ` + err.stack.slice(7);
  }
  return err;
}

/**
 * Checks that `cert` is valid for `hostname`, as node:tls's checkServerIdentity does: returns
 * undefined on success and an error (code ERR_TLS_CERT_ALTNAME_INVALID, with `reason`, `host`
 * and `cert`) on mismatch. Throws a SyntaxError (code ERR_TLS_CERT_ALTNAME_FORMAT) when the
 * subjectaltname string has a malformed quoted entry.
 */
export function checkServerIdentity<C extends IdentityCertificate>(hostname: string, cert: C): AltNameInvalidError<C> | undefined {
  const subject = cert.subject;
  const altNames = cert.subjectaltname;
  const dnsNames: string[] = [];
  const ips: Array<string | undefined> = [];

  if (altNames) {
    for (const entry of splitAltNames(String(altNames))) {
      if (entry.startsWith('DNS:')) dnsNames.push(entry.slice(4));
      else if (entry.startsWith('IP Address:')) ips.push(canonicalizeIP(entry.slice(11)));
    }
  }

  const host = stripTrailingDot(String(hostname));
  let valid = false;
  let reason = 'Unknown reason';
  const cn = subject?.CN;

  if (isIP(host) !== 0) {
    const want = canonicalizeIP(host);
    valid = ips.includes(want);
    if (!valid) reason = `IP: ${host} is not in the cert's list: ${ips.join(', ')}`;
  } else if (dnsNames.length > 0 || cn) {
    const hostLabels = labels(host);
    if (dnsNames.length > 0) {
      valid = dnsNames.some((n) => matchesPattern(hostLabels, n));
      if (!valid) reason = `Host: ${host}. is not in the cert's altnames: ${altNames}`;
    } else {
      // The CN is consulted only when the certificate has no DNS alt names.
      if (Array.isArray(cn)) valid = cn.some((n) => matchesPattern(hostLabels, n));
      else valid = matchesPattern(hostLabels, cn);
      if (!valid) reason = `Host: ${host}. is not cert's CN: ${String(cn)}`;
    }
  } else {
    reason = 'Cert does not contain a DNS name';
  }

  return valid ? undefined : altNameError(reason, host, cert);
}
