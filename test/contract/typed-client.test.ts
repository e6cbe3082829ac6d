// Compiles typed-client.example.ts with the project's compiler settings: it must have no
// error as written, and stripping its `@ts-expect-error` markers must surface exactly one
// error per marker, so each marker proves that a wrong call does not compile.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileExample, expectErrorMarkers } from '../support/type-check.ts';

const exampleFile = join(import.meta.dirname, 'typed-client.example.ts');

describe('typed client over the generated types', () => {
  it('compiles every Balance API call as written', () => {
    expect(compileExample(exampleFile)).toEqual([]);
  });

  it('rejects every wrong call marked @ts-expect-error', () => {
    const { markedLines, stripped } = expectErrorMarkers(exampleFile);
    expect(markedLines.length).toBeGreaterThanOrEqual(8);
    const errorLines = new Set(compileExample(exampleFile, stripped).map((d) => d.line));
    expect(markedLines.filter((line) => !errorLines.has(line))).toEqual([]);
  });
});
