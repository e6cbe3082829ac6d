// Compiles one example file with the project's compiler settings, optionally with its text
// replaced, and returns the diagnostics in that file. Used by the type tests: an example must
// compile as written, and with its `@ts-expect-error` markers stripped every marked line must
// be an error, so each marker proves that a wrong call does not compile.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const repoRoot = join(import.meta.dirname, '..', '..');

export function compileExample(exampleFile: string, text = readFileSync(exampleFile, 'utf8')) {
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

/** The lines marked `// @ts-expect-error` (the line after each marker) and the example without the markers. */
export function expectErrorMarkers(exampleFile: string) {
  const lines = readFileSync(exampleFile, 'utf8').split('\n');
  const isMarker = (l: string) => l.trim().startsWith('// @ts-expect-error');
  return {
    markedLines: lines.flatMap((l, i) => (isMarker(l) ? [i + 2] : [])),
    stripped: lines.map((l) => (isMarker(l) ? '' : l)).join('\n'),
  };
}
