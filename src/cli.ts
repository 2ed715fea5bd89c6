/**
 * mbedtls-wasm command line:
 *   mbedtls-wasm serve     the web UI server (npm start)
 *   mbedtls-wasm connect   a TLS client like openssl s_client
 */
import { connectCommand, CONNECT_HELP } from './cli/connect.js';
import { EXIT, fail, UsageError, version, withCode } from './cli/common.js';
import { serve, SERVE_HELP } from './cli/serve.js';

const HELP = `Usage: mbedtls-wasm <command> [options]

TLS 1.2/1.3 from mbedTLS 3.6 in WebAssembly.

Commands:
  serve            the web UI and REST API over HTTPS and HTTP (default for npm start)
  connect H:P      connect like openssl s_client: show the handshake, then pipe stdin/stdout

Options:
  -h, --help       this help (also: mbedtls-wasm <command> --help)
  -v, --version    the version

Exit codes: 0 ok, 1 failure (handshake, verification, port in use, unusable certificate),
2 usage error, 130 a second SIGINT/SIGTERM during shutdown.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      if (command === 'help' && rest[0] === 'serve') { process.stdout.write(SERVE_HELP); return; }
      if (command === 'help' && rest[0] === 'connect') { process.stdout.write(CONNECT_HELP); return; }
      process.stdout.write(HELP);
      if (command === undefined) process.exitCode = EXIT.usage;
      return;
    case '-v':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return;
    case 'serve':
      await serve(rest);
      return;
    case 'connect':
      await connectCommand(rest);
      return;
    default:
      throw new UsageError(`unknown command "${command}" (commands: serve, connect; see mbedtls-wasm --help)`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError) fail(e.message, e.code === 'ERR_USAGE' ? EXIT.usage : EXIT.failure);
  fail(withCode(e as Error & { code?: string }));
});
