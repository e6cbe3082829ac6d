// Compiles types.example.ts with the project's compiler settings: it must have no error as
// written (the quick start's SDK code type-checks), and stripping its `@ts-expect-error`
// markers must surface an error on every marked line, so each marker proves that a wrong call
// does not compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repoRoot = join(import.meta.dirname, '..');
const exampleFile = join(import.meta.dirname, 'types.example.ts');
const source = readFileSync(exampleFile, 'utf8');

function compile(text: string) {
  const { config } = ts.readConfigFile(join(repoRoot, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, repoRoot);
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  host.readFile = (file) => (file === exampleFile ? text : read(file));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, onError, create) =>
    file === exampleFile ? ts.createSourceFile(file, text, lang) : getSourceFile(file, lang, onError, create);
  const program = ts.createProgram([exampleFile], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === exampleFile)
    .map((d) => ({
      line: d.file!.getLineAndCharacterOfPosition(d.start ?? 0).line + 1,
      message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    }));
}

describe('SDK types', () => {
  it('compiles the quick start and the correct calls as written', () => {
    expect(compile(source)).toEqual([]);
  });

  it('rejects every wrong call marked @ts-expect-error', () => {
    const lines = source.split('\n');
    const markers = lines.flatMap((l, i) => (l.trim().startsWith('// @ts-expect-error') ? [i + 2] : []));
    expect(markers.length).toBeGreaterThanOrEqual(20);
    const stripped = lines.map((l) => (l.trim().startsWith('// @ts-expect-error') ? '' : l)).join('\n');
    const errorLines = new Set(compile(stripped).map((d) => d.line));
    expect(markers.filter((line) => !errorLines.has(line))).toEqual([]);
  });
});
