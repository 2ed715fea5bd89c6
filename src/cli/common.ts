/**
 * What the commands share: one-line errors with a non-zero exit, colour only on a TTY, number
 * and file options, the package version.
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../webui/certs.js';

export { UsageError };

/** Exit codes: 0 ok, 1 runtime failure (handshake, verification, port in use, bad files), 2 usage. */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

/** What the colour decision looks at in a stream: whether it is a terminal (undefined on pipes and files). */
export interface ColorTarget { isTTY?: boolean }

/** Colour only on a terminal, and not with NO_COLOR set (https://no-color.org) or TERM=dumb. */
export function useColor(stream: ColorTarget, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export function paint(stream: ColorTarget, env: NodeJS.ProcessEnv = process.env) {
  const on = useColor(stream, env);
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) };
}

export function version(): string {
  // src/cli/*.ts and dist/cli.js both sit one or two levels below package.json.
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mbedtls-wasm' && pkg.version) return pkg.version;
    } catch { /* try the next */ }
  }
  return '0.0.0';
}

/** An error's message with its code, if any, in parentheses: "connect ECONNREFUSED (ECONNREFUSED)". */
export function withCode(e: Error & { code?: string }): string {
  return `${e.message}${e.code ? ` (${e.code})` : ''}`;
}

/** Prints `error: message` (one line) and exits. */
export function fail(message: string, code: number = EXIT.failure): never {
  const c = paint(process.stderr);
  process.stderr.write(`${c.red('error:')} ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with one-line usage errors naming the command. */
export function parse<O extends Options>(command: string, args: string[], options: O, allowPositionals: boolean):
  ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    const err = e as Error & { code?: string };
    let msg = err.message.split('\n')[0]!;
    const unknown = /Unknown option '([^']+)'/.exec(msg);
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) msg = `unknown option ${unknown[1]}`;
    else if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') msg = msg.replace(/^Option '(--?[^' ]+)[^']*'.*argument missing.*$/, '$1 needs a value').replace(/\.$/, '');
    else if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') msg = `unexpected argument ${/'([^']+)'/.exec(msg)?.[1] ?? ''}`.trim();
    throw new UsageError(`${msg} (see mbedtls-wasm ${command} --help)`);
  }
}

export function intOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** Bytes with an optional k/m/g suffix (binary): 65536, 64k, 1m. */
export function sizeOption(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)([kmg]i?b?)?$/i.exec(value.trim());
  if (!m) throw new UsageError(`--${name} must be a number of bytes (e.g. 65536, 64k, 1m), got "${value}"`);
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2]?.[0] ?? '').toLowerCase() as 'k' | 'm' | 'g'] ?? 1;
  const n = Number(m[1]) * mult;
  if (n > max) throw new UsageError(`--${name} must be at most ${max} bytes, got "${value}"`);
  return n;
}
