// Test certificates (made by test/fixtures/make-fixtures.sh). In Node they are read from disk;
// the browser harness bundles them as text (see test/browser/build.ts).
import { fixtureText } from './fixture-source.js';

export function fixture(name: string): string {
  return fixtureText(name);
}

export const pem = {
  ca: () => fixture('ca-ecdsa.crt'),
  caRsa: () => fixture('ca-rsa.crt'),
  ecdsa: () => ({ key: fixture('server-ecdsa.key'), cert: fixture('server-ecdsa.crt') }),
  rsa: () => ({ key: fixture('server-rsa.key'), cert: fixture('server-rsa.crt') }),
  other: () => ({ key: fixture('other-ecdsa.key'), cert: fixture('other-ecdsa.crt') }),
  client: () => ({ key: fixture('client-ecdsa.key'), cert: fixture('client-ecdsa.crt') }),
};
