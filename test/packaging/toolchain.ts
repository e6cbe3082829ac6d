// The runtimes and tools the packaging test runs the installed packages with. Every one is an
// npm package (Node builds, Bun, Deno, Vercel's edge-runtime, TypeScript, esbuild), installed
// into a temporary folder by the test itself: nothing global, nothing downloaded elsewhere.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { npmInstall, writePackageJson } from '../../scripts/packages/install.ts';

const platform = `linux-${process.arch === 'arm64' ? 'arm64' : 'x64'}`;
const bunPlatform = process.arch === 'arm64' ? 'linux-aarch64' : 'linux-x64';

/** Node lines the packages claim (engines >=20.19.0): the oldest supported 20.x, and 22 and 24. */
export const NODE_VERSIONS = (process.env.PACSPACE_PACKAGING_NODES ?? '20.19.0,22.23.5,24.22.3').split(',').filter(Boolean);
export const BUN_VERSION = '1.4.5';
export const DENO_VERSION = '2.9.6';
export const EDGE_RUNTIME_VERSION = '4.0.1';

export type Toolchain = {
  dir: string;
  /** Node binary by version. */
  node: Record<string, string>;
  bun: string;
  deno: string;
  tsc: string;
  esbuild: string;
  edgeRuntime: string;
};

export async function installToolchain(dir: string): Promise<Toolchain> {
  writePackageJson(dir, { name: 'pacspace-packaging-tools' });
  // One install per Node version: they all provide the `node` package's files.
  const nodes: Record<string, string> = {};
  for (const version of NODE_VERSIONS) {
    const nodeDir = join(dir, `node-${version}`);
    writePackageJson(nodeDir, { name: `node-${version}` });
    await npmInstall(nodeDir, [`node-${platform}@${version}`]);
    nodes[version] = join(nodeDir, 'node_modules', `node-${platform}`, 'bin', 'node');
  }
  await npmInstall(dir, [
    `@oven/bun-${bunPlatform}@${BUN_VERSION}`,
    `@deno/${platform}-glibc@${DENO_VERSION}`,
    `edge-runtime@${EDGE_RUNTIME_VERSION}`,
    'typescript@5.9.3',
    'esbuild@0.28.2',
  ]);
  const modules = join(dir, 'node_modules');
  return {
    dir,
    node: nodes,
    bun: join(modules, '@oven', `bun-${bunPlatform}`, 'bin', 'bun'),
    deno: join(modules, '@deno', `${platform}-glibc`, 'deno'),
    tsc: join(modules, 'typescript', 'bin', 'tsc'),
    esbuild: join(modules, 'esbuild'),
    edgeRuntime: join(modules, 'edge-runtime'),
  };
}

export type StartedSandbox = {
  productionUrl: string;
  sandboxUrl: string;
  email: string;
  password: string;
  apiKey: string;
  process: ChildProcess;
  stop(): Promise<number | null>;
};

/** Starts an installed `pacspace-sandbox` bin on free ports and reads its banner. */
export function startInstalledSandbox(bin: string, options: { cwd: string; env: NodeJS.ProcessEnv; args?: string[] }): Promise<StartedSandbox> {
  // The default Free plan (100 deltas a month): the conformance run checks the plan's figures.
  const child = spawn(bin, ['--port', '0', '--sandbox-port', '0', '--seed', '1', '--confirmation-ms', '0', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the installed sandbox did not start in 90 s:\n${out}\n${err}`));
      // Generous: on a loaded CI machine, with the other parts of npm test beside it, a start has taken 20 s.
    }, 90_000);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the installed sandbox exited with ${code} before it was ready:\n${out}\n${err}`));
    };
    child.once('exit', early);
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = (pattern: RegExp) => pattern.exec(out)?.[1];
      const apiKey = match(/API key:\s+(\S+)/);
      if (!apiKey) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        productionUrl: match(/\(pk_live_\):\s+(\S+)/)!,
        sandboxUrl: match(/\(pk_test_\):\s+(\S+)/)!,
        email: match(/email:\s+(\S+)/)!,
        password: match(/password:\s+(\S+)/)!,
        apiKey,
        process: child,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** The environment a consumer's shell has with a given Node first on its PATH (as nvm does). */
export function envWithNode(nodeBinary: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return { ...env, PATH: `${join(nodeBinary, '..')}:${env.PATH}`, ...extra };
}
