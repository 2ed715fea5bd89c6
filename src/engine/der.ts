/**
 * A small, defensive DER reader.
 *
 * Only definite lengths are accepted, every length is checked against the bytes that are really
 * there, and any malformed input throws a plain `Error` whose message says what was wrong and
 * where. Nothing here reads outside the buffer it was given, and nothing allocates in proportion
 * to a length field before that length has been checked.
 *
 * Browser-safe: no node:* imports, no Buffer.
 */

/** Tag classes (the top two bits of the identifier octet). */
export const CLASS_UNIVERSAL = 0;
export const CLASS_APPLICATION = 1;
export const CLASS_CONTEXT = 2;
export const CLASS_PRIVATE = 3;

/** Identifier octets of the universal types this package reads. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  NUMERIC_STRING: 0x12,
  PRINTABLE_STRING: 0x13,
  T61_STRING: 0x14,
  VIDEOTEX_STRING: 0x15,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  GRAPHIC_STRING: 0x19,
  VISIBLE_STRING: 0x1a,
  GENERAL_STRING: 0x1b,
  UNIVERSAL_STRING: 0x1c,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One decoded TLV. `bytes` is the whole element (header included), `value` its contents. */
export interface DerElement {
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number;
  readonly constructed: boolean;
  /** Tag number (may exceed 30 for high-tag-number form). */
  readonly tagNumber: number;
  /**
   * The identifier octet for low tag numbers (e.g. 0x30 for SEQUENCE, 0xa0 for [0] constructed);
   * -1 when the high-tag-number form was used.
   */
  readonly tag: number;
  /** Offset of the element in the buffer it was read from. */
  readonly offset: number;
  /** Header length (identifier + length octets). */
  readonly headerLength: number;
  /** The contents octets (a view, not a copy). */
  readonly value: Uint8Array;
  /** The whole element, header included (a view, not a copy). */
  readonly bytes: Uint8Array;
}

/** Largest length we accept (inputs here are certificates, far below this). */
const MAX_LENGTH = 0x7fffffff;
/** Largest high-form tag number we accept. */
const MAX_TAG_NUMBER = 0x1fffff;

function fail(message: string, offset?: number): never {
  throw new Error(offset === undefined ? `DER: ${message}` : `DER: ${message} at offset ${offset}`);
}

function hex2(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16);
}

/** Human-readable name of an identifier octet, for error messages. */
export function tagName(tag: number): string {
  switch (tag) {
    case TAG.BOOLEAN: return 'BOOLEAN';
    case TAG.INTEGER: return 'INTEGER';
    case TAG.BIT_STRING: return 'BIT STRING';
    case TAG.OCTET_STRING: return 'OCTET STRING';
    case TAG.NULL: return 'NULL';
    case TAG.OID: return 'OBJECT IDENTIFIER';
    case TAG.SEQUENCE: return 'SEQUENCE';
    case TAG.SET: return 'SET';
    case TAG.UTC_TIME: return 'UTCTime';
    case TAG.GENERALIZED_TIME: return 'GeneralizedTime';
    default:
      if (tag >= 0x80 && tag <= 0xbf) return `[${tag & 0x1f}]${tag & 0x20 ? ' constructed' : ''}`;
      return `tag 0x${hex2(tag)}`;
  }
}

/**
 * Reads consecutive elements from `buf[start, end)`. Each `read*` consumes one element.
 */
export class DerReader {
  private pos: number;
  private readonly end: number;
  private readonly buf: Uint8Array;
  /** Offset of `buf[0]` in the outermost input, so error offsets are meaningful. */
  private readonly base: number;

  constructor(buf: Uint8Array, base = 0) {
    if (!(buf instanceof Uint8Array)) fail('input is not a Uint8Array');
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    this.base = base;
  }

  /** A reader over the contents of a constructed element. */
  static of(el: DerElement): DerReader {
    if (!el.constructed) fail(`${tagName(el.tag)} is not constructed`, el.offset);
    return new DerReader(el.value, el.offset + el.headerLength);
  }

  /** True when every byte has been consumed. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Absolute offset of the next element. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** The identifier octet of the next element, or -1 at the end. */
  peekTag(): number {
    return this.pos < this.end ? this.buf[this.pos] : -1;
  }

  /** Reads the next element, whatever it is. */
  read(): DerElement {
    const buf = this.buf;
    const start = this.pos;
    const at = this.base + start;
    let p = start;
    if (p >= this.end) fail('unexpected end of data (expected an element)', at);
    const id = buf[p++];
    const cls = id >> 6;
    const constructed = (id & 0x20) !== 0;
    let tagNumber = id & 0x1f;
    let tag = id;
    if (tagNumber === 0x1f) {
      // High-tag-number form: base-128, at least one octet, no leading 0x80 padding.
      tag = -1;
      tagNumber = 0;
      let first = true;
      for (;;) {
        if (p >= this.end) fail('truncated high tag number', at);
        const b = buf[p++];
        if (first && b === 0x80) fail('non-minimal high tag number', at);
        first = false;
        tagNumber = tagNumber * 128 + (b & 0x7f);
        if (tagNumber > MAX_TAG_NUMBER) fail('tag number too large', at);
        if ((b & 0x80) === 0) break;
      }
      if (tagNumber < 0x1f) fail('high-tag-number form used for a low tag number', at);
    }
    if (p >= this.end) fail('truncated length', at);
    const l0 = buf[p++];
    let length: number;
    if (l0 < 0x80) {
      length = l0;
    } else if (l0 === 0x80) {
      fail('indefinite length is not allowed in DER', at);
    } else if (l0 === 0xff) {
      fail('reserved length octet 0xff', at);
    } else {
      const n = l0 & 0x7f;
      if (n > 4) fail(`length of ${n} octets is too long`, at);
      if (p + n > this.end) fail('truncated length', at);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + buf[p++];
      if (buf[p - n] === 0) fail('non-minimal length encoding (leading zero)', at);
      if (length < 0x80) fail('non-minimal length encoding (long form for a short length)', at);
      if (length > MAX_LENGTH) fail('length too large', at);
    }
    const headerLength = p - start;
    if (length > this.end - p) {
      fail(`${tagName(tag)} length ${length} exceeds the ${this.end - p} bytes available`, at);
    }
    this.pos = p + length;
    return {
      cls,
      constructed,
      tagNumber,
      tag,
      offset: at,
      headerLength,
      value: buf.subarray(p, p + length),
      bytes: buf.subarray(start, p + length),
    };
  }

  /** Reads the next element and checks its identifier octet. */
  expect(tag: number, what?: string): DerElement {
    const got = this.peekTag();
    if (got !== tag) {
      const name = what ? `${what} (${tagName(tag)})` : tagName(tag);
      if (got < 0) fail(`unexpected end of data (expected ${name})`, this.offset);
      fail(`expected ${name}, found ${tagName(got)}`, this.offset);
    }
    return this.read();
  }

  /** Reads the next element only if its identifier octet is `tag`. */
  optional(tag: number): DerElement | undefined {
    return this.peekTag() === tag ? this.read() : undefined;
  }

  /** Throws unless every byte has been consumed. */
  finish(what: string): void {
    if (!this.done) fail(`unexpected data after the end of ${what}`, this.offset);
  }

  /** Reads all remaining elements. */
  readAll(): DerElement[] {
    const out: DerElement[] = [];
    while (!this.done) out.push(this.read());
    return out;
  }
}

/** Parses exactly one element spanning the whole input. */
export function parseDer(buf: Uint8Array, tag?: number, what = 'input'): DerElement {
  const r = new DerReader(buf);
  const el = tag === undefined ? r.read() : r.expect(tag, what);
  r.finish(what);
  return el;
}

/** The elements inside a constructed element. */
export function children(el: DerElement): DerElement[] {
  return DerReader.of(el).readAll();
}

function primitive(el: DerElement, what: string): Uint8Array {
  if (el.constructed) fail(`${what} must be primitive`, el.offset);
  return el.value;
}

/** INTEGER contents → bytes checked for minimal encoding. */
function integerBytes(el: DerElement): Uint8Array {
  const v = primitive(el, 'INTEGER');
  if (v.length === 0) fail('empty INTEGER', el.offset);
  if (v.length > 1 && ((v[0] === 0x00 && (v[1] & 0x80) === 0) || (v[0] === 0xff && (v[1] & 0x80) !== 0))) {
    fail('non-minimal INTEGER encoding', el.offset);
  }
  return v;
}

/**
 * INTEGER → uppercase hex of its magnitude, two digits per byte, leading zero bytes dropped
 * ("0" for zero, "-" prefix when negative), i.e. the way OpenSSL's BN_bn2hex prints a serial.
 */
export function readIntegerHex(el: DerElement): string {
  const v = integerBytes(el);
  const negative = (v[0] & 0x80) !== 0;
  let mag: Uint8Array = v;
  if (negative) {
    // Two's complement → magnitude.
    mag = new Uint8Array(v.length);
    let carry = 1;
    for (let i = v.length - 1; i >= 0; i--) {
      const x = (~v[i] & 0xff) + carry;
      mag[i] = x & 0xff;
      carry = x >> 8;
    }
  }
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  if (i === mag.length) return '0';
  let s = '';
  for (; i < mag.length; i++) s += hex2(mag[i]);
  return (negative ? '-' : '') + s.toUpperCase();
}

/** INTEGER → unsigned magnitude bytes without leading zeros (throws when negative). */
export function readUnsignedInteger(el: DerElement): Uint8Array {
  const v = integerBytes(el);
  if (v[0] & 0x80) fail('negative INTEGER where a non-negative one is required', el.offset);
  let i = 0;
  while (i < v.length - 1 && v[i] === 0) i++;
  return v.subarray(i);
}

/** INTEGER → number, for small values (throws when it does not fit in a safe integer). */
export function readSmallInteger(el: DerElement): number {
  const v = integerBytes(el);
  if (v.length > 6) fail('INTEGER too large', el.offset);
  let n = 0;
  for (const b of v) n = n * 256 + b;
  if (v[0] & 0x80) n -= 2 ** (8 * v.length);
  return n;
}

/** BOOLEAN → boolean (any non-zero octet is true, as OpenSSL reads it). */
export function readBoolean(el: DerElement): boolean {
  const v = primitive(el, 'BOOLEAN');
  if (v.length !== 1) fail('BOOLEAN must be one octet', el.offset);
  return v[0] !== 0;
}

/** NULL: checks it is empty. */
export function readNull(el: DerElement): null {
  if (primitive(el, 'NULL').length !== 0) fail('NULL must be empty', el.offset);
  return null;
}

/**
 * BIT STRING → its octets and the count of unused bits in the last octet. Unused bits are
 * cleared (as OpenSSL does); the result is a view when they already were, else a copy.
 */
export function readBitString(el: DerElement): { bytes: Uint8Array; unusedBits: number } {
  const v = primitive(el, 'BIT STRING');
  if (v.length === 0) fail('empty BIT STRING', el.offset);
  const unusedBits = v[0];
  if (unusedBits > 7) fail('BIT STRING with more than 7 unused bits', el.offset);
  if (v.length === 1 && unusedBits !== 0) fail('empty BIT STRING with unused bits', el.offset);
  let bytes = v.subarray(1);
  const mask = (1 << unusedBits) - 1;
  if (unusedBits !== 0 && (bytes[bytes.length - 1] & mask) !== 0) {
    bytes = bytes.slice();
    bytes[bytes.length - 1] &= ~mask & 0xff;
  }
  return { bytes, unusedBits };
}

/**
 * Checks the encoding of an element whose type is ANY (e.g. AlgorithmIdentifier parameters) the
 * way OpenSSL does when it stores one: universal types other than SEQUENCE/SET must be
 * primitive, and BOOLEAN, NULL, INTEGER, ENUMERATED, OBJECT IDENTIFIER and BIT STRING contents
 * must be well formed. Contents of SEQUENCE/SET and of non-universal tags are not examined.
 */
export function checkAny(el: DerElement): void {
  if (el.cls !== CLASS_UNIVERSAL) return;
  const t = el.tagNumber;
  if (t === 16 || t === 17) {
    if (!el.constructed) fail(`${t === 16 ? 'SEQUENCE' : 'SET'} must be constructed`, el.offset);
    return;
  }
  if (el.constructed) fail(`constructed encoding of universal type ${t}`, el.offset);
  switch (t) {
    case 0: fail('universal tag 0 is reserved', el.offset); break;
    case 1: readBoolean(el); break;
    case 2: case 10: integerBytes(el); break;
    case 3: readBitString(el); break;
    case 5: readNull(el); break;
    case 6: readOid(el); break;
  }
}

/** Encodes one element (definite, minimal length). */
export function encodeTlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const len: number[] = [];
  if (n < 0x80) {
    len.push(n);
  } else {
    for (let m = n; m > 0; m = Math.floor(m / 256)) len.unshift(m & 0xff);
    len.unshift(0x80 | len.length);
  }
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  let o = 1 + len.length;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Encodes a non-negative INTEGER from its big-endian magnitude (leading zeros dropped). */
export function encodeUnsignedInteger(mag: Uint8Array): Uint8Array {
  let i = 0;
  while (i < mag.length - 1 && mag[i] === 0) i++;
  const m = mag.length === 0 ? new Uint8Array(1) : mag.subarray(i);
  return (m[0] & 0x80) !== 0 ? encodeTlv(TAG.INTEGER, new Uint8Array(1), m) : encodeTlv(TAG.INTEGER, m);
}

/** OBJECT IDENTIFIER → dotted decimal string, e.g. "2.5.4.3". */
export function readOid(el: DerElement): string {
  return oidToString(primitive(el, 'OBJECT IDENTIFIER'), el.offset);
}

/** OID contents octets → dotted decimal string. */
export function oidToString(v: Uint8Array, offset = 0): string {
  if (v.length === 0) fail('empty OBJECT IDENTIFIER', offset);
  if (v[v.length - 1] & 0x80) fail('truncated OBJECT IDENTIFIER', offset);
  const arcs: string[] = [];
  let n = 0n;
  let start = true;
  for (let i = 0; i < v.length; i++) {
    const b = v[i];
    if (start && b === 0x80) fail('non-minimal OBJECT IDENTIFIER arc', offset);
    start = false;
    n = (n << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        // First subidentifier encodes the first two arcs.
        if (n < 40n) arcs.push('0', n.toString());
        else if (n < 80n) arcs.push('1', (n - 40n).toString());
        else arcs.push('2', (n - 80n).toString());
      } else {
        arcs.push(n.toString());
      }
      n = 0n;
      start = true;
    }
  }
  return arcs.join('.');
}

const latin1 = (v: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < v.length; i += 4096) {
    s += String.fromCharCode(...v.subarray(i, Math.min(v.length, i + 4096)));
  }
  return s;
};

let utf8Decoder: TextDecoder | undefined;

/** Strict UTF-8 (throws on invalid sequences). */
export function decodeUtf8(v: Uint8Array, offset = 0): string {
  utf8Decoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return utf8Decoder.decode(v);
  } catch {
    fail('invalid UTF-8 in UTF8String', offset);
  }
}

function decodeBmp(v: Uint8Array, offset: number): string {
  if (v.length % 2 !== 0) fail('BMPString with an odd number of octets', offset);
  let s = '';
  for (let i = 0; i < v.length; i += 2) {
    const u = (v[i] << 8) | v[i + 1];
    if (u >= 0xd800 && u <= 0xdbff) {
      const lo = i + 3 < v.length ? (v[i + 2] << 8) | v[i + 3] : -1;
      if (lo < 0xdc00 || lo > 0xdfff) fail('unpaired surrogate in BMPString', offset);
      s += String.fromCharCode(u, lo);
      i += 2;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
      fail('unpaired surrogate in BMPString', offset);
    } else {
      s += String.fromCharCode(u);
    }
  }
  return s;
}

function decodeUniversal(v: Uint8Array, offset: number): string {
  if (v.length % 4 !== 0) fail('UniversalString length is not a multiple of 4', offset);
  let s = '';
  for (let i = 0; i < v.length; i += 4) {
    const c = ((v[i] << 24) | (v[i + 1] << 16) | (v[i + 2] << 8) | v[i + 3]) >>> 0;
    if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) fail('invalid code point in UniversalString', offset);
    s += String.fromCodePoint(c);
  }
  return s;
}

/** True for the universal string types `readString` understands. */
export function isStringTag(tag: number): boolean {
  switch (tag) {
    case TAG.UTF8_STRING: case TAG.NUMERIC_STRING: case TAG.PRINTABLE_STRING: case TAG.T61_STRING:
    case TAG.IA5_STRING: case TAG.VISIBLE_STRING: case TAG.UNIVERSAL_STRING: case TAG.BMP_STRING:
    case TAG.VIDEOTEX_STRING: case TAG.GRAPHIC_STRING: case TAG.GENERAL_STRING:
      return true;
    default:
      return false;
  }
}

/**
 * A string type → JS string. UTF8String is decoded strictly; BMPString as UTF-16BE and
 * UniversalString as UTF-32BE; the single-byte types (PrintableString, IA5String, T61String,
 * NumericString, VisibleString, ...) are read as Latin-1, as OpenSSL converts them.
 */
export function readString(el: DerElement): string {
  const v = primitive(el, 'string');
  switch (el.tag) {
    case TAG.UTF8_STRING: return decodeUtf8(v, el.offset);
    case TAG.BMP_STRING: return decodeBmp(v, el.offset);
    case TAG.UNIVERSAL_STRING: return decodeUniversal(v, el.offset);
    case TAG.NUMERIC_STRING: case TAG.PRINTABLE_STRING: case TAG.T61_STRING: case TAG.IA5_STRING:
    case TAG.VISIBLE_STRING: case TAG.VIDEOTEX_STRING: case TAG.GRAPHIC_STRING: case TAG.GENERAL_STRING:
      return latin1(v);
    default:
      fail(`expected a string type, found ${tagName(el.tag)}`, el.offset);
  }
}

/** Any primitive's contents as Latin-1 (IA5String in certificate extensions, etc.). */
export function readLatin1(el: DerElement): string {
  return latin1(primitive(el, 'string'));
}

/** A time as read from the certificate, with what printing it needs besides the instant. */
export interface DerTime {
  date: Date;
  /** Fractional seconds as written, including the dot (GeneralizedTime only), else ''. */
  fraction: string;
  /** True when the value ended in 'Z' (always, for DER). */
  utc: boolean;
}

function digits(s: string, at: number, n: number, offset: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = s.charCodeAt(i) - 0x30;
    if (!(c >= 0 && c <= 9)) fail('invalid digit in time value', offset);
    v = v * 10 + c;
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * UTCTime (YYMMDDHHMM[SS](Z|±hhmm), years 50-99 → 19xx) or GeneralizedTime
 * (YYYYMMDDHHMM[SS[.fff]](Z|±hhmm)) → the instant and its printing details.
 */
export function readTimeDetails(el: DerElement): DerTime {
  const v = primitive(el, 'time');
  if (el.tag !== TAG.UTC_TIME && el.tag !== TAG.GENERALIZED_TIME) {
    fail(`expected UTCTime or GeneralizedTime, found ${tagName(el.tag)}`, el.offset);
  }
  if (v.length > 32) fail('time value too long', el.offset);
  const s = latin1(v);
  const generalized = el.tag === TAG.GENERALIZED_TIME;
  let p = 0;
  let year: number;
  if (generalized) {
    if (s.length < 12) fail('GeneralizedTime too short', el.offset);
    year = digits(s, 0, 4, el.offset);
    p = 4;
  } else {
    if (s.length < 10) fail('UTCTime too short', el.offset);
    const yy = digits(s, 0, 2, el.offset);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    p = 2;
  }
  const month = digits(s, p, 2, el.offset);
  const day = digits(s, p + 2, 2, el.offset);
  const hour = digits(s, p + 4, 2, el.offset);
  const minute = digits(s, p + 6, 2, el.offset);
  p += 8;
  let second = 0;
  if (p + 2 <= s.length && s.charCodeAt(p) >= 0x30 && s.charCodeAt(p) <= 0x39) {
    second = digits(s, p, 2, el.offset);
    p += 2;
  }
  let fraction = '';
  let millis = 0;
  if (generalized && s[p] === '.') {
    let q = p + 1;
    while (q < s.length && s.charCodeAt(q) >= 0x30 && s.charCodeAt(q) <= 0x39) q++;
    if (q === p + 1) fail('empty fractional seconds in GeneralizedTime', el.offset);
    fraction = s.slice(p, q);
    millis = Math.floor(Number('0' + fraction) * 1000);
    p = q;
  }
  let utc = false;
  let offsetMinutes = 0;
  if (s[p] === 'Z') {
    utc = true;
    p++;
  } else if (s[p] === '+' || s[p] === '-') {
    const sign = s[p] === '+' ? 1 : -1;
    if (p + 5 > s.length) fail('truncated time zone offset', el.offset);
    const oh = digits(s, p + 1, 2, el.offset);
    const om = digits(s, p + 3, 2, el.offset);
    if (oh > 12 || om > 59) fail('invalid time zone offset', el.offset);
    offsetMinutes = sign * (oh * 60 + om);
    p += 5;
  } else {
    fail('time value must end in Z or a ±hhmm offset', el.offset);
  }
  if (p !== s.length) fail('unexpected characters after the time value', el.offset);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (month < 1 || month > 12) fail('month out of range in time value', el.offset);
  const dim = month === 2 && leap ? 29 : DAYS[month - 1];
  if (day < 1 || day > dim) fail('day out of range in time value', el.offset);
  if (hour > 23 || minute > 59 || second > 59) fail('time of day out of range', el.offset);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  if (offsetMinutes !== 0) date.setTime(date.getTime() - offsetMinutes * 60000);
  return { date, fraction, utc };
}

/** UTCTime or GeneralizedTime → Date. */
export function readTime(el: DerElement): Date {
  return readTimeDetails(el).date;
}

/** Bytes → lowercase hex (no separators). */
export function toHex(v: Uint8Array): string {
  let s = '';
  for (let i = 0; i < v.length; i++) s += hex2(v[i]);
  return s;
}

/** The parts as one buffer (the part itself when there is only one). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
