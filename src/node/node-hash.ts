/**
 * The certificate fingerprint hashes (x509.ts's HashProvider) from node:crypto, for the Node
 * layers that parse certificates outside an engine (getPeerCertificate(true), getCertificate(),
 * the web UI's certificate files).
 */
import { createHash } from 'node:crypto';

export const nodeHash = {
  sha1: (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest()),
  sha256: (d: Uint8Array) => new Uint8Array(createHash('sha256').update(d).digest()),
  sha512: (d: Uint8Array) => new Uint8Array(createHash('sha512').update(d).digest()),
};
