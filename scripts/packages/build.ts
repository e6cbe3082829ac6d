// `npm run build`: compiles the three published packages from this repository's sources into
// their `dist/` folders; `npm run pack` also packs them into dist/packages/*.tgz.
//
//   @pacspace-io/sdk          sdk/dist:  ESM + CommonJS bundles of sdk/index.ts and sdk/node.ts, .d.ts/.d.cts
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
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { generateDtsBundle } from 'dts-bundle-generator';

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
};

export const PACKAGES: PackageSpec[] = [
  { dir: 'sdk', entries: { index: 'sdk/index.ts', node: 'sdk/node.ts' }, runtimeNeutral: ['index'], cjs: true },
  {
    dir: 'mock',
    entries: { index: 'mock/index.ts', cli: 'mock/cli.ts' },
    generated: ['openapi.json', 'openapi.yaml', 'openapi.prism.json', 'sandbox-control.json', 'sandbox-control.prism.json'],
    docsSite: true,
  },
  { dir: 'conformance', entries: { index: 'conformance/index.ts', cli: 'conformance/cli.ts' }, generated: ['openapi.json'] },
];

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * The SDK's `node` entry re-exports the main entry: it must load the main bundle rather than
 * a copy of it, or `instanceof PacSpaceError` would depend on which entry a class came from.
 */
const mainEntryExternal = (extension: string): Plugin => ({
  name: 'main-entry-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/index\.ts$/ }, (args) =>
      args.importer.endsWith(`${'/'}node.ts`) ? { path: `./index${extension}`, external: true } : undefined,
    );
  },
});

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

async function bundle(spec: PackageSpec, outdir: string, format: 'esm' | 'cjs') {
  const extension = format === 'esm' ? '.js' : '.cjs';
  const options: BuildOptions = {
    absWorkingDir: root,
    entryPoints: spec.entries,
    outdir,
    bundle: true,
    format,
    outExtension: { '.js': extension },
    platform: spec.runtimeNeutral ? 'neutral' : 'node',
    mainFields: ['module', 'main'],
    target: ['es2022', 'node20'],
    packages: 'external',
    external: ['node:*'],
    define: { PACSPACE_PACKAGED: 'true' },
    plugins: spec.cjs ? [mainEntryExternal(extension)] : [],
    // Shared code of the Node packages' two entries (bin and API) goes to one chunk.
    splitting: format === 'esm' && !spec.cjs,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
  };
  const result = await build(options);
  for (const name of spec.runtimeNeutral ?? []) {
    const output = relative(root, join(outdir, `${name}${extension}`));
    const found = nodeImports(result.metafile!, output);
    if (found.length) throw new Error(`${output} must run on any JavaScript runtime but imports ${found.join(', ')}`);
  }
}

function declarations(specs: PackageSpec[]) {
  const entries = specs.flatMap((spec) =>
    Object.entries(spec.entries)
      .filter(([name]) => name !== 'cli')
      .map(([name, source]) => ({ spec, name, source })),
  );
  const texts = generateDtsBundle(
    entries.map(({ source }) => ({ filePath: join(root, source), output: { noBanner: true, exportReferencedTypes: false } })),
    { preferredConfigPath: join(root, 'tsconfig.json') },
  );
  entries.forEach(({ spec, name }, i) => {
    const dist = join(root, spec.dir, 'dist');
    // The node entry's types refer to the main entry's by its specifier, like its code does.
    const text = texts[i]!.replace(/from '\.\/index\.ts'/g, "from './index.js'");
    writeFileSync(join(dist, `${name}.d.ts`), text);
    if (spec.cjs) writeFileSync(join(dist, `${name}.d.cts`), text.replace(/from '\.\/index\.js'/g, "from './index.cjs'"));
  });
}

function copyAssets(spec: PackageSpec) {
  const dist = join(root, spec.dir, 'dist');
  for (const name of spec.generated ?? []) {
    mkdirSync(join(dist, 'generated'), { recursive: true });
    copyFileSync(join(root, 'generated', name), join(dist, 'generated', name));
  }
  if (spec.docsSite) cpSync(join(root, 'docs', 'site'), join(dist, 'docs'), { recursive: true });
  copyFileSync(join(root, 'LICENSE'), join(root, spec.dir, 'LICENSE'));
}

export async function buildPackages(specs = PACKAGES) {
  if (specs.some((s) => s.docsSite)) {
    execFileSync(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'docs', 'build', 'build.ts')], { cwd: root, stdio: 'inherit' });
  }
  for (const spec of specs) {
    const dist = join(root, spec.dir, 'dist');
    rmSync(dist, { recursive: true, force: true });
    await bundle(spec, dist, 'esm');
    if (spec.cjs) await bundle(spec, dist, 'cjs');
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
