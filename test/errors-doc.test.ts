import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');
const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

/** Returns the members of the `ErrorCode` union, read from its declaration. */
function declaredCodes(): string[] {
  const declaration = /export type ErrorCode =([^;]*);/.exec(source)?.[1] ?? '';
  return [...declaration.matchAll(/'([A-Z_]+)'/g)].map((match) => match[1]!);
}

describe('docs/errors.md', () => {
  it('reads the declared codes', () => {
    expect(declaredCodes()).toContain('INVALID_ARGUMENT');
    expect(declaredCodes().length).toBeGreaterThan(10);
  });

  it.each(declaredCodes())('has a table row for %s', (code) => {
    expect(doc).toContain(`| \`${code}\` |`);
  });
});
