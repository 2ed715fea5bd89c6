/**
 * Ciphersuites and groups this build of mbedTLS offers, with the three names node:tls users
 * meet: IANA (`standardName`), OpenSSL (`name`, what node's getCipher() and `ciphers` use) and
 * the protocol version that introduced the suite (`version`, as node reports it).
 */

export interface CipherSuite {
  readonly id: number;
  readonly standardName: string;
  readonly name: string;
  readonly version: 'TLSv1.2' | 'TLSv1.3';
}

export const CIPHER_SUITES: readonly CipherSuite[] = [
  { id: 0x1303, standardName: 'TLS_CHACHA20_POLY1305_SHA256', name: 'TLS_CHACHA20_POLY1305_SHA256', version: 'TLSv1.3' },
  { id: 0x1301, standardName: 'TLS_AES_128_GCM_SHA256', name: 'TLS_AES_128_GCM_SHA256', version: 'TLSv1.3' },
  { id: 0x1302, standardName: 'TLS_AES_256_GCM_SHA384', name: 'TLS_AES_256_GCM_SHA384', version: 'TLSv1.3' },
  { id: 0xCCA9, standardName: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', name: 'ECDHE-ECDSA-CHACHA20-POLY1305', version: 'TLSv1.2' },
  { id: 0xCCA8, standardName: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', name: 'ECDHE-RSA-CHACHA20-POLY1305', version: 'TLSv1.2' },
  { id: 0xC02B, standardName: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', name: 'ECDHE-ECDSA-AES128-GCM-SHA256', version: 'TLSv1.2' },
  { id: 0xC02F, standardName: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', name: 'ECDHE-RSA-AES128-GCM-SHA256', version: 'TLSv1.2' },
  { id: 0xC02C, standardName: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', name: 'ECDHE-ECDSA-AES256-GCM-SHA384', version: 'TLSv1.2' },
  { id: 0xC030, standardName: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', name: 'ECDHE-RSA-AES256-GCM-SHA384', version: 'TLSv1.2' },
];

const BY_ID = new Map(CIPHER_SUITES.map((s) => [s.id, s]));
const BY_NAME = new Map<string, CipherSuite>();
for (const s of CIPHER_SUITES) {
  BY_NAME.set(s.standardName.toUpperCase(), s);
  BY_NAME.set(s.name.toUpperCase(), s);
}

export function suiteById(id: number): CipherSuite | undefined {
  return BY_ID.get(id);
}

/**
 * Parses a `ciphers` string: names separated by ':' (or ',' / spaces), IANA or OpenSSL form.
 * Returns the suites in the given order, or the first unknown name.
 */
export function parseCipherList(list: string): { suites: CipherSuite[] } | { unknown: string } {
  const suites: CipherSuite[] = [];
  for (const raw of list.split(/[:,\s]+/)) {
    if (raw === '') continue;
    const s = BY_NAME.get(raw.toUpperCase());
    if (!s) return { unknown: raw };
    if (!suites.includes(s)) suites.push(s);
  }
  return { suites };
}

export interface Group {
  readonly id: number;
  readonly names: readonly string[];
  readonly name: string;
  /** How node:tls's getEphemeralKeyInfo() names the group (OpenSSL's name) and its key size. */
  readonly keyInfo: { readonly name: 'X25519' | 'prime256v1' | 'secp384r1'; readonly size: number };
}

export const GROUPS: readonly Group[] = [
  { id: 29, name: 'X25519', names: ['x25519'], keyInfo: { name: 'X25519', size: 253 } },
  { id: 23, name: 'P-256', names: ['p-256', 'prime256v1', 'secp256r1'], keyInfo: { name: 'prime256v1', size: 256 } },
  { id: 24, name: 'P-384', names: ['p-384', 'secp384r1'], keyInfo: { name: 'secp384r1', size: 384 } },
];

/** Parses node's `ecdhCurve` ("X25519:P-256", or "auto"). */
export function parseGroupList(list: string): { groups: Group[] } | { unknown: string } {
  if (list.trim().toLowerCase() === 'auto') return { groups: [...GROUPS] };
  const groups: Group[] = [];
  for (const raw of list.split(/[:,\s]+/)) {
    if (raw === '') continue;
    const g = GROUPS.find((x) => x.names.includes(raw.toLowerCase()));
    if (!g) return { unknown: raw };
    if (!groups.includes(g)) groups.push(g);
  }
  return { groups };
}

export const VERSIONS = { 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 } as const;
export type TlsVersion = keyof typeof VERSIONS;

export function versionName(v: number): TlsVersion | null {
  return v === 0x0304 ? 'TLSv1.3' : v === 0x0303 ? 'TLSv1.2' : null;
}
