import { readFileSync } from 'node:fs';

const dir = new URL('../fixtures/', import.meta.url);

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, dir), 'utf8');
}
