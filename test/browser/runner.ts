// The page's test runner: loads every test module listed in /bundle/manifest.json into uvu's
// queue (as uvu's own CLI does: UVU_DEFER, one queue group per file), runs the queue, and
// reports. uvu writes through console.log in fragments ("• ", "✘ ", "(3 / 3)\n"); they are
// joined into lines here, shown on the page, and passed on (one console.log per line) to
// whoever watches the console — the headless runner (test/browser/run.ts) prints them and
// reads the final `HARNESS-RESULT {json}` line.
import { REPORTED_GLOBAL } from './config.js';
import { installNodeShims } from './node-shims.js';

interface Manifest {
  modules: Array<{ name: string; url: string }>;
  excluded: Array<{ name: string; reason: string }>;
  /** Breaks of the file-selection rule (build.ts); each one fails the run. */
  problems: string[];
}

export interface FileResult { name: string; total: number; passed: number; skipped: number; errors: string[] }
export interface HarnessResult {
  ok: boolean;
  total: number;
  passed: number;
  skipped: number;
  failed: number;
  files: FileResult[];
  excluded: Manifest['excluded'];
  /** Cases the specs reported as completed (reportCase in harness-config.ts), for run.ts. */
  reported: string[];
  durationMs: number;
  userAgent: string;
}

type SuiteRun = () => Promise<[errors: string | true, ran: number, skipped: number, total: number]>;

installNodeShims();

const logEl = document.getElementById('log')!;
const statusEl = document.getElementById('status')!;
const ANSI = /\x1b\[[0-9;]*m/g;
const original = { log: console.log.bind(console), error: console.error.bind(console), warn: console.warn.bind(console) };
let pending = '';

function show(line: string, cls?: string): void {
  const plain = line.replace(ANSI, '');
  const div = document.createElement('div');
  div.textContent = plain === '' ? '\u00a0' : plain;
  const c = cls ?? (/FAIL|✘/.test(plain) ? 'fail' : undefined);
  if (c) div.className = c;
  logEl.appendChild(div);
}

function emitLine(line: string, cls?: string): void {
  original.log(line);
  show(line, cls);
}

function flushPending(): void {
  if (pending === '') return;
  emitLine(pending);
  pending = '';
}

/** Text in uvu's fragment style (ends in a space or newline, or starts a new line) joins up. */
function write(text: string): void {
  const plain = text.replace(ANSI, '');
  const fragment = plain.endsWith(' ') || plain.endsWith('\n') || plain.startsWith('\n');
  if (!fragment) { flushPending(); emitLine(text); return; }
  pending += text;
  const lines = pending.split('\n');
  pending = lines.pop()!;
  for (const l of lines) emitLine(l);
}

console.log = (...args: unknown[]) => write(args.map((a) => (typeof a === 'string' ? a : String(a))).join(' '));
console.error = (...args: unknown[]) => { flushPending(); original.error(...args); show(args.map(String).join(' '), 'fail'); };
console.warn = (...args: unknown[]) => { flushPending(); original.warn(...args); show(args.map(String).join(' '), 'warn'); };

const g = globalThis as unknown as { UVU_DEFER?: number; UVU_QUEUE?: Array<Array<string | SuiteRun | null>>; UVU_INDEX?: number };
g.UVU_DEFER = 1;
g.UVU_QUEUE = [];
const reported: string[] = [];
(globalThis as unknown as Record<string, unknown>)[REPORTED_GLOBAL] = reported;

const started = performance.now();
const result: HarnessResult = { ok: false, total: 0, passed: 0, skipped: 0, failed: 0, files: [], excluded: [], reported, durationMs: 0, userAgent: navigator.userAgent };

try {
  const manifest = (await (await fetch('/bundle/manifest.json', { cache: 'no-store' })).json()) as Manifest;
  result.excluded = manifest.excluded;
  for (const ex of manifest.excluded) emitLine(`(not run in the browser: ${ex.name} — ${ex.reason})`, 'warn');
  if (manifest.problems.length > 0) {
    const file: FileResult = { name: '(file selection, test/browser/build.ts)', total: manifest.problems.length, passed: 0, skipped: 0, errors: manifest.problems };
    result.files.push(file);
    for (const p of manifest.problems) emitLine(`  FAIL ${p}`, 'fail');
  }

  const loadErrors = new Map<number, string>();
  for (const [i, mod] of manifest.modules.entries()) {
    g.UVU_INDEX = i;
    g.UVU_QUEUE.push([mod.name]);
    try {
      await import(mod.url);
    } catch (e) {
      loadErrors.set(i, `module failed to load: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    }
  }

  for (const [i, group] of g.UVU_QUEUE.entries()) {
    const name = String(group.shift());
    flushPending();
    emitLine(`\x1b[1m\x1b[4m${name}\x1b[24m\x1b[22m`, 'file');
    const file: FileResult = { name, total: 0, passed: 0, skipped: 0, errors: [] };
    result.files.push(file);
    const loadError = loadErrors.get(i);
    if (loadError) { file.errors.push(loadError); file.total++; emitLine(`  FAIL ${loadError}`, 'fail'); }
    if (!loadError && group.length === 0) { file.errors.push('no test.run() found'); file.total++; emitLine('  FAIL no test.run() found', 'fail'); }
    for (const run of group as SuiteRun[]) {
      let outcome: Awaited<ReturnType<SuiteRun>>;
      try {
        outcome = await run();
      } catch (e) {
        outcome = [`suite crashed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`, 0, 0, 1];
      }
      const [errors, ran, skipped, total] = outcome;
      file.total += total;
      file.passed += ran;
      file.skipped += skipped;
      if (errors !== true) {
        file.errors.push(errors.replace(ANSI, ''));
        flushPending();
        for (const line of ('\n' + errors).split('\n')) emitLine(line, 'fail');
      }
    }
  }
} catch (e) {
  result.files.push({ name: '(runner)', total: 1, passed: 0, skipped: 0, errors: [e instanceof Error ? e.stack ?? e.message : String(e)] });
}

flushPending();
for (const f of result.files) {
  result.total += f.total;
  result.passed += f.passed;
  result.skipped += f.skipped;
}
result.failed = result.files.reduce((n, f) => n + Math.max(f.total - f.passed, f.errors.length > 0 ? 1 : 0), 0);
result.ok = result.failed === 0 && result.total > 0;
result.durationMs = Math.round(performance.now() - started);
emitLine('');
emitLine(`  Total:     ${result.total}`);
emitLine(`  Passed:    ${result.passed}`, result.ok ? 'pass' : 'fail');
emitLine(`  Skipped:   ${result.skipped}`);
emitLine(`  Duration:  ${result.durationMs}ms`);
statusEl.textContent = result.ok ? `passed: ${result.passed} / ${result.total}` : `FAILED: ${result.failed} of ${result.total}`;
statusEl.className = result.ok ? 'pass' : 'fail';
(globalThis as unknown as { __harnessResult?: HarnessResult }).__harnessResult = result;
original.log('HARNESS-RESULT ' + JSON.stringify(result));
