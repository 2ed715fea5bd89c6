/**
 * X.509 certificate parsing into the shape node:tls's `getPeerCertificate()` returns, plus a
 * richer internal view (`CertificateInfo`) for verification logic, and PEM ⇄ DER helpers.
 *
 * Browser-safe: no node:* imports, no Buffer. Hashes are supplied by the caller.
 */
import {
  DerReader, TAG, bytesEqual, checkAny, children, encodeTlv, encodeUnsignedInteger, oidToString,
  parseDer, readBitString, readBoolean, readIntegerHex, readLatin1, readOid, readSmallInteger,
  readString, readTimeDetails, toHex, type DerElement, type DerTime,
} from './der.js';

/** A distinguished name as node reports it: short name → value, or values when repeated. */
export type DistinguishedName = Record<string, string | string[]>;

/** What node:tls's `TLSSocket.getPeerCertificate()` returns (without `issuerCertificate`). */
export interface PeerCertificate {
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** e.g. "DNS:localhost, IP Address:127.0.0.1" (absent without a subjectAltName extension). */
  subjectaltname?: string;
  /** Authority information access, e.g. { 'OCSP - URI': ['http://ocsp.example/'] }. */
  infoAccess?: Record<string, string[]>;
  /** True when basicConstraints says cA (and keyUsage, if present, allows keyCertSign). */
  ca: boolean;
  /** RSA: modulus, uppercase hex. */
  modulus?: string;
  /** RSA: modulus size; EC: group order size. */
  bits?: number;
  /** RSA: public exponent, e.g. "0x10001". */
  exponent?: string;
  /** RSA: SubjectPublicKeyInfo DER; EC: the encoded public point (as node reports them). */
  pubkey?: Uint8Array;
  /** EC: OpenSSL's curve name, e.g. "prime256v1". */
  asn1Curve?: string;
  /** EC: NIST curve name, e.g. "P-256". */
  nistCurve?: string;
  /** e.g. "Jan  1 00:00:00 2024 GMT". */
  valid_from: string;
  valid_to: string;
  /** SHA-1 of the DER, uppercase hex, colon-separated. */
  fingerprint: string;
  fingerprint256: string;
  /** Only when the hash provider has sha512. */
  fingerprint512?: string;
  /** Extended key usage OIDs (absent without the extension). */
  ext_key_usage?: string[];
  /** Serial number, uppercase hex. */
  serialNumber: string;
  /** The certificate, DER. */
  raw: Uint8Array;
}

export interface HashProvider {
  sha256(data: Uint8Array): Uint8Array;
  sha1(data: Uint8Array): Uint8Array;
  sha512?(data: Uint8Array): Uint8Array;
}

export interface Extension {
  oid: string;
  critical: boolean;
  /** Contents of extnValue (the DER of the extension's own value). */
  value: Uint8Array;
}

/** keyUsage flags, bit layout as OpenSSL and mbedTLS use (first octet low, second octet high). */
export const KU_DIGITAL_SIGNATURE = 0x80;
export const KU_NON_REPUDIATION = 0x40;
export const KU_KEY_ENCIPHERMENT = 0x20;
export const KU_DATA_ENCIPHERMENT = 0x10;
export const KU_KEY_AGREEMENT = 0x08;
export const KU_KEY_CERT_SIGN = 0x04;
export const KU_CRL_SIGN = 0x02;
export const KU_ENCIPHER_ONLY = 0x01;
export const KU_DECIPHER_ONLY = 0x8000;

export const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
export const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
export const EKU_ANY = '2.5.29.37.0';

/** The certificate as verification code wants it. */
export interface CertificateInfo {
  /** 1, 2 or 3. */
  version: number;
  /** Uppercase hex, as `PeerCertificate.serialNumber`. */
  serialNumber: string;
  subject: DistinguishedName;
  issuer: DistinguishedName;
  /** The Name elements, DER (header included). */
  subjectDer: Uint8Array;
  issuerDer: Uint8Array;
  /** Subject and issuer are byte-identical. */
  selfIssued: boolean;
  notBefore: Date;
  notAfter: Date;
  /** node's printing of the validity bounds. */
  validFrom: string;
  validTo: string;
  /** subjectAltName dNSName entries, as written. */
  dnsNames: string[];
  /** subjectAltName iPAddress entries: IPv4 dotted, IPv6 as node prints it (0:0:0:0:0:0:0:1). */
  ipAddresses: string[];
  /** subjectAltName rfc822Name entries. */
  emailAddresses: string[];
  /** subjectAltName URI entries. */
  uris: string[];
  /** node's subjectaltname string (absent without the extension). */
  subjectAltName?: string;
  /** keyUsage as KU_* bit flags (absent without the extension). */
  keyUsage?: number;
  /** extKeyUsage OIDs (absent without the extension). */
  extKeyUsage?: string[];
  /** basicConstraints cA. */
  isCA: boolean;
  /** basicConstraints pathLenConstraint, when present. */
  pathLenConstraint?: number;
  /** node's `ca` (cA, and keyUsage, if present, includes keyCertSign). */
  ca: boolean;
  infoAccess?: Record<string, string[]>;
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
  /** Public key algorithm OID, e.g. 1.2.840.10045.2.1 (EC) or 1.2.840.113549.1.1.1 (RSA). */
  publicKeyAlgorithm: string;
  /** EC: named curve OID. */
  namedCurve?: string;
  /** The public key fields node reports (modulus, bits, exponent, pubkey, asn1Curve, nistCurve). */
  publicKey: Pick<PeerCertificate, 'modulus' | 'bits' | 'exponent' | 'pubkey' | 'asn1Curve' | 'nistCurve'>;
  /** Signature algorithm OID (outer). */
  signatureAlgorithm: string;
  /** The TBSCertificate, DER (what the signature covers). */
  tbs: Uint8Array;
  /** The signature value bytes. */
  signature: Uint8Array;
  extensions: Extension[];
  /** The certificate, DER. */
  raw: Uint8Array;
}

function fail(message: string): never {
  throw new Error(`X.509: ${message}`);
}

// ---------------------------------------------------------------------------------------------
// Names

/** OpenSSL short names of attribute types (node uses these as keys; others become the OID). */
const ATTRIBUTE_NAMES: Record<string, string> = (() => {
  const t: Record<string, string> = Object.create(null) as Record<string, string>;
  const add = (prefix: string, first: number, names: string): void => {
    names.split(' ').forEach((n, i) => { if (n !== '-') t[`${prefix}.${first + i}`] = n; });
  };
  // X.520 (2.5.4.x)
  add('2.5.4', 3, 'CN SN serialNumber C L ST street O OU title description searchGuide businessCategory ' +
    'postalAddress postalCode postOfficeBox physicalDeliveryOfficeName telephoneNumber telexNumber ' +
    'teletexTerminalIdentifier facsimileTelephoneNumber x121Address internationaliSDNNumber registeredAddress ' +
    'destinationIndicator preferredDeliveryMethod presentationAddress supportedApplicationContext member owner ' +
    'roleOccupant seeAlso userPassword userCertificate cACertificate authorityRevocationList ' +
    'certificateRevocationList crossCertificatePair name GN initials generationQualifier x500UniqueIdentifier ' +
    'dnQualifier enhancedSearchGuide protocolInformation distinguishedName uniqueMember houseIdentifier ' +
    'supportedAlgorithms deltaRevocationList dmdName');
  t['2.5.4.65'] = 'pseudonym';
  t['2.5.4.72'] = 'role';
  add('2.5.4', 97, 'organizationIdentifier c3 n3 dnsName');
  // RFC 4519 / pilot attributes (0.9.2342.19200300.100.1.x)
  add('0.9.2342.19200300.100.1', 1, 'UID textEncodedORAddress mail info favouriteDrink roomNumber photo ' +
    'userClass host manager documentIdentifier documentTitle documentVersion documentAuthor documentLocation');
  add('0.9.2342.19200300.100.1', 20, 'homeTelephoneNumber secretary otherMailbox lastModifiedTime ' +
    'lastModifiedBy DC aRecord pilotAttributeType27 mXRecord nSRecord sOARecord cNAMERecord');
  add('0.9.2342.19200300.100.1', 37, 'associatedDomain associatedName homePostalAddress personalTitle ' +
    'mobileTelephoneNumber pagerTelephoneNumber friendlyCountryName uid organizationalStatus janetMailbox ' +
    'mailPreferenceOption buildingName dSAQuality singleLevelQuality subtreeMinimumQuality ' +
    'subtreeMaximumQuality personalSignature dITRedirect audio documentPublisher');
  // PKCS #9
  add('1.2.840.113549.1.9', 1, 'emailAddress unstructuredName contentType messageDigest signingTime ' +
    'countersignature challengePassword unstructuredAddress extendedCertificateAttributes');
  add('1.2.840.113549.1.9', 14, 'extReq SMIME-CAPS SMIME');
  add('1.2.840.113549.1.9', 20, 'friendlyName localKeyID');
  // EV jurisdiction, RFC 3739 personal data
  add('1.3.6.1.4.1.311.60.2.1', 1, 'jurisdictionL jurisdictionST jurisdictionC');
  add('1.3.6.1.5.5.7.9', 1, 'id-pda-dateOfBirth id-pda-placeOfBirth id-pda-gender ' +
    'id-pda-countryOfCitizenship id-pda-countryOfResidence');
  return t;
})();

interface NameAttribute {
  oid: string;
  /** Key node uses: the short name, or the dotted OID when OpenSSL has none. */
  key: string;
  /** True when OpenSSL knows the attribute (has a short name). */
  known: boolean;
  /** The value element. */
  value: DerElement;
  /** The value as text, or undefined when it is not a string type. */
  text: string | undefined;
  /** Index of the RDN (SET) this attribute belongs to. */
  rdn: number;
}

/**
 * Attribute value types OpenSSL accepts in a name and converts to text. (It also accepts
 * BIT STRING and SEQUENCE values, which have no text form; anything else fails to parse.)
 */
const NAME_STRING_TAGS = new Set<number>([
  TAG.UTF8_STRING, TAG.NUMERIC_STRING, TAG.PRINTABLE_STRING, TAG.T61_STRING, TAG.IA5_STRING,
  TAG.UNIVERSAL_STRING, TAG.BMP_STRING,
]);

function parseName(el: DerElement, what: string): NameAttribute[] {
  if (el.tag !== TAG.SEQUENCE) fail(`${what} is not a SEQUENCE`);
  const attrs: NameAttribute[] = [];
  const rdns = children(el);
  for (let i = 0; i < rdns.length; i++) {
    const set = rdns[i];
    if (set.tag !== TAG.SET) fail(`${what}: a RelativeDistinguishedName is not a SET`);
    const atvs = children(set);
    if (atvs.length === 0) fail(`${what}: empty RelativeDistinguishedName`);
    for (const atv of atvs) {
      if (atv.tag !== TAG.SEQUENCE) fail(`${what}: an attribute is not a SEQUENCE`);
      const r = DerReader.of(atv);
      const oid = readOid(r.expect(TAG.OID, 'attribute type'));
      const value = r.read();
      r.finish(`${what} attribute`);
      const short = ATTRIBUTE_NAMES[oid];
      let text: string | undefined;
      if (NAME_STRING_TAGS.has(value.tag)) text = readString(value);
      else if (value.tag === TAG.BIT_STRING) readBitString(value);
      else if (value.tag !== TAG.SEQUENCE) {
        fail(`${what}: unsupported attribute value type 0x${value.tag.toString(16)}`);
      }
      attrs.push({ oid, key: short ?? oid, known: short !== undefined, value, text, rdn: i });
    }
  }
  return attrs;
}

/** node's object form of a name: a null-prototype object; repeated keys become arrays. */
function nameObject(attrs: NameAttribute[]): DistinguishedName {
  const out = Object.create(null) as DistinguishedName;
  // node reports no name at all when a value has no text form; we report an empty one.
  if (attrs.some((a) => a.text === undefined)) return out;
  for (const a of attrs) {
    if (a.text === undefined) continue;
    const prev = out[a.key];
    if (prev === undefined) out[a.key] = a.text;
    else if (Array.isArray(prev)) prev.push(a.text);
    else out[a.key] = [prev, a.text];
  }
  return out;
}

/**
 * A name printed as OpenSSL's X509_NAME_print_ex does with RFC 2253 flags minus the escaping of
 * control and non-ASCII characters (what node uses for DirName entries in subjectaltname).
 */
function nameRfc2253(attrs: NameAttribute[]): string {
  let out = '';
  for (let i = attrs.length - 1; i >= 0; i--) {
    const a = attrs[i];
    if (i !== attrs.length - 1) out += attrs[i + 1].rdn === a.rdn ? '+' : ',';
    out += a.key + '=';
    if (!a.known || a.text === undefined) {
      out += '#' + toHex(a.value.bytes).toUpperCase();
      continue;
    }
    const v = a.text;
    for (let j = 0; j < v.length; j++) {
      const c = v[j];
      if (',+"\\<>;'.includes(c) || (j === 0 && (c === '#' || c === ' ')) || (j === v.length - 1 && c === ' ')) {
        out += '\\' + c;
      } else {
        out += c;
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Subject alternative names

/** Printable ASCII other than the characters that make splitting or quoting ambiguous. */
function isSafeAltName(s: string, utf8: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22 || c === 0x5c || c === 0x2c || c === 0x27) return false;
    if (c < 0x20 || c === 0x7f) return false;
    if (!utf8 && c > 0x7e) return false;
  }
  return true;
}

/**
 * Appends an alt name as node does: verbatim when safe, otherwise as a JSON string literal
 * (with the optional prefix inside the quotes).
 */
function altName(value: string, utf8: boolean, prefix?: string): string {
  const p = prefix !== undefined ? prefix + ':' : '';
  if (isSafeAltName(value, utf8)) return p + value;
  let out = '"' + p;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    const c = value.charCodeAt(i);
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if ((c >= 0x20 && c <= 0x7e && c !== 0x2c) || (utf8 && c > 0x7f)) out += ch;
    else out += '\\u' + c.toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** IPv6 as node prints it in subjectaltname: eight uppercase hex groups, no compression. */
function formatIpv6(b: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] << 8) | b[i + 1]).toString(16).toUpperCase());
  return groups.join(':');
}

const OTHERNAME_PREFIX: Record<string, { prefix: string; utf8: boolean }> = {
  '1.3.6.1.5.5.7.8.9': { prefix: 'SmtpUTF8Mailbox', utf8: true },
  '1.3.6.1.5.5.7.8.5': { prefix: 'XmppAddr', utf8: true },
  '1.3.6.1.5.5.7.8.7': { prefix: 'SRVName', utf8: false },
  '1.3.6.1.4.1.311.20.2.3': { prefix: 'UPN', utf8: true },
  '1.3.6.1.5.5.7.8.8': { prefix: 'NAIRealm', utf8: true },
};

interface GeneralNames {
  printed: string[];
  dns: string[];
  ips: string[];
  emails: string[];
  uris: string[];
}

function printOtherName(el: DerElement): string {
  const r = DerReader.of(el);
  const oid = readOid(r.expect(TAG.OID, 'otherName type-id'));
  const wrapped = r.expect(0xa0, 'otherName value');
  r.finish('otherName');
  const value = parseDer(wrapped.value, undefined, 'otherName value');
  const known = OTHERNAME_PREFIX[oid];
  if (known === undefined) return 'othername:<unsupported>';
  const wantTag = known.utf8 ? TAG.UTF8_STRING : TAG.IA5_STRING;
  if (value.tag !== wantTag) return 'othername:<unsupported>';
  // node writes the value bytes; UTF-8 text for the unicode types, raw octets for IA5String.
  const text = known.utf8 ? readString(value) : readLatin1(value);
  return 'othername:' + altName(text, known.utf8, known.prefix);
}

/** Parses a GeneralNames SEQUENCE (subjectAltName, or an AccessDescription's location). */
function generalName(el: DerElement, acc: GeneralNames): void {
  switch (el.tag) {
    case 0xa0: // otherName
      acc.printed.push(printOtherName(el));
      break;
    case 0x81: { // rfc822Name
      const v = readLatin1(el);
      acc.emails.push(v);
      acc.printed.push('email:' + altName(v, false));
      break;
    }
    case 0x82: { // dNSName
      const v = readLatin1(el);
      acc.dns.push(v);
      acc.printed.push('DNS:' + altName(v, false));
      break;
    }
    case 0xa3: // x400Address
      acc.printed.push('X400Name:<unsupported>');
      break;
    case 0xa4: { // directoryName (explicit: Name is a CHOICE)
      const name = parseDer(el.value, TAG.SEQUENCE, 'directoryName');
      acc.printed.push('DirName:' + altName(nameRfc2253(parseName(name, 'directoryName')), true));
      break;
    }
    case 0xa5: // ediPartyName
      acc.printed.push('EdiPartyName:<unsupported>');
      break;
    case 0x86: { // uniformResourceIdentifier
      const v = readLatin1(el);
      acc.uris.push(v);
      acc.printed.push('URI:' + altName(v, false));
      break;
    }
    case 0x87: { // iPAddress
      const b = el.value;
      let s: string;
      if (b.length === 4) {
        s = `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
        acc.ips.push(s);
      } else if (b.length === 16) {
        s = formatIpv6(b);
        acc.ips.push(s);
      } else {
        s = `<invalid length=${b.length}>`;
      }
      acc.printed.push('IP Address:' + s);
      break;
    }
    case 0x88: // registeredID
      acc.printed.push('Registered ID:' + oidToString(el.value, el.offset));
      break;
    default:
      fail(`unknown GeneralName tag 0x${el.tag.toString(16)}`);
  }
}

function emptyGeneralNames(): GeneralNames {
  return { printed: [], dns: [], ips: [], emails: [], uris: [] };
}

// ---------------------------------------------------------------------------------------------
// Extensions

const ACCESS_METHODS: Record<string, string> = {
  '1.3.6.1.5.5.7.48.1': 'OCSP',
  '1.3.6.1.5.5.7.48.2': 'CA Issuers',
  '1.3.6.1.5.5.7.48.3': 'AD Time Stamping',
  '1.3.6.1.5.5.7.48.5': 'CA Repository',
};

/**
 * authorityInfoAccess → node:tls's object form: "OCSP - URI" → [values].
 * (node splits its own "method - kind:value" lines on the first ':'.)
 */
function parseInfoAccess(value: Uint8Array): Record<string, string[]> {
  const seq = parseDer(value, TAG.SEQUENCE, 'authorityInfoAccess');
  const out = Object.create(null) as Record<string, string[]>;
  for (const ad of children(seq)) {
    if (ad.tag !== TAG.SEQUENCE) fail('AccessDescription is not a SEQUENCE');
    const r = DerReader.of(ad);
    const method = readOid(r.expect(TAG.OID, 'accessMethod'));
    const loc = r.read();
    r.finish('AccessDescription');
    const acc = emptyGeneralNames();
    generalName(loc, acc);
    const line = `${ACCESS_METHODS[method] ?? method} - ${acc.printed[0]}`;
    const colon = line.indexOf(':');
    const key = colon < 0 ? line : line.slice(0, colon);
    let val = colon < 0 ? '' : line.slice(colon + 1);
    if (val.startsWith('"')) {
      try { val = JSON.parse(val) as string; } catch { /* keep as printed */ }
    }
    (out[key] ??= []).push(val);
  }
  return out;
}

/** GeneralNames contents (a SEQUENCE OF GeneralName, possibly implicitly tagged): validated only. */
function checkGeneralNames(el: DerElement): void {
  const acc = emptyGeneralNames();
  for (const gn of children(el)) generalName(gn, acc);
}

/**
 * Extensions OpenSSL decodes when it caches a certificate's extensions; one that does not decode
 * marks the certificate invalid there. We reject such a certificate outright.
 */
function checkOtherExtension(oid: string, value: Uint8Array): void {
  switch (oid) {
    case '2.5.29.14': { // subjectKeyIdentifier
      const el = parseDer(value, TAG.OCTET_STRING, 'subjectKeyIdentifier');
      if (el.constructed) fail('constructed subjectKeyIdentifier');
      break;
    }
    case '2.5.29.35': { // authorityKeyIdentifier
      const r = DerReader.of(parseDer(value, TAG.SEQUENCE, 'authorityKeyIdentifier'));
      r.optional(0x80);
      const issuer = r.optional(0xa1);
      if (issuer) checkGeneralNames(issuer);
      const serial = r.optional(0x82);
      if (serial) readIntegerHex({ ...serial, tag: TAG.INTEGER });
      r.finish('authorityKeyIdentifier');
      break;
    }
    case '2.5.29.30': { // nameConstraints
      const r = DerReader.of(parseDer(value, TAG.SEQUENCE, 'nameConstraints'));
      for (const tag of [0xa0, 0xa1]) {
        const subtrees = r.optional(tag);
        if (!subtrees) continue;
        for (const st of children(subtrees)) {
          if (st.tag !== TAG.SEQUENCE) fail('GeneralSubtree is not a SEQUENCE');
          const sr = DerReader.of(st);
          generalName(sr.read(), emptyGeneralNames());
          const min = sr.optional(0x80);
          if (min) readIntegerHex({ ...min, tag: TAG.INTEGER });
          const max = sr.optional(0x81);
          if (max) readIntegerHex({ ...max, tag: TAG.INTEGER });
          sr.finish('GeneralSubtree');
        }
      }
      r.finish('nameConstraints');
      break;
    }
    case '2.5.29.31': { // cRLDistributionPoints (OpenSSL does not decode freshestCRL here)
      for (const dp of children(parseDer(value, TAG.SEQUENCE, 'CRL distribution points'))) {
        if (dp.tag !== TAG.SEQUENCE) fail('DistributionPoint is not a SEQUENCE');
        const r = DerReader.of(dp);
        const name = r.optional(0xa0);
        if (name) {
          const choice = parseDer(name.value, undefined, 'DistributionPointName');
          if (choice.tag === 0xa0) checkGeneralNames(choice);
          else if (choice.tag === 0xa1) {
            const rdn = encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.SET, choice.value));
            parseName(parseDer(rdn, TAG.SEQUENCE), 'nameRelativeToCRLIssuer');
          }
          else fail('unknown DistributionPointName');
        }
        const reasons = r.optional(0x81);
        if (reasons) readBitString(reasons);
        const crlIssuer = r.optional(0xa2);
        if (crlIssuer) checkGeneralNames(crlIssuer);
        r.finish('DistributionPoint');
      }
      break;
    }
    case '2.16.840.1.113730.1.1': // Netscape cert type
      readBitString(parseDer(value, TAG.BIT_STRING, 'nsCertType'));
      break;
  }
}

function parseKeyUsage(value: Uint8Array): number {
  const { bytes } = readBitString(parseDer(value, TAG.BIT_STRING, 'keyUsage'));
  let ku = 0;
  if (bytes.length > 0) ku |= bytes[0];
  if (bytes.length > 1) ku |= bytes[1] << 8;
  return ku;
}

function parseExtKeyUsage(value: Uint8Array): string[] {
  const seq = parseDer(value, TAG.SEQUENCE, 'extKeyUsage');
  return children(seq).map((el) => {
    if (el.tag !== TAG.OID) fail('extKeyUsage entry is not an OID');
    return readOid(el);
  });
}

function parseBasicConstraints(value: Uint8Array): { ca: boolean; pathLen?: number } {
  const seq = parseDer(value, TAG.SEQUENCE, 'basicConstraints');
  const r = DerReader.of(seq);
  const caEl = r.optional(TAG.BOOLEAN);
  const ca = caEl ? readBoolean(caEl) : false;
  const plEl = r.optional(TAG.INTEGER);
  r.finish('basicConstraints');
  if (plEl) {
    const n = plEl.value.length > 6 ? Number.MAX_SAFE_INTEGER : readSmallInteger(plEl);
    if (n < 0) fail('negative pathLenConstraint');
    return { ca, pathLen: n };
  }
  return { ca };
}

// ---------------------------------------------------------------------------------------------
// Public keys

const OID_RSA = '1.2.840.113549.1.1.1';
const OID_EC = '1.2.840.10045.2.1';

interface Curve {
  name: string;
  nist?: string;
  bits: number;
  /** Field element size in bytes. */
  size: number;
  /** Curve y^2 = x^3 + ax + b over GF(p), hex. */
  p: string;
  a: string;
  b: string;
}

const P256 = 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff';
const P384 = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff';
const P521 = '1' + 'f'.repeat(130);
const P192 = 'fffffffffffffffffffffffffffffffeffffffffffffffff';
const P224 = 'ffffffffffffffffffffffffffffffff000000000000000000000001';
/** a = p - 3 for the NIST prime curves. */
const MINUS3 = '-3';

const CURVES: Record<string, Curve> = {
  '1.2.840.10045.3.1.1': { name: 'prime192v1', nist: 'P-192', bits: 192, size: 24, p: P192, a: MINUS3,
    b: '64210519e59c80e70fa7e9ab72243049feb8deecc146b9b1' },
  '1.3.132.0.33': { name: 'secp224r1', nist: 'P-224', bits: 224, size: 28, p: P224, a: MINUS3,
    b: 'b4050a850c04b3abf54132565044b0b7d7bfd8ba270b39432355ffb4' },
  '1.2.840.10045.3.1.7': { name: 'prime256v1', nist: 'P-256', bits: 256, size: 32, p: P256, a: MINUS3,
    b: '5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b' },
  '1.3.132.0.34': { name: 'secp384r1', nist: 'P-384', bits: 384, size: 48, p: P384, a: MINUS3,
    b: 'b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef' },
  '1.3.132.0.35': { name: 'secp521r1', nist: 'P-521', bits: 521, size: 66, p: P521, a: MINUS3,
    b: '51953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00' },
  '1.3.132.0.10': { name: 'secp256k1', bits: 256, size: 32, a: '0', b: '7',
    p: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f' },
  '1.3.36.3.3.2.8.1.1.7': { name: 'brainpoolP256r1', bits: 256, size: 32,
    p: 'a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377',
    a: '7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9',
    b: '26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6' },
  '1.3.36.3.3.2.8.1.1.11': { name: 'brainpoolP384r1', bits: 384, size: 48,
    p: '8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53',
    a: '7bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826',
    b: '04a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c11' },
  '1.3.36.3.3.2.8.1.1.13': { name: 'brainpoolP512r1', bits: 512, size: 64,
    p: 'aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3',
    a: '7830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca',
    b: '3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f723' },
};

const big = (hex: string): bigint => BigInt('0x' + hex);
const bytesToBig = (b: Uint8Array): bigint => (b.length === 0 ? 0n : BigInt('0x' + toHex(b)));
function bigToBytes(n: bigint, size: number): Uint8Array {
  const hex = n.toString(16).padStart(size * 2, '0');
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function modPow(base: bigint, exp: bigint, m: bigint): bigint {
  let r = 1n;
  let b = base % m;
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
  }
  return r;
}

/** A square root of n modulo the odd prime p (Tonelli-Shanks), or undefined when there is none. */
function sqrtMod(n: bigint, p: bigint): bigint | undefined {
  const v = ((n % p) + p) % p;
  if (v === 0n) return 0n;
  if (modPow(v, (p - 1n) / 2n, p) !== 1n) return undefined;
  if (p % 4n === 3n) return modPow(v, (p + 1n) / 4n, p);
  let q = p - 1n;
  let s = 0n;
  while ((q & 1n) === 0n) { q >>= 1n; s++; }
  let z = 2n;
  while (modPow(z, (p - 1n) / 2n, p) !== p - 1n) z++;
  let m = s;
  let c = modPow(z, q, p);
  let t = modPow(v, q, p);
  let r = modPow(v, (q + 1n) / 2n, p);
  while (t !== 1n) {
    let i = 0n;
    for (let t2 = t; t2 !== 1n; t2 = (t2 * t2) % p) i++;
    const b = modPow(c, 1n << (m - i - 1n), p);
    m = i;
    c = (b * b) % p;
    t = (t * c) % p;
    r = (r * b) % p;
  }
  return r;
}

/**
 * Decodes an EC point (uncompressed, compressed or hybrid) and checks it is on the curve.
 * Returns the uncompressed encoding, or undefined when the point is invalid.
 */
function decodePoint(curve: Curve, pt: Uint8Array): Uint8Array | undefined {
  const size = curve.size;
  const p = big(curve.p);
  const a = curve.a === MINUS3 ? p - 3n : big(curve.a);
  const b = big(curve.b);
  const rhs = (x: bigint): bigint => (((x * x % p) * x + a * x + b) % p + p) % p;
  const form = pt[0];
  if ((form === 0x04 || form === 0x06 || form === 0x07) && pt.length === 1 + 2 * size) {
    const x = bytesToBig(pt.subarray(1, 1 + size));
    const y = bytesToBig(pt.subarray(1 + size));
    if (x >= p || y >= p) return undefined;
    if (form !== 0x04 && (y & 1n) !== BigInt(form & 1)) return undefined;
    if ((y * y) % p !== rhs(x)) return undefined;
    return form === 0x04 ? pt.slice() : Uint8Array.of(0x04, ...pt.subarray(1));
  }
  if ((form === 0x02 || form === 0x03) && pt.length === 1 + size) {
    const x = bytesToBig(pt.subarray(1));
    if (x >= p) return undefined;
    let y = sqrtMod(rhs(x), p);
    if (y === undefined) return undefined;
    if ((y & 1n) !== BigInt(form & 1)) {
      if (y === 0n) return undefined;
      y = p - y;
    }
    const out = new Uint8Array(1 + 2 * size);
    out[0] = 0x04;
    out.set(pt.subarray(1), 1);
    out.set(bigToBytes(y, size), 1 + size);
    return out;
  }
  return undefined;
}

function bitLength(mag: Uint8Array): number {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return 0;
  return (mag.length - i - 1) * 8 + (32 - Math.clz32(mag[i]));
}

/** BN_print-style uppercase hex without leading zero digits ("0" for zero). */
function bnHex(mag: Uint8Array): string {
  const h = toHex(mag).replace(/^0+/, '');
  return h === '' ? '0' : h.toUpperCase();
}

/** An INTEGER read the way OpenSSL reads BIGNUM fields: contents as an unsigned magnitude. */
function bignumContents(el: DerElement): Uint8Array {
  if (el.constructed) fail('constructed INTEGER');
  return el.value;
}

interface PublicKeyView {
  algorithm: string;
  namedCurve?: string;
  fields: CertificateInfo['publicKey'];
}

/** The key fields node reports; they are left out when the key does not decode (as node does). */
function parsePublicKey(spkiEl: DerElement): PublicKeyView {
  const r = DerReader.of(spkiEl);
  const algId = r.expect(TAG.SEQUENCE, 'SubjectPublicKeyInfo algorithm');
  const keyBits = readBitString(r.expect(TAG.BIT_STRING, 'subjectPublicKey'));
  r.finish('SubjectPublicKeyInfo');
  const ar = DerReader.of(algId);
  const algorithm = readOid(ar.expect(TAG.OID, 'public key algorithm'));
  const params = ar.done ? undefined : ar.read();
  ar.finish('public key AlgorithmIdentifier');
  if (params) checkAny(params);
  const fields: CertificateInfo['publicKey'] = {};
  if (algorithm === OID_RSA) {
    let n: Uint8Array | undefined, e: Uint8Array | undefined;
    try {
      // RSAPublicKey; like OpenSSL, anything after it inside the BIT STRING is ignored.
      const rr = DerReader.of(new DerReader(keyBits.bytes).expect(TAG.SEQUENCE, 'RSAPublicKey'));
      n = bignumContents(rr.expect(TAG.INTEGER, 'modulus'));
      e = bignumContents(rr.expect(TAG.INTEGER, 'publicExponent'));
      rr.finish('RSAPublicKey');
    } catch {
      n = e = undefined; // not a decodable RSA key: node reports no key fields
    }
    if (n && e) {
      const exp = toHex(e).replace(/^0+/, '') || '0';
      fields.modulus = bnHex(n);
      fields.bits = bitLength(n);
      fields.exponent = '0x' + (exp.length > 16 ? 'ffffffffffffffff' : exp); // BN_get_word saturates
      // node re-encodes the key as a canonical SubjectPublicKeyInfo.
      const rsaKey = encodeTlv(TAG.SEQUENCE, encodeUnsignedInteger(n), encodeUnsignedInteger(e));
      fields.pubkey = encodeTlv(TAG.SEQUENCE,
        encodeTlv(TAG.SEQUENCE, encodeTlv(TAG.OID, OID_RSA_BODY), Uint8Array.of(TAG.NULL, 0)),
        encodeTlv(TAG.BIT_STRING, Uint8Array.of(0), rsaKey));
    }
    return { algorithm, fields };
  }
  if (algorithm === OID_EC) {
    const curveOid = params && params.tag === TAG.OID ? readOid(params) : undefined;
    const curve = curveOid !== undefined ? CURVES[curveOid] : undefined;
    const point = curve && keyBits.bytes.length > 0 ? decodePoint(curve, keyBits.bytes) : undefined;
    if (curve && point) {
      fields.bits = curve.bits;
      fields.pubkey = point;
      fields.asn1Curve = curve.name;
      if (curve.nist) fields.nistCurve = curve.nist;
    }
    return { algorithm, namedCurve: curveOid, fields };
  }
  return { algorithm, fields };
}

/** Contents octets of OID 1.2.840.113549.1.1.1. */
const OID_RSA_BODY = Uint8Array.of(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);

// ---------------------------------------------------------------------------------------------
// Times

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** OpenSSL's ASN1_TIME_print: "Jan  1 00:00:00 2024 GMT" (times with an offset are shown in GMT). */
function formatTime(t: DerTime): string {
  const d = t.date;
  const pad = (n: number): string => (n < 10 ? '0' : '') + n;
  const day = d.getUTCDate();
  return `${MONTHS[d.getUTCMonth()]} ${day < 10 ? ' ' : ''}${day} ${pad(d.getUTCHours())}:` +
    `${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${t.fraction} ${d.getUTCFullYear()} GMT`;
}

// ---------------------------------------------------------------------------------------------
// Certificates

const EXT_SAN = '2.5.29.17';
const EXT_BASIC_CONSTRAINTS = '2.5.29.19';
const EXT_KEY_USAGE = '2.5.29.15';
const EXT_EXT_KEY_USAGE = '2.5.29.37';
const EXT_AIA = '1.3.6.1.5.5.7.1.1';

function readAlgorithmOid(el: DerElement, what: string): string {
  if (el.tag !== TAG.SEQUENCE) fail(`${what} is not a SEQUENCE`);
  const r = DerReader.of(el);
  const oid = readOid(r.expect(TAG.OID, what));
  if (!r.done) checkAny(r.read()); // parameters
  r.finish(what);
  return oid;
}

/** Parses a DER certificate into the internal view. Throws a plain Error when malformed. */
export function parseCertificateInfo(der: Uint8Array): CertificateInfo {
  if (!(der instanceof Uint8Array)) fail('certificate must be a Uint8Array');
  const cert = parseDer(der, TAG.SEQUENCE, 'Certificate');
  const cr = DerReader.of(cert);
  const tbsEl = cr.expect(TAG.SEQUENCE, 'TBSCertificate');
  const signatureAlgorithm = readAlgorithmOid(cr.expect(TAG.SEQUENCE, 'signatureAlgorithm'), 'signatureAlgorithm');
  const sig = readBitString(cr.expect(TAG.BIT_STRING, 'signatureValue'));
  cr.finish('Certificate');

  const r = DerReader.of(tbsEl);
  let version = 1;
  const verEl = r.optional(0xa0);
  if (verEl) {
    const v = readSmallInteger(parseDer(verEl.value, TAG.INTEGER, 'version'));
    if (v < 0 || v > 2) fail(`unsupported version ${v + 1}`);
    version = v + 1;
  }
  const serialNumber = readIntegerHex(r.expect(TAG.INTEGER, 'serialNumber'));
  readAlgorithmOid(r.expect(TAG.SEQUENCE, 'signature'), 'signature');
  const issuerEl = r.expect(TAG.SEQUENCE, 'issuer');
  const validity = DerReader.of(r.expect(TAG.SEQUENCE, 'validity'));
  const nb = validity.read();
  const na = validity.read();
  validity.finish('validity');
  const notBefore = readTimeDetails(nb);
  const notAfter = readTimeDetails(na);
  const subjectEl = r.expect(TAG.SEQUENCE, 'subject');
  const spkiEl = r.expect(TAG.SEQUENCE, 'subjectPublicKeyInfo');
  const iuid = r.optional(0x81);
  if (iuid) readBitString(iuid);
  const suid = r.optional(0x82);
  if (suid) readBitString(suid);
  const extsEl = r.optional(0xa3);
  r.finish('TBSCertificate');

  const issuerAttrs = parseName(issuerEl, 'issuer');
  const subjectAttrs = parseName(subjectEl, 'subject');
  const key = parsePublicKey(spkiEl);

  const extensions: Extension[] = [];
  if (extsEl) {
    const list = parseDer(extsEl.value, TAG.SEQUENCE, 'extensions');
    for (const ext of children(list)) {
      if (ext.tag !== TAG.SEQUENCE) fail('an extension is not a SEQUENCE');
      const er = DerReader.of(ext);
      const oid = readOid(er.expect(TAG.OID, 'extnID'));
      const critEl = er.optional(TAG.BOOLEAN);
      const critical = critEl ? readBoolean(critEl) : false;
      const valEl = er.expect(TAG.OCTET_STRING, 'extnValue');
      if (valEl.constructed) fail('constructed extnValue');
      er.finish('Extension');
      if (extensions.some((e) => e.oid === oid)) fail(`duplicate extension ${oid}`);
      extensions.push({ oid, critical, value: valEl.value });
    }
  }

  const names = emptyGeneralNames();
  let subjectAltName: string | undefined;
  let keyUsage: number | undefined;
  let extKeyUsage: string[] | undefined;
  let isCA = false;
  let hasBasicConstraints = false;
  let pathLenConstraint: number | undefined;
  let infoAccess: Record<string, string[]> | undefined;
  for (const ext of extensions) {
    switch (ext.oid) {
      case EXT_SAN: {
        const seq = parseDer(ext.value, TAG.SEQUENCE, 'subjectAltName');
        for (const gn of children(seq)) generalName(gn, names);
        subjectAltName = names.printed.join(', ');
        break;
      }
      case EXT_BASIC_CONSTRAINTS: {
        const bc = parseBasicConstraints(ext.value);
        hasBasicConstraints = true;
        isCA = bc.ca;
        pathLenConstraint = bc.pathLen;
        break;
      }
      case EXT_KEY_USAGE:
        keyUsage = parseKeyUsage(ext.value);
        break;
      case EXT_EXT_KEY_USAGE:
        extKeyUsage = parseExtKeyUsage(ext.value);
        break;
      case EXT_AIA:
        infoAccess = parseInfoAccess(ext.value);
        break;
      default:
        checkOtherExtension(ext.oid, ext.value);
    }
  }

  const subjectDer = subjectEl.bytes.slice();
  const issuerDer = issuerEl.bytes.slice();
  const info: CertificateInfo = {
    version,
    serialNumber,
    subject: nameObject(subjectAttrs),
    issuer: nameObject(issuerAttrs),
    subjectDer,
    issuerDer,
    selfIssued: bytesEqual(subjectDer, issuerDer),
    notBefore: notBefore.date,
    notAfter: notAfter.date,
    validFrom: formatTime(notBefore),
    validTo: formatTime(notAfter),
    dnsNames: names.dns,
    ipAddresses: names.ips,
    emailAddresses: names.emails,
    uris: names.uris,
    isCA,
    ca: hasBasicConstraints && isCA && (keyUsage === undefined || (keyUsage & KU_KEY_CERT_SIGN) !== 0),
    spki: spkiEl.bytes.slice(),
    publicKeyAlgorithm: key.algorithm,
    publicKey: key.fields,
    signatureAlgorithm,
    tbs: tbsEl.bytes.slice(),
    signature: sig.bytes.slice(),
    extensions,
    raw: der.slice(),
  };
  if (subjectAltName !== undefined) info.subjectAltName = subjectAltName;
  if (keyUsage !== undefined) info.keyUsage = keyUsage;
  if (extKeyUsage !== undefined) info.extKeyUsage = extKeyUsage;
  if (pathLenConstraint !== undefined) info.pathLenConstraint = pathLenConstraint;
  if (infoAccess !== undefined) info.infoAccess = infoAccess;
  if (key.namedCurve !== undefined) info.namedCurve = key.namedCurve;
  // Extension values must not alias the caller's buffer.
  for (const e of extensions) e.value = e.value.slice();
  return info;
}

function fingerprint(digest: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < digest.length; i++) parts.push((digest[i] < 16 ? '0' : '') + digest[i].toString(16).toUpperCase());
  return parts.join(':');
}

/** From the internal view to node:tls's shape (keys in node's order). */
export function toPeerCertificate(info: CertificateInfo, hash: HashProvider): PeerCertificate {
  const out = {} as PeerCertificate;
  out.subject = info.subject;
  out.issuer = info.issuer;
  if (info.subjectAltName !== undefined) out.subjectaltname = info.subjectAltName;
  if (info.infoAccess !== undefined) out.infoAccess = info.infoAccess;
  out.ca = info.ca;
  const k = info.publicKey;
  if (k.modulus !== undefined) out.modulus = k.modulus;
  if (k.bits !== undefined) out.bits = k.bits;
  if (k.exponent !== undefined) out.exponent = k.exponent;
  if (k.pubkey !== undefined) out.pubkey = k.pubkey.slice();
  if (k.asn1Curve !== undefined) out.asn1Curve = k.asn1Curve;
  if (k.nistCurve !== undefined) out.nistCurve = k.nistCurve;
  out.valid_from = info.validFrom;
  out.valid_to = info.validTo;
  out.fingerprint = fingerprint(hash.sha1(info.raw));
  out.fingerprint256 = fingerprint(hash.sha256(info.raw));
  if (hash.sha512) out.fingerprint512 = fingerprint(hash.sha512(info.raw));
  if (info.extKeyUsage !== undefined) out.ext_key_usage = info.extKeyUsage.slice();
  out.serialNumber = info.serialNumber;
  out.raw = info.raw.slice();
  return out;
}

/** Parses a DER certificate into node:tls's getPeerCertificate() shape. */
export function parseCertificate(der: Uint8Array, hash: HashProvider): PeerCertificate {
  return toPeerCertificate(parseCertificateInfo(der), hash);
}

// ---------------------------------------------------------------------------------------------
// PEM

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/** Strict base64 (padding required, whitespace ignored). */
export function base64Decode(text: string): Uint8Array {
  let clean = '';
  for (let i = 0; i < text.length; i++) {
    if (!isSpace(text.charCodeAt(i))) clean += text[i];
  }
  if (clean.length % 4 !== 0) throw new Error('base64: length is not a multiple of 4');
  let pad = 0;
  if (clean.endsWith('==')) pad = 2;
  else if (clean.endsWith('=')) pad = 1;
  const out = new Uint8Array((clean.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < clean.length; i += 4) {
    const last = i + 4 === clean.length;
    let acc = 0;
    for (let j = 0; j < 4; j++) {
      const c = clean.charCodeAt(i + j);
      let v: number;
      if (c === 0x3d /* = */ && last && j >= 4 - pad) v = 0;
      else {
        v = c < 128 ? B64_INDEX[c] : -1;
        if (v < 0) throw new Error(`base64: invalid character ${JSON.stringify(clean[i + j])}`);
      }
      acc = (acc << 6) | v;
    }
    out[o++] = (acc >> 16) & 0xff;
    if (o < out.length) out[o++] = (acc >> 8) & 0xff;
    if (o < out.length) out[o++] = acc & 0xff;
  }
  return out;
}

export function base64Encode(data: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (i + 1 === data.length) {
    const n = data[i] << 16;
    s += B64[n >> 18] + B64[(n >> 12) & 63] + '==';
  } else if (i + 2 === data.length) {
    const n = (data[i] << 16) | (data[i + 1] << 8);
    s += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + '=';
  }
  return s;
}

function bytesToLatin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 4096)));
  return s;
}

/**
 * Every `-----BEGIN CERTIFICATE-----` block of a PEM text, decoded. Other PEM blocks (keys) and
 * text between blocks are skipped. Throws when no certificate is found, a block is unterminated,
 * its body is not base64, or it does not hold one DER element.
 */
export function pemToDerList(pem: string | Uint8Array): Uint8Array[] {
  const text = typeof pem === 'string' ? pem : pem instanceof Uint8Array ? bytesToLatin1(pem) : undefined;
  if (text === undefined) throw new Error('PEM: expected a string');
  const out: Uint8Array[] = [];
  const begin = /-----BEGIN ([^\r\n-]*)-----/g;
  let m: RegExpExecArray | null;
  while ((m = begin.exec(text)) !== null) {
    const label = m[1];
    const bodyStart = m.index + m[0].length;
    const endMarker = `-----END ${label}-----`;
    const end = text.indexOf(endMarker, bodyStart);
    if (end < 0) throw new Error(`PEM: "${label}" block is not terminated`);
    const body = text.slice(bodyStart, end);
    if (body.includes('-----')) throw new Error(`PEM: "${label}" block contains another boundary line`);
    begin.lastIndex = end + endMarker.length;
    if (label !== 'CERTIFICATE') continue;
    if (body.includes(':')) throw new Error('PEM: unexpected headers in a CERTIFICATE block');
    let der: Uint8Array;
    try {
      der = base64Decode(body);
    } catch (e) {
      throw new Error(`PEM: CERTIFICATE block #${out.length + 1} is not valid base64 (${(e as Error).message})`);
    }
    if (der.length === 0) throw new Error(`PEM: CERTIFICATE block #${out.length + 1} is empty`);
    try {
      parseDer(der, TAG.SEQUENCE, 'Certificate');
    } catch (e) {
      throw new Error(`PEM: CERTIFICATE block #${out.length + 1} is not a DER SEQUENCE (${(e as Error).message})`);
    }
    out.push(der);
  }
  if (out.length === 0) throw new Error('PEM: no "-----BEGIN CERTIFICATE-----" block found');
  return out;
}

/** DER → PEM with 64-character lines and a trailing newline. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = base64Encode(der);
  let s = `-----BEGIN ${label}-----\n`;
  for (let i = 0; i < b64.length; i += 64) s += b64.slice(i, i + 64) + '\n';
  return s + `-----END ${label}-----\n`;
}
