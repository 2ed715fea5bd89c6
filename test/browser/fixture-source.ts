// Browser stand-in for test/helpers/fixture-source.ts (swapped in by build.ts): the PEM texts
// of test/fixtures/ are bundled as strings by esbuild's `define`.
declare const __HARNESS_FIXTURES__: Record<string, string>;

export function fixtureText(name: string): string {
  const text = __HARNESS_FIXTURES__[name];
  if (text === undefined) throw new Error(`fixture ${name} is not bundled (test/browser/build.ts bundles test/fixtures/*.{crt,key,pem,txt})`);
  return text;
}
