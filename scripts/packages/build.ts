// `npm run build`: compiles the three published packages from this repository's sources into
// their `dist/` folders; `npm run pack` also packs them into dist/packages/*.tgz.
//
//   @pacspace-io/sdk          sdk/dist:  ESM bundles of sdk/index.ts and sdk/node.ts, a CommonJS twin of each, .d.ts/.d.cts
//   @pacspace-io/sandbox      mock/dist: ESM bundles of mock/index.ts and the bin mock/cli.ts, .d.ts,
//                             generated/ (the bundled contract) and docs/ (the built docs site)
//   @pacspace-io/conformance  conformance/dist: ESM bundles of conformance/index.ts and the bin, .d.ts,
//                             generated/openapi.json
//
// esbuild bundles the repository's own modules (protocol/, contract/, generated/) into each
// package and leaves every npm dependency external, so a package needs nothing from this
// repository once installed. dts-bundle-generator rolls each entry's declarations into one file.
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { build, transform, type Metafile, type OutputFile } from 'esbuild';
import { generateDtsBundle } from 'dts-bundle-generator';
import ts from 'typescript';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const packsDir = join(root, 'dist', 'packages');

type PackageSpec = {
  /** Workspace folder, also where `dist/` goes. */
  dir: string;
  /** Output name → source entry (relative to the repository). */
  entries: Record<string, string>;
  /** The entries whose import graph must not reach a Node built-in (runs on any JS runtime). */
  runtimeNeutral?: string[];
  cjs?: boolean;
  /** Files of generated/ copied to dist/generated/. */
  generated?: string[];
  docsSite?: boolean;
  /** The request inspector's page (mock/inspector/page/) copied to dist/inspector/. */
  inspectorPage?: boolean;
};

export const PACKAGES: PackageSpec[] = [
  { dir: 'sdk', entries: { index: 'sdk/index.ts', node: 'sdk/node.ts' }, runtimeNeutral: ['index'], cjs: true },
  {
    dir: 'mock',
    entries: { index: 'mock/index.ts', cli: 'mock/cli.ts' },
    generated: ['openapi.json', 'openapi.yaml', 'sandbox-control.json'],
    docsSite: true,
    inspectorPage: true,
  },
  { dir: 'conformance', entries: { index: 'conformance/index.ts', cli: 'conformance/cli.ts' }, generated: ['openapi.json'] },
];

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

function nodeImports(meta: Metafile, output: string): string[] {
  const found = new Set<string>();
  const visit = (file: string) => {
    for (const imp of meta.outputs[file]?.imports ?? []) {
      if (imp.path.startsWith('node:') || (imp.external && isBuiltin(imp.path))) found.add(imp.path);
      else if (!imp.external && meta.outputs[imp.path]) visit(imp.path);
    }
  };
  visit(output);
  return [...found];
}
const BUILTINS = new Set(['crypto', 'util', 'fs', 'path', 'http', 'https', 'net', 'os', 'url', 'stream', 'buffer', 'events', 'child_process', 'zlib']);
const isBuiltin = (path: string) => BUILTINS.has(path.split('/')[0]!);

async function bundle(spec: PackageSpec, outdir: string) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: spec.entries,
    outdir,
    bundle: true,
    format: 'esm',
    platform: spec.runtimeNeutral ? 'neutral' : 'node',
    mainFields: ['module', 'main'],
    target: ['es2022', 'node20'],
    packages: 'external',
    external: ['node:*'],
    define: { PACSPACE_PACKAGED: 'true' },
    // Code shared by a package's entries lives once, in a chunk: the SDK's `node` entry
    // re-exports the main one, and `instanceof PacSpaceError` must not depend on which entry
    // a class came from.
    splitting: true,
    // Beside the entries: contract/files.ts finds generated/ and docs/ relative to its module.
    chunkNames: '[name]-[hash]',
    metafile: true,
    write: !spec.cjs,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const name of spec.runtimeNeutral ?? []) {
    const output = relative(root, join(outdir, `${name}.js`));
    const found = nodeImports(result.metafile!, output);
    if (found.length) throw new Error(`${output} must run on any JavaScript runtime but imports ${found.join(', ')}`);
  }
  if (spec.cjs) await writeWithCommonJs(result.outputFiles!);
  const manifest = readJson(join(root, spec.dir, 'package.json')) as { bin?: Record<string, string> };
  for (const bin of Object.values(manifest.bin ?? {})) {
    if (!readFileSync(join(root, spec.dir, bin), 'utf8').startsWith('#!/usr/bin/env node\n')) throw new Error(`${spec.dir}/${bin}: a bin must start with #!/usr/bin/env node`);
  }
}

/**
 * Writes the ESM files and a CommonJS twin (`.cjs`) of each, chunks included, so both module
 * systems share one layout and `require` gets the same single copy of every class as `import`.
 */
async function writeWithCommonJs(files: OutputFile[]) {
  for (const file of files) {
    mkdirSync(dirname(file.path), { recursive: true });
    writeFileSync(file.path, file.contents);
    const cjs = await transform(file.text, { format: 'cjs', target: 'es2022', platform: 'neutral', logLevel: 'warning' });
    const code = cjs.code.replace(/require\("(\.{1,2}\/[^"]+)\.js"\)/g, 'require("$1.cjs")');
    writeFileSync(file.path.replace(/\.js$/, '.cjs'), code);
  }
}

/**
 * One declaration file per entry. The main entries are rolled up with dts-bundle-generator (the
 * contract's generated types included); an entry that re-exports the main one (the SDK's `node`)
 * gets only its own declarations, importing the rest from the main entry, so every type exists
 * once. Its own signatures must therefore take their types from `./index.ts`.
 */
function declarations(specs: PackageSpec[]) {
  const entries = specs.flatMap((spec) =>
    Object.entries(spec.entries)
      .filter(([name]) => name !== 'cli')
      .map(([name, source]) => ({ spec, name, source })),
  );
  const main = entries.filter((e) => e.name === 'index');
  const texts = generateDtsBundle(
    main.map(({ source }) => ({ filePath: join(root, source), output: { noBanner: true, exportReferencedTypes: false } })),
    { preferredConfigPath: join(root, 'tsconfig.json') },
  );
  const write = (spec: PackageSpec, name: string, text: string) => {
    const dist = join(root, spec.dir, 'dist');
    writeFileSync(join(dist, `${name}.d.ts`), text.replace(/from '\.\/index\.ts'/g, "from './index.js'"));
    if (spec.cjs) writeFileSync(join(dist, `${name}.d.cts`), text.replace(/from '\.\/index\.ts'/g, "from './index.cjs'"));
  };
  main.forEach(({ spec, name }, i) => write(spec, name, texts[i]!));
  for (const { spec, name, source } of entries.filter((e) => e.name !== 'index')) {
    const { outputText } = ts.transpileDeclaration(readFileSync(join(root, source), 'utf8'), {
      fileName: source,
      compilerOptions: { module: ts.ModuleKind.NodeNext, allowImportingTsExtensions: true },
    });
    const stray = [...outputText.matchAll(/from '(\.[^']*)'/g)].map((m) => m[1]).filter((path) => path !== './index.ts');
    if (stray.length) throw new Error(`${source}: its declarations import ${stray.join(', ')}; take those types from './index.ts'`);
    write(spec, name, outputText);
  }
}

function copyAssets(spec: PackageSpec) {
  const dist = join(root, spec.dir, 'dist');
  for (const name of spec.generated ?? []) {
    mkdirSync(join(dist, 'generated'), { recursive: true });
    copyFileSync(join(root, 'generated', name), join(dist, 'generated', name));
  }
  if (spec.docsSite) cpSync(docsSiteBuild, join(dist, 'docs'), { recursive: true });
  if (spec.inspectorPage) cpSync(join(root, 'mock', 'inspector', 'page'), join(dist, 'inspector'), { recursive: true });
  copyFileSync(join(root, 'LICENSE'), join(root, spec.dir, 'LICENSE'));
}

/**
 * The docs site the sandbox package ships, built into a directory of its own: docs/site/ is
 * rebuilt by the docs tests, which may run beside a package build (as in `npm test`).
 */
const docsSiteBuild = join(tmpdir(), `pacspace-package-docs-${process.pid}`);

export async function buildPackages(specs = PACKAGES) {
  if (specs.some((s) => s.docsSite)) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'docs', 'build', 'build.ts'), '--out', docsSiteBuild], { cwd: root, stdio: 'inherit' });
  }
  try {
    await bundleAll(specs);
  } finally {
    rmSync(docsSiteBuild, { recursive: true, force: true });
  }
}

async function bundleAll(specs: PackageSpec[]) {
  for (const spec of specs) {
    const dist = join(root, spec.dir, 'dist');
    rmSync(dist, { recursive: true, force: true });
    await bundle(spec, dist);
    copyAssets(spec);
  }
  declarations(specs);
}

/** Packs the built workspaces into dist/packages/; returns the tarball paths by package name. */
export function packPackages(specs = PACKAGES): Record<string, string> {
  mkdirSync(packsDir, { recursive: true });
  const args = ['pack', '--json', '--pack-destination', packsDir, ...specs.flatMap((s) => ['--workspace', s.dir])];
  const packed = JSON.parse(execFileSync('npm', args, { cwd: root, encoding: 'utf8' })) as { name: string; filename: string }[];
  return Object.fromEntries(packed.map((p) => [p.name, join(packsDir, p.filename)]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]!.split(',') : undefined;
  const specs = PACKAGES.filter((s) => !only || only.includes(s.dir));
  await buildPackages(specs);
  for (const spec of specs) console.log(`built ${readJson(join(root, spec.dir, 'package.json')).name} → ${spec.dir}/dist/`);
  if (process.argv.includes('--pack')) {
    for (const [name, file] of Object.entries(packPackages(specs))) console.log(`packed ${name} → ${relative(root, file)}`);
  }
}
