// Builds the browser test bundle: the engine-level uvu test files that Node runs — the same
// files, unchanged — plus the browser-only specs in this directory, as ES modules with shared
// chunks (one uvu, one wasm instance), held in memory for the harness server.
//
// WHICH FILES RUN IN THE BROWSER — this is the one place that decides:
//   - every existing file matching NODE_SHARED (test/engine*.test.ts, x509, identity, scheduler)
//     whose import graph reaches no node built-in once the two helpers below are swapped;
//   - every test/browser/*.spec.ts.
// Files whose graph does reach node:* are EXCLUDED automatically and listed with the importer
// (they use Node as a reference oracle: node:crypto's X509Certificate and hashes, node:tls, the
// fixture directory via node:fs). Today that is test/x509.test.ts and test/identity.test.ts.
// Node-only suites (ffi, layers, interop, socket*, tunnel, bundle, ...) are not candidates.
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

/** Shared Node/browser test files (patterns over test/*.test.ts). */
export const NODE_SHARED = [/^engine.*\.test\.ts$/, /^x509\.test\.ts$/, /^identity\.test\.ts$/, /^scheduler\.test\.ts$/];
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
  /** Candidates left out, with the reason. */
  excluded: Array<{ name: string; reason: string }>;
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

/** The candidate files, existing ones only, in a stable order. */
export function candidates(): string[] {
  const shared = readdirSync(TEST).filter((f) => NODE_SHARED.some((re) => re.test(f))).sort().map((f) => join(TEST, f));
  const specs = readdirSync(BROWSER).filter((f) => SPEC.test(f)).sort().map((f) => join(BROWSER, f));
  return [...shared, ...specs];
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
  const meta: Metafile = probe.metafile!;
  for (const file of all) {
    const out = Object.values(meta.outputs).find((o) => o.entryPoint && resolve(ROOT, o.entryPoint) === file);
    const inputs = new Set(Object.keys(out?.inputs ?? {}));
    const nodeImports = found.filter((f) => inputs.has(f.importer));
    if (nodeImports.length > 0) {
      const list = [...new Set(nodeImports.map((f) => `${f.importer} → ${f.spec}`))];
      excluded.push({ name: relative(TEST, file), reason: `imports node built-ins: ${list.join(', ')}` });
    } else {
      included.push(file);
    }
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
  files.set('/bundle/manifest.json', new TextEncoder().encode(JSON.stringify({ modules, excluded })));
  return { files, modules, excluded };
}
