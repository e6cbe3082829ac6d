// Compiles types.example.ts with the project's compiler settings: it must have no error as
// written (the quick start's SDK code type-checks), and stripping its `@ts-expect-error`
// markers must surface an error on every marked line, so each marker proves that a wrong call
// does not compile.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileExample, expectErrorMarkers } from '../test/support/type-check.ts';

const exampleFile = join(import.meta.dirname, 'types.example.ts');

describe('SDK types', () => {
  it('compiles the quick start and the correct calls as written', () => {
    expect(compileExample(exampleFile)).toEqual([]);
  });

  it('rejects every wrong call marked @ts-expect-error', () => {
    const { markedLines, stripped } = expectErrorMarkers(exampleFile);
    expect(markedLines.length).toBeGreaterThanOrEqual(20);
    const errorLines = new Set(compileExample(exampleFile, stripped).map((d) => d.line));
    expect(markedLines.filter((line) => !errorLines.has(line))).toEqual([]);
  });
});
