// Runs the CLI as a real process (node --import tsx src/cli.ts ...), for the serve/connect and
// shutdown tests. Waits are bounded and on output or exit, never on durations.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The child's environment: ours with NO_COLOR=1 (stable output to match), then `extra`, where
 * an undefined value removes the variable (e.g. { NO_COLOR: undefined } to test colour rules).
 */
function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function run(args: string[], options: { env?: Record<string, string | undefined>; stdin?: string | null } = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  child.stderr!.on('data', (d: Buffer) => { err += d.toString('utf8'); });
  child.stdin!.on('error', () => { /* the process may exit before reading */ });
  if (options.stdin !== undefined) {
    if (options.stdin !== null) child.stdin!.end(options.stdin);
  } else {
    child.stdin!.end();
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes drain before reporting.
      let open = 2;
      const done = () => { if (--open === 0) resolve({ code, signal }); };
      if (child.stdout!.readableEnded) done(); else child.stdout!.once('end', done);
      if (child.stderr!.readableEnded) done(); else child.stderr!.once('end', done);
    });
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs to completion, killing the process if it takes longer than `limitMs` (a hang guard). */
export async function runToEnd(args: string[], options: { env?: Record<string, string | undefined>; stdin?: string | null; limitMs?: number } = {}) {
  const r = run(args, options);
  const timer = setTimeout(() => r.child.kill('SIGKILL'), options.limitMs ?? 30_000);
  const { code, signal } = await r.exited;
  clearTimeout(timer);
  return { code, signal, stdout: r.stdout(), stderr: r.stderr() };
}

export interface Serving extends Run {
  https: number;
  http: number | null;
}

/** Starts `serve` and resolves once it printed its "listening https=… http=…" line. */
export async function serve(args: string[], options: { env?: Record<string, string | undefined>; limitMs?: number } = {}): Promise<Serving> {
  const r = run(['serve', '--port', '0', ...(args.includes('--no-http') || args.includes('--http-port') ? [] : ['--http-port', '0']), ...args], { ...options, stdin: null });
  const end = Date.now() + (options.limitMs ?? 30_000);
  for (;;) {
    const m = /^listening https=\S*:(\d+) http=(?:\S*:(\d+)|off)$/m.exec(r.stdout());
    if (m) return { ...r, https: Number(m[1]), http: m[2] ? Number(m[2]) : null };
    const exited = await Promise.race([r.exited.then(() => true), new Promise<false>((res) => setTimeout(() => res(false), 25))]);
    if (exited) throw new Error(`serve exited before listening: ${r.stderr()}`);
    if (Date.now() > end) {
      r.child.kill('SIGKILL');
      throw new Error(`serve did not print its listening line: ${r.stdout()} ${r.stderr()}`);
    }
  }
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `mbedtls-wasm-${prefix}-`));
}
