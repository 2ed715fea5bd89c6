/**
 * The TlsError family: every failure the package reports is a TlsError with
 *  - `code`: a stable `ERR_TLS_*` string (what programs branch on),
 *  - `mbedtlsCode` / `mbedtlsMessage`: the raw mbedTLS code and its text (0 / '' when the error
 *    did not come from mbedTLS),
 *  - `fault`: who is to blame: the `peer` (protocol violation, alert, malformed record), the
 *    `local` side (bad options, misuse, resources) or the `certificate` (verification failed).
 * Certificate errors also carry `authorizationError`, node:tls's name for the reason
 * (e.g. CERT_HAS_EXPIRED), which is also what TLSSocket.authorizationError reports.
 */

export type Fault = 'peer' | 'local' | 'certificate';

export interface TlsErrorInit {
  mbedtlsCode?: number;
  mbedtlsMessage?: string;
  alert?: number;
  option?: string;
  authorizationError?: string;
  cause?: unknown;
}

export class TlsError extends Error {
  override readonly name = 'TlsError';
  readonly code: string;
  readonly fault: Fault;
  readonly mbedtlsCode: number;
  readonly mbedtlsMessage: string;
  /** TLS alert description received from (or sent to) the peer, when one was involved. */
  readonly alert?: number;
  /** For ERR_TLS_INVALID_OPTION: the option at fault. */
  readonly option?: string;
  /** For certificate errors: node:tls's code for the reason. */
  readonly authorizationError?: string;

  constructor(code: string, fault: Fault, message: string, init: TlsErrorInit = {}) {
    super(message, init.cause !== undefined ? { cause: init.cause } : undefined);
    this.code = code;
    this.fault = fault;
    this.mbedtlsCode = init.mbedtlsCode ?? 0;
    this.mbedtlsMessage = init.mbedtlsMessage ?? '';
    if (init.alert !== undefined) this.alert = init.alert;
    if (init.option !== undefined) this.option = init.option;
    if (init.authorizationError !== undefined) this.authorizationError = init.authorizationError;
  }
}

/** An invalid option given to a constructor or factory: thrown synchronously, names the option. */
export function invalidOption(option: string, message: string, cause?: unknown): TlsError {
  return new TlsError('ERR_TLS_INVALID_OPTION', 'local', `Invalid option "${option}": ${message}`,
    { option, cause });
}

/** Use of an object after dispose(), or an engine operation in a state that forbids it. */
export function misuse(code: 'ERR_TLS_DISPOSED' | 'ERR_TLS_INVALID_STATE' | 'ERR_TLS_WASM_NOT_READY' | 'ERR_TLS_WRITE_RETRY_MISMATCH',
  message: string): TlsError {
  return new TlsError(code, 'local', message);
}

/** TLS alert descriptions (RFC 8446 §6), for messages. */
export const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow',
  40: 'handshake_failure', 42: 'bad_certificate', 43: 'unsupported_certificate',
  44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown',
  47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error',
  51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation',
  109: 'missing_extension', 110: 'unsupported_extension', 112: 'unrecognized_name',
  113: 'bad_certificate_status_response', 115: 'unknown_psk_identity', 116: 'certificate_required',
  120: 'no_application_protocol',
};

interface CodeInfo { code: string; fault: Fault }

/** mbedTLS (and shim) error codes → stable codes. Unlisted codes map by module (see below). */
const BY_CODE: ReadonlyMap<number, CodeInfo> = new Map<number, CodeInfo>([
  [-0x7780, { code: 'ERR_TLS_ALERT_RECEIVED', fault: 'peer' }],
  [-0x7180, { code: 'ERR_TLS_BAD_RECORD_MAC', fault: 'peer' }],
  [-0x7200, { code: 'ERR_TLS_INVALID_RECORD', fault: 'peer' }],
  [-0x7300, { code: 'ERR_TLS_DECODE_ERROR', fault: 'peer' }],
  [-0x7700, { code: 'ERR_TLS_UNEXPECTED_MESSAGE', fault: 'peer' }],
  [-0x6700, { code: 'ERR_TLS_UNEXPECTED_MESSAGE', fault: 'peer' }],
  [-0x6600, { code: 'ERR_TLS_ILLEGAL_PARAMETER', fault: 'peer' }],
  [-0x6E80, { code: 'ERR_TLS_PROTOCOL_VERSION', fault: 'peer' }],
  [-0x5F00, { code: 'ERR_TLS_PROTOCOL_VERSION', fault: 'peer' }],
  [-0x6E00, { code: 'ERR_TLS_HANDSHAKE_FAILURE', fault: 'peer' }],
  [-0x7580, { code: 'ERR_TLS_NO_APPLICATION_PROTOCOL', fault: 'peer' }],
  [-0x7800, { code: 'ERR_TLS_UNRECOGNIZED_NAME', fault: 'peer' }],
  [-0x7500, { code: 'ERR_TLS_UNSUPPORTED_EXTENSION', fault: 'peer' }],
  [-0x7480, { code: 'ERR_TLS_CERT_REQUIRED', fault: 'certificate' }],
  [-0x7A00, { code: 'ERR_TLS_BAD_CERTIFICATE', fault: 'certificate' }],
  [-0x2700, { code: 'ERR_TLS_CERT_VERIFY_FAILED', fault: 'certificate' }],
  [-0x6D80, { code: 'ERR_TLS_SESSION_TICKET_EXPIRED', fault: 'peer' }],
  [-0x6B80, { code: 'ERR_TLS_COUNTER_WRAPPING', fault: 'local' }],
  [-0x7F00, { code: 'ERR_TLS_ALLOC_FAILED', fault: 'local' }],
  [-0x10001, { code: 'ERR_TLS_ALLOC_FAILED', fault: 'local' }],
  [-0x7100, { code: 'ERR_TLS_BAD_INPUT', fault: 'local' }],
  [-0x10002, { code: 'ERR_TLS_BAD_INPUT', fault: 'local' }],
  [-0x10003, { code: 'ERR_TLS_KEY_MISMATCH', fault: 'local' }],
  [-0x10004, { code: 'ERR_TLS_NO_CERTIFICATE', fault: 'local' }],
  [-0x5E80, { code: 'ERR_TLS_BAD_CONFIG', fault: 'local' }],
  [-0x7080, { code: 'ERR_TLS_FEATURE_UNAVAILABLE', fault: 'local' }],
  [-0x6C00, { code: 'ERR_TLS_INTERNAL', fault: 'local' }],
  [-0x5D80, { code: 'ERR_TLS_NO_HOSTNAME', fault: 'local' }],
  [-0x7280, { code: 'ERR_TLS_CONN_EOF', fault: 'peer' }],
]);

const SHIM_MESSAGES: Readonly<Record<number, string>> = {
  [-0x10001]: 'SHIM - out of memory',
  [-0x10002]: 'SHIM - bad argument',
  [-0x10003]: 'SHIM - private key does not match the certificate',
  [-0x10004]: 'SHIM - no certificate for this server name',
};

/** Classifies any mbedTLS error code. `strerror` gives mbedTLS's own text for the code. */
export function fromMbedtls(rc: number, strerror: (rc: number) => string, context: string,
  extra: TlsErrorInit = {}): TlsError {
  const known = BY_CODE.get(rc);
  let info: CodeInfo;
  if (known) info = known;
  else {
    // High-level module ranges (mbedTLS error.h): X509 0x2080-0x2F80, PK 0x3800-0x3F80,
    // PEM 0x1080-0x1480, SSL 0x5000-0x7F80; low-level crypto failures are local.
    const hi = -rc & 0xFF80;
    if (hi >= 0x2080 && hi <= 0x2F80) info = { code: 'ERR_TLS_BAD_CERTIFICATE_DATA', fault: 'local' };
    else if ((hi >= 0x3800 && hi <= 0x3F80) || (hi >= 0x1080 && hi <= 0x1480)) info = { code: 'ERR_TLS_BAD_KEY_DATA', fault: 'local' };
    else if (hi >= 0x5000) info = { code: 'ERR_TLS_PROTOCOL', fault: 'peer' };
    else info = { code: 'ERR_TLS_CRYPTO', fault: 'local' };
  }
  const text = SHIM_MESSAGES[rc] ?? strerror(rc);
  let message = `${context}: ${text} (-0x${(-rc).toString(16).toUpperCase()})`;
  if (extra.alert !== undefined && extra.alert >= 0) {
    message += ` [alert ${extra.alert} ${ALERT_NAMES[extra.alert] ?? 'unknown'}]`;
  }
  return new TlsError(info.code, info.fault, message, { ...extra, mbedtlsCode: rc, mbedtlsMessage: text });
}
