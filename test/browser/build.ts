// Builds the browser test bundle: the engine-level uvu test files that Node runs — the same
// files, unchanged — plus the browser-only specs in this directory, as ES modules with shared
// chunks (one uvu, one wasm instance), held in memory for the harness server.
//
// WHICH FILES RUN IN THE BROWSER — this is the one place that decides. Every test/*.test.ts is
// classified by name, and a file that fits no class is a problem that fails the run (so a new
// test file has to be placed on purpose, never dropped by accident):
//   - BROWSER_CANDIDATES: engine-level files (test/engine-*.test.ts, x509, identity, scheduler).
//     They use the core API over in-memory transports, so they can run in a page. Each one runs
//     in the browser unless its import graph (after the swaps below) reaches a node built-in.
//   - NODE_ONLY: the candidates that are expected to reach a node built-in, each with the reason.
//     These are the only exclusions allowed: a candidate that reaches node:* and is not listed
//     here fails the run (run.ts), and so does a listed file that no longer reaches node:*.
//   - NODE_SUITES: integration suites of Node-side code (the node:tls-style API, the CLI and web
//     UI processes, the tunnel, peer processes, the package build). Not candidates: they test
//     Node's side of things, and the browser's side of the same stack is covered by the
//     candidates and by the specs.
//   - every test/browser/*.spec.ts (browser-only specs) runs, and must be browser-clean.
//
// Swaps, so that shared test files need no browser edits:
//   test/helpers/setup.ts          → test/browser/setup.ts (await ready(wasm URL), top-level await)
//   test/helpers/fixture-source.ts → test/browser/fixture-source.ts (PEM texts bundled by `define`)
//   process.getActiveResourcesInfo → a browser timer count (test/browser/node-shims.ts), the one
//                                    Node global the scheduler tests use.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TEST = join(ROOT, 'test');
const BROWSER = join(TEST, 'browser');

/** Engine-level test files (test/*.test.ts) that run in the browser unless listed in NODE_ONLY. */
export const BROWSER_CANDIDATES = [/^engine-.*\.test\.ts$/, /^x509\.test\.ts$/, /^identity\.test\.ts$/, /^scheduler\.test\.ts$/];

/** The candidates expected to need Node, and why. Nothing else may be left out. */
export const NODE_ONLY: Readonly<Record<string, string>> = {
  'x509.test.ts': "cross-checks our certificate parser against node:crypto's X509Certificate, over fixture files read with node:fs",
  'identity.test.ts': "compares checkServerIdentity with node:tls's own, case by case",
  'engine-selfsigned-node.test.ts': "cross-checks generateSelfSigned output with node:crypto's X509Certificate (an independent parser)",
};

/** Node-side integration suites (test/*.test.ts): never browser candidates. */
export const NODE_SUITES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^bundle\.test\.ts$/, 'builds the package with esbuild/tsc and bundles it'],
  [/^cli(-.*)?\.test\.ts$/, 'the CLI as child processes'],
  [/^consumers\.test\.ts$/, 'node:http, node:https, ws and undici over the node:tls-style sockets'],
  [/^crypto\.test\.ts$/, 'our primitives in both wasm files (read from disk) against node:crypto'],
  [/^ffi\.test\.ts$/, 'reads wasm/mbedtls.wasm and wasm/shim.c from disk'],
  [/^interop\.test\.ts$/, 'openssl and gnutls peer processes'],
  [/^layers\.test\.ts$/, 'reads the source tree from disk'],
  [/^shutdown\.test\.ts$/, 'Server.shutdown over node:net/node:http'],
  [/^socket\.test\.ts$/, 'the node:tls-style socket API against node:tls and node:net'],
  [/^tunnel\.test\.ts$/, 'the Node WebSocket-to-TCP tunnel'],
  [/^wasm-loader\.test\.ts$/, 'ready() in fresh Node child processes'],
  [/^webui(-.*)?\.test\.ts$/, 'the web UI server (and its dashboard in Chromium)'],
];

/** Browser-only specs (test/browser/*.spec.ts). */
export const SPEC = /\.spec\.ts$/;

const SWAPS: Record<string, string> = {
  [join(TEST, 'helpers', 'setup.ts')]: join(BROWSER, 'setup.ts'),
  [join(TEST, 'helpers', 'fixture-source.ts')]: join(BROWSER, 'fixture-source.ts'),
};

export interface TestModule {
  /** Name shown in results, e.g. "engine-matrix.test.ts" or "browser/tls-tunnel.spec.ts". */
  name: string;
  /** URL path of its bundle, e.g. "/bundle/engine-matrix.test.js". */
  url: string;
}

export interface BrowserBuild {
  /** URL path → file contents. */
  files: Map<string, Uint8Array>;
  /** The test modules in run order. */
  modules: TestModule[];
  /** Candidates left out (the NODE_ONLY files), with the reason and what they import. */
  excluded: Array<{ name: string; reason: string }>;
  /**
   * What breaks the selection rule above: an unclassified test file, a candidate or spec that
   * reaches node:* without being listed in NODE_ONLY, a NODE_ONLY file that no longer does.
   * run.ts fails on any of these, and the page shows them as failures.
   */
  problems: string[];
  /** Notes that do not fail the run (a NODE_ONLY entry whose file does not exist). */
  notes: string[];
}

const builtins = new Set(builtinModules);
const isBuiltin = (spec: string) => spec.startsWith('node:') || builtins.has(spec) || builtins.has(spec.split('/')[0]!);

/** .js import specifiers (NodeNext style) → the .ts file, and the swaps above. */
function swapPlugin(): Plugin {
  return {
    name: 'browser-test-swaps',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const abs = resolve(args.resolveDir, args.path).replace(/\.js$/, '.ts');
        const swapped = SWAPS[abs];
        return swapped ? { path: swapped } : undefined;
      });
    },
  };
}

/** Records node built-in imports (and keeps them external so the probe build completes). */
function builtinSpy(found: Array<{ importer: string; spec: string }>): Plugin {
  return {
    name: 'node-builtin-spy',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        found.push({ importer: relative(ROOT, args.importer), spec: args.path });
        return { path: args.path, external: true };
      });
    },
  };
}

function fixtures(): Record<string, string> {
  const dir = join(TEST, 'fixtures');
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) {
    if (/\.(crt|key|pem|txt)$/.test(f)) out[f] = readFileSync(join(dir, f), 'utf8');
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'browser' as const,
  format: 'esm' as const,
  target: 'es2022',
  write: false,
  logLevel: 'silent' as const,
  define: {
    __HARNESS_FIXTURES__: JSON.stringify(fixtures()),
    'process.getActiveResourcesInfo': 'globalThis.__harnessActiveResources',
  },
};

/** test/*.test.ts, classified by the rule at the top of this file. */
export function classify(): { candidates: string[]; unclassified: string[] } {
  const candidates: string[] = [];
  const unclassified: string[] = [];
  for (const f of readdirSync(TEST).filter((n) => n.endsWith('.test.ts')).sort()) {
    if (BROWSER_CANDIDATES.some((re) => re.test(f))) candidates.push(join(TEST, f));
    else if (!NODE_SUITES.some(([re]) => re.test(f))) unclassified.push(f);
  }
  return { candidates, unclassified };
}

/** The files probed for the browser: the candidates, then the specs, in a stable order. */
export function candidates(): string[] {
  const specs = readdirSync(BROWSER).filter((f) => SPEC.test(f)).sort().map((f) => join(BROWSER, f));
  return [...classify().candidates, ...specs];
}

function outName(file: string): string {
  return relative(TEST, file).replace(/\.ts$/, '');
}

export async function buildBrowserTests(): Promise<BrowserBuild> {
  const all = candidates();
  // Probe: one bundle per candidate (no splitting, so each output's externals are exactly what
  // its own import graph reaches), recording every node built-in import and its importer.
  const found: Array<{ importer: string; spec: string }> = [];
  const probe = await build({
    ...common,
    entryPoints: Object.fromEntries(all.map((f) => [outName(f), f])),
    outdir: '/probe',
    metafile: true,
    plugins: [swapPlugin(), builtinSpy(found)],
  });
  const excluded: BrowserBuild['excluded'] = [];
  const included: string[] = [];
  const problems = classify().unclassified.map((f) =>
    `test/${f} is not classified: add it to BROWSER_CANDIDATES (runs in the browser) or NODE_SUITES (Node only) in test/browser/build.ts`);
  const notes: string[] = [];
  const meta: Metafile = probe.metafile!;
  for (const file of all) {
    const name = relative(TEST, file);
    const out = Object.values(meta.outputs).find((o) => o.entryPoint && resolve(ROOT, o.entryPoint) === file);
    const inputs = new Set(Object.keys(out?.inputs ?? {}));
    const nodeImports = [...new Set(found.filter((f) => inputs.has(f.importer)).map((f) => `${f.importer} → ${f.spec}`))];
    const expected = Object.hasOwn(NODE_ONLY, name) ? NODE_ONLY[name] : undefined;
    if (nodeImports.length === 0) {
      included.push(file);
      if (expected !== undefined) problems.push(`test/${name} is listed in NODE_ONLY but imports no node built-in any more: remove it from the list (test/browser/build.ts) so it is known to run in the browser`);
    } else if (expected !== undefined) {
      excluded.push({ name, reason: `${expected} (imports ${nodeImports.join(', ')})` });
    } else {
      problems.push(`test/${name} would be left out of the browser run: it imports node built-ins (${nodeImports.join(', ')}). Make it browser-clean, or list it in NODE_ONLY with the reason`);
    }
  }
  const probed = new Set(all.map((f) => relative(TEST, f)));
  for (const name of Object.keys(NODE_ONLY)) {
    if (!probed.has(name)) notes.push(`NODE_ONLY lists test/${name}, which is not a candidate file (missing or renamed?)`);
  }

  const result = await build({
    ...common,
    entryPoints: {
      runner: join(BROWSER, 'runner.ts'),
      ...Object.fromEntries(included.map((f) => [outName(f), f])),
    },
    outdir: '/bundle',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'inline',
    plugins: [swapPlugin(), {
      name: 'no-node-builtins',
      setup(b) {
        b.onResolve({ filter: /.*/ }, (args) => isBuiltin(args.path)
          ? { errors: [{ text: `${relative(ROOT, args.importer)} imports ${args.path}: not available in the browser` }] }
          : undefined);
      },
    }],
  });
  const files = new Map<string, Uint8Array>();
  for (const f of result.outputFiles ?? []) files.set(f.path, f.contents);
  files.set('/index.html', readFileSync(join(BROWSER, 'index.html')));
  const modules = included.map((f) => ({ name: relative(TEST, f), url: `/bundle/${outName(f)}.js` }));
  files.set('/bundle/manifest.json', new TextEncoder().encode(JSON.stringify({ modules, excluded, problems })));
  return { files, modules, excluded, problems, notes };
}
