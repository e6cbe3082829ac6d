// The packages as their users get them: `npm run pack` builds and packs the three packages into
// dist/packages/, and fresh projects outside the repository install the tarballs with npm and
// use them as a consumer would — the SDK's quick start as ES module and CommonJS on every Node
// line we claim, under Bun, Deno and Vercel's edge-runtime, and bundled for the browser; the
// installed sandbox bin as the server; the installed conformance bin against it; the types
// through a consumer's `tsc` in both module modes; and the size budgets. Nothing here imports
// the repository's sources: only the tarballs and the consumer files in ./consumer.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installInFreshProject, run } from '../../scripts/packages/install.ts';
import { envWithNode, installToolchain, NODE_VERSIONS, startInstalledSandbox, type StartedSandbox, type Toolchain } from './toolchain.ts';

/** The part of edge-runtime's API used here (the package is installed by the test, not the repository). */
type EdgeRuntimeModule = { EdgeRuntime: new (options: { initialCode: string }) => { evaluate<T>(code: string): T } };

const repo = join(import.meta.dirname, '..', '..');
const consumerFiles = join(import.meta.dirname, 'consumer');
const SDK_INSTALLED_BUDGET = 1024 * 1024;
const SDK_ENTRY_MIN_GZIP_BUDGET = 15 * 1024;

let work: string;
let tools: Toolchain;
let tarballs: Record<string, string>;
/** A project with all three packages installed; its package.json has `"type": "module"`. */
let consumer: string;
const report: Record<string, unknown> = {};

const machineNode = process.execPath;
const nodes = () => [['machine', machineNode] as const, ...Object.entries(tools.node)];

function expectQuickstart(stdout: string, module: string) {
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
  expect(result).toMatchObject({
    module,
    receipt: { delta: '100.00', status: 'recorded' },
    computedBalance: '99.00',
    compare: { matchesYours: true, matchesTheirs: false },
    verified: true,
    authError: { isAuthenticationError: true, isPacSpaceError: true, status: 401, code: 'unauthenticated', showsSecret: false },
    webhook: { type: 'delta.recorded', tamperedRejected: true },
  });
  expect(result.receipt.receiptId).toMatch(/^rcpt_[A-Za-z0-9]+$/);
  expect(result.proofRoot).toMatch(/^[0-9a-f]{64}$/);
  expect(result.verifiedRoot).toBe(result.proofRoot);
  expect(result.webhook.receiptId).toBe(result.receipt.receiptId);
  if (module !== 'edge') expect(result.exported).toBe(true);
}

let runs = 0;
const quickstartEnv = (sb: StartedSandbox) => ({ PACSPACE_API_KEY: sb.apiKey, PACSPACE_SANDBOX_URL: sb.sandboxUrl, PACSPACE_RUN_ID: `r${Date.now()}x${++runs}` });

function installedSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += installedSize(path);
    else if (entry.isFile() && entry.name !== '.package-lock.json') total += statSync(path).size;
  }
  return total;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pacspace-packaging-'));
  const [pack, toolchain] = await Promise.all([
    run('npm', ['run', 'pack', '--silent'], { cwd: repo, timeoutMs: 300_000 }),
    installToolchain(join(work, 'tools')),
  ]);
  if (pack.code !== 0) throw new Error(`npm run pack failed:\n${pack.stdout}\n${pack.stderr}`);
  tools = toolchain;
  tarballs = Object.fromEntries(
    [...pack.stdout.matchAll(/packed (\S+) → (\S+)/g)].map(([, name, file]) => [name!, join(repo, file!)]),
  );
  expect(Object.keys(tarballs).sort()).toEqual(['@pacspace-io/conformance', '@pacspace-io/sandbox', '@pacspace-io/sdk']);

  consumer = await installInFreshProject(join(work, 'consumer'), Object.values(tarballs), { type: 'module' });
  cpSync(consumerFiles, consumer, { recursive: true });
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  if (Object.keys(report).length) console.log(`packaging report: ${JSON.stringify(report, null, 2)}`);
});

describe('the tarballs', () => {
  it('hold what their files allow-lists name and nothing from the repository besides', async () => {
    for (const [name, file] of Object.entries(tarballs)) {
      const listing = await run('tar', ['-tzf', file], { cwd: work });
      const files = listing.stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
      expect(files, name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']));
      const unexpected = files.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/.+)$/.test(f) || /\.test\.|\.ts$(?<!\.d\.ts)|\.map$/.test(f));
      expect(unexpected, name).toEqual([]);
      const manifest = JSON.parse((await run('tar', ['-xzOf', file, 'package/package.json'], { cwd: work })).stdout);
      expect(manifest.version, name).toMatch(/^\d+\.\d+\.\d+/);
      expect(manifest.license, name).toBe('Apache-2.0');
      expect(manifest.private, name).toBeUndefined();
      expect(Object.keys(manifest.devDependencies ?? {}), name).toEqual([]);
      for (const dep of Object.keys(manifest.dependencies ?? {})) expect(dep, name).not.toMatch(/^(tsx|vitest|typescript|@stoplight\/prism-cli)$/);
    }
  });

  it('every module a package imports at run time is one of its dependencies (strict install, no hoisting from elsewhere)', async () => {
    // Each package alone in its own project: nothing else installed beside it to lean on. The
    // three installs run side by side (mostly waiting on npm), the checks after them in order.
    const alone = await Promise.all(
      Object.entries(tarballs).map(async ([name, file]) => [name, file, await installInFreshProject(join(work, `alone-${name.split('/')[1]}`), [file], { type: 'module' })] as const),
    );
    for (const [name, , dir] of alone) {
      const entry = `import * as m from '${name}'; if (Object.keys(m).length === 0) process.exit(3); console.log(Object.keys(m).length);`;
      const result = await run(machineNode, ['--input-type=module', '-e', entry], { cwd: dir });
      expect(result.stderr, name).toBe('');
      expect(result.code, name).toBe(0);
      if (name === '@pacspace-io/sdk') {
        const size = installedSize(join(dir, 'node_modules'));
        report.sdkInstalledBytes = size;
        expect(size, 'the SDK with its dependencies, installed').toBeLessThanOrEqual(SDK_INSTALLED_BUDGET);
      } else {
        report[`${name.split('/')[1]}InstalledBytes`] = installedSize(join(dir, 'node_modules'));
      }
    }
  }, 300_000);
});

describe('@pacspace-io/sdk', () => {
  let sandbox: StartedSandbox;
  beforeAll(async () => {
    // Every runtime's quick start records deltas on this one sandbox: more than a Free month's 100.
    sandbox = await startInstalledSandbox(join(consumer, 'node_modules', '.bin', 'pacspace-sandbox'), { cwd: consumer, env: envWithNode(machineNode), args: ['--free-plan-deltas', '100000'] });
  });
  afterAll(async () => {
    expect(await sandbox?.stop()).toBe(0);
  });

  it.each(['quickstart.mjs', 'quickstart.cjs'])('runs the quick start (%s) on every Node line we claim', async (file) => {
    for (const [version, node] of nodes()) {
      const result = await run(node, [file], { cwd: consumer, env: envWithNode(node, quickstartEnv(sandbox)) });
      expect(result.stderr, `${file} on Node ${version}`).toBe('');
      expectQuickstart(result.stdout, file.endsWith('.mjs') ? 'esm' : 'cjs');
    }
  }, 120_000);

  it('runs the quick start under Bun', async () => {
    const result = await run(tools.bun, ['quickstart.mjs'], { cwd: consumer, env: { ...process.env, ...quickstartEnv(sandbox) } });
    expect(result.stderr).toBe('');
    expectQuickstart(result.stdout, 'esm');
    expectQuickstart((await run(tools.bun, ['quickstart.cjs'], { cwd: consumer, env: { ...process.env, ...quickstartEnv(sandbox) } })).stdout, 'cjs');
  }, 60_000);

  it('runs the quick start under Deno (node_modules resolution, least privilege)', async () => {
    const host = new URL(sandbox.sandboxUrl).host;
    const result = await run(
      tools.deno,
      ['run', `--allow-net=${host}`, '--allow-env', '--allow-read=.', '--no-prompt', 'quickstart.mjs'],
      { cwd: consumer, env: { ...process.env, ...quickstartEnv(sandbox), DENO_DIR: join(work, 'deno-cache'), NO_COLOR: '1' } },
    );
    expect(result.stderr).toBe('');
    expectQuickstart(result.stdout, 'esm');
  }, 60_000);

  it('bundles for the browser with no Node built-in, and runs the bundle in a Web-standard edge runtime', async () => {
    const esbuild = createRequire(join(tools.dir, 'package.json'))('esbuild') as typeof import('esbuild');
    const built = await esbuild.build({
      absWorkingDir: consumer,
      entryPoints: ['edge-entry.mjs'],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(built.metafile.inputs);
    expect(inputs.filter((i) => i.startsWith('node:') || i.includes('(disabled)'))).toEqual([]);
    const code = built.outputFiles[0]!.text;

    const { EdgeRuntime } = createRequire(join(tools.dir, 'package.json'))('edge-runtime') as EdgeRuntimeModule;
    const runtime = new EdgeRuntime({ initialCode: code });
    // No Node API is reachable in there: the SDK runs on Web APIs alone.
    expect(runtime.evaluate('typeof process + typeof require + typeof Buffer')).toBe('undefinedundefinedundefined');
    const env = quickstartEnv(sandbox);
    const options = { apiKey: env.PACSPACE_API_KEY, sandboxUrl: env.PACSPACE_SANDBOX_URL, runId: env.PACSPACE_RUN_ID };
    const json = await runtime.evaluate<Promise<string>>(`runQuickstart(${JSON.stringify(options)})`);
    expectQuickstart(json, 'edge');
  }, 60_000);

  it('meets its size budget: the ESM entry (with its chunks, without openapi-fetch) ≤ 15 kB min+gzip', async () => {
    const esbuild = createRequire(join(tools.dir, 'package.json'))('esbuild') as typeof import('esbuild');
    const minGzip = async (external: string[]) => {
      const built = await esbuild.build({
        absWorkingDir: consumer,
        stdin: { contents: "export * from '@pacspace-io/sdk'", resolveDir: consumer },
        bundle: true,
        minify: true,
        format: 'esm',
        platform: 'browser',
        external,
        write: false,
      });
      return gzipSync(built.outputFiles[0]!.contents).length;
    };
    report.sdkEntryMinGzipBytes = await minGzip(['openapi-fetch']);
    report.sdkWithDependenciesMinGzipBytes = await minGzip([]);
    expect(report.sdkEntryMinGzipBytes).toBeGreaterThan(1_000); // the SDK's code, not a re-export stub
    expect(report.sdkEntryMinGzipBytes).toBeLessThanOrEqual(SDK_ENTRY_MIN_GZIP_BUDGET);
  });

  it.each([
    ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }, ['typed.ts', 'typed-require.cts']],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, ['typed.ts']],
  ] as const)('type-checks a strict consumer with module resolution %s', async (name, modes, files) => {
    const tsconfig = join(consumer, `tsconfig.${name}.json`);
    writeFileSync(
      tsconfig,
      JSON.stringify({
        compilerOptions: { ...modes, target: 'es2022', lib: ['es2022', 'dom'], strict: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: false, types: [] },
        files,
      }),
    );
    const result = await run(machineNode, [tools.tsc, '-p', tsconfig], { cwd: consumer });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('fails a consumer type-check that breaks the types (the check is not vacuous)', async () => {
    writeFileSync(join(consumer, 'broken.ts'), "import { PacSpace } from '@pacspace-io/sdk';\nnew PacSpace({ apiKey: 42 });\n");
    writeFileSync(join(consumer, 'tsconfig.broken.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', strict: true, noEmit: true }, files: ['broken.ts'] }));
    const result = await run(machineNode, [tools.tsc, '-p', 'tsconfig.broken.json'], { cwd: consumer });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/broken\.ts\(2,\d+\): error TS2322/);
  }, 60_000);
});

describe('@pacspace-io/sandbox and @pacspace-io/conformance, installed', () => {
  it('answer --version with their package versions', async () => {
    for (const [bin, name] of [['pacspace-sandbox', '@pacspace-io/sandbox'], ['pacspace-conformance', '@pacspace-io/conformance']] as const) {
      const result = await run(join(consumer, 'node_modules', '.bin', bin), ['--version'], { cwd: consumer });
      const manifest = JSON.parse(readFileSync(join(consumer, 'node_modules', name, 'package.json'), 'utf8'));
      expect(result.stdout.trim(), bin).toBe(manifest.version);
      expect(result.code, bin).toBe(0);
    }
  });

  // Side by side: each Node line has its own sandbox on its own ports, and most of a run is
  // waiting (the installed sandbox's confirmation and provisioning delays, webhook deliveries).
  it.concurrent.each(NODE_VERSIONS.length ? ['machine', ...NODE_VERSIONS] : ['machine'])('on Node %s: the bin serves the API, /docs/ and the inspector page, the conformance bin passes against it, both APIs work, SIGTERM stops it', async (version) => {
    const node = version === 'machine' ? machineNode : tools.node[version]!;
    const env = envWithNode(node);
    const sb = await startInstalledSandbox(join(consumer, 'node_modules', '.bin', 'pacspace-sandbox'), { cwd: consumer, env });
    try {
      const docs = await fetch(`${sb.productionUrl}/docs/`);
      expect(docs.status).toBe(200);
      expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await docs.text()).toMatch(/PacSpace/);
      expect((await fetch(`${sb.productionUrl}/openapi.json`)).status).toBe(200);
      // The request inspector's page ships with the package.
      const inspector = await fetch(`${sb.productionUrl}/__sandbox/inspector/`);
      expect(inspector.status).toBe(200);
      expect(inspector.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await inspector.text()).toMatch(/inspector/i);

      const conformance = await run(
        join(consumer, 'node_modules', '.bin', 'pacspace-conformance'),
        ['--base-url', sb.sandboxUrl, '--api-key', sb.apiKey, '--dashboard-url', sb.productionUrl, '--email', sb.email, '--password', sb.password,
          '--other-env-base-url', sb.productionUrl, '--allow-writes', '--webhook-host', '127.0.0.1', '--reporter', 'json',
          // Its waits are deadlines; npm test runs this beside two other suites on a small machine.
          '--timeout-scale', '3'],
        { cwd: consumer, env },
      );
      const conformanceReport = JSON.parse(conformance.stdout);
      const failed = conformanceReport.results.filter((r: { status: string }) => r.status === 'failed');
      expect(failed).toEqual([]);
      expect(conformanceReport.results.filter((r: { status: string }) => r.status === 'passed').length).toBeGreaterThan(30);
      expect(conformance.code).toBe(0);
      expect(conformance.stdout + conformance.stderr).not.toContain(sb.password);

      const programmatic = await run(node, ['conformance-api.mjs'], { cwd: consumer, env: envWithNode(node, quickstartEnv(sb)) });
      expect(programmatic.stderr).toBe('');
      expect(JSON.parse(programmatic.stdout)).toEqual([
        { id: 'AUTH-001', status: 'passed' },
        { id: 'AUTH-003', status: 'passed' },
        { id: 'LEDGER-001', status: 'skipped' }, // it writes, and this run did not allow writes
      ]);

      const api = await run(node, ['sandbox-api.mjs'], { cwd: consumer, env });
      expect(api.stderr).toBe('');
      expect(JSON.parse(api.stdout)).toEqual({ status: 'confirmed', keyChanged: true, afterReset: 401, balanceAfterReset: '0.00' });
    } finally {
      expect(await sb.stop()).toBe(0);
    }
  }, 240_000);

  it('the installed bin takes the control token from --control-token-file: the control surface answers only with it', async () => {
    const token = `tok_${Date.now().toString(36)}PackagedControlToken`;
    const file = join(consumer, 'control.token');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    const sb = await startInstalledSandbox(join(consumer, 'node_modules', '.bin', 'pacspace-sandbox'), { cwd: consumer, env: envWithNode(machineNode), args: ['--control-token-file', file] });
    try {
      const clock = (headers: Record<string, string>) => fetch(`${sb.productionUrl}/__sandbox/clock`, { headers }).then((res) => res.status);
      expect(await clock({})).toBe(401);
      expect(await clock({ 'x-sandbox-control-token': `${token}x` })).toBe(401);
      expect(await clock({ 'x-sandbox-control-token': token })).toBe(200);
    } finally {
      expect(await sb.stop()).toBe(0);
      rmSync(file, { force: true });
    }
  }, 120_000);

  it('the sandbox package is ESM; a CommonJS test suite loads it with require() (Node ≥ 20.19)', async () => {
    const script = "const { startSandbox } = require('@pacspace-io/sandbox'); startSandbox().then(async (s) => { const ok = (await fetch(s.urls.sandbox + '/api/v1/verify/' + '0'.repeat(64))).status; await s.close(); console.log(ok); });";
    const result = await run(machineNode, ['-e', script], { cwd: consumer });
    expect(result.stdout.trim()).toBe('404');
    expect(result.stderr).not.toMatch(/Error/);
  }, 60_000);

  it('has no file of the repository it depends on at run time', () => {
    // The installed bundles find the contract and docs beside themselves.
    const dist = join(consumer, 'node_modules', '@pacspace-io', 'sandbox', 'dist');
    for (const file of ['generated/openapi.json', 'docs/index.html']) expect(existsSync(join(dist, file)), file).toBe(true);
  });
});
