// One-way imports: wasm → engine → scheduler → transports/streams → node/browser → cli/webui.
// Nothing below src/node (and nothing in src/browser) imports node:*; no layer imports upward.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const src = fileURLToPath(new URL('../src/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// Lower rank = lower layer. A file may import only its own rank or lower.
const rank: Record<string, number> = { errors: 0, wasm: 1, engine: 2, scheduler: 3, transport: 3, core: 4, browser: 5, node: 5, webui: 6, cli: 6 };
const nodeFree = new Set(['errors', 'wasm', 'engine', 'scheduler', 'transport', 'core', 'browser']);

function layer(path: string): string {
  const rel = relative(src, path).split(/[\\/]/);
  return rel.length === 1 ? rel[0]!.replace(/\.[jt]s$/, '') : rel[0]!;
}

test('imports point down only, and the browser side never imports node:*', () => {
  const problems: string[] = [];
  for (const file of files(src)) {
    const from = layer(file);
    if (!(from in rank)) { problems.push(`${relative(src, file)}: unknown layer "${from}"`); continue; }
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('node:')) {
        if (nodeFree.has(from)) problems.push(`${relative(src, file)} imports ${spec}`);
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const target = layer(join(file, '..', spec));
      if ((rank[target] ?? 99) > rank[from]!) problems.push(`${relative(src, file)} (${from}) imports upward: ${spec} (${target})`);
    }
  }
  assert.equal(problems, []);
});

test.run();
