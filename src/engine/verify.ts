/**
 * Certificate verification results: mbedTLS's verify flags turned into the reason node:tls
 * would give (`authorizationError`, OpenSSL's names) and our stable ERR_TLS_CERT_* code.
 */
import type { WasmLib } from '../wasm/module.js';
import { parseCertificateInfo } from './x509.js';

export interface VerificationProblem {
  code: string;
  message: string;
  authorizationError: string;
  /** The alert to send when the failure is fatal. */
  alert: number;
  cause?: unknown;
}

// mbedTLS MBEDTLS_X509_BADCERT_* bits
const EXPIRED = 0x01, REVOKED = 0x02, NOT_TRUSTED = 0x08, MISSING = 0x40, SKIP_VERIFY = 0x80,
  OTHER = 0x0100, FUTURE = 0x0200, KEY_USAGE = 0x0800, EXT_KEY_USAGE = 0x1000, NS_CERT_TYPE = 0x2000,
  BAD_MD = 0x4000, BAD_PK = 0x8000, BAD_KEY = 0x10000;

function selfIssued(der: Uint8Array | undefined): boolean {
  if (!der) return false;
  try { return parseCertificateInfo(der).selfIssued; } catch { return false; }
}

/** null when the chain verified (flags 0, hostname excluded by the caller). */
export function verificationError(flags: number, chain: Uint8Array[], _lib?: WasmLib): VerificationProblem | null {
  if (flags === 0) return null;
  const p = (code: string, authorizationError: string, message: string, alert: number): VerificationProblem =>
    ({ code, authorizationError, message, alert });
  // `chain` may be empty although a certificate was sent: mbedTLS drops a peer's chain that
  // failed verification in "required" mode (a server rejecting a client certificate), so only
  // the MISSING flag means that no certificate came.
  if (flags & MISSING) {
    return p('ERR_TLS_CERT_MISSING', 'NO_PEER_CERTIFICATE', 'the peer sent no certificate', 116);
  }
  if (flags & NOT_TRUSTED) {
    if (chain.length === 1 && selfIssued(chain[0])) {
      return p('ERR_TLS_CERT_SELF_SIGNED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 48);
    }
    if (chain.length > 1 && selfIssued(chain[chain.length - 1])) {
      return p('ERR_TLS_CERT_UNTRUSTED', 'SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain', 48);
    }
    return chain.length > 1
      ? p('ERR_TLS_CERT_UNTRUSTED', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate', 48)
      : p('ERR_TLS_CERT_UNTRUSTED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate (issuer not trusted)', 48);
  }
  if (flags & FUTURE) return p('ERR_TLS_CERT_NOT_YET_VALID', 'CERT_NOT_YET_VALID', 'certificate is not yet valid', 45);
  if (flags & EXPIRED) return p('ERR_TLS_CERT_EXPIRED', 'CERT_HAS_EXPIRED', 'certificate has expired', 45);
  if (flags & (KEY_USAGE | EXT_KEY_USAGE | NS_CERT_TYPE)) {
    return p('ERR_TLS_CERT_BAD_USAGE', 'INVALID_PURPOSE', 'unsuitable certificate purpose (key usage does not allow this use)', 43);
  }
  if (flags & REVOKED) return p('ERR_TLS_CERT_REVOKED', 'CERT_REVOKED', 'certificate revoked', 44);
  if (flags & (BAD_MD | BAD_PK | BAD_KEY)) {
    return p('ERR_TLS_CERT_WEAK', 'CERT_SIGNATURE_FAILURE', 'certificate uses an unacceptable hash, key type or key size', 42);
  }
  if (flags & (OTHER | SKIP_VERIFY)) return p('ERR_TLS_CERT_INVALID', 'CERT_REJECTED', 'certificate rejected', 42);
  return p('ERR_TLS_CERT_INVALID', 'CERT_REJECTED', `certificate verification failed (flags 0x${flags.toString(16)})`, 42);
}
