// Installing the packed packages the way a consumer does: a fresh folder with its own
// package.json and `npm install` of the tarballs. Shared by the packaging test and the bench.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export type RunResult = { code: number | null; stdout: string; stderr: string };

/** Runs a command to its end; never throws on a non-zero exit (the caller decides). */
export async function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<RunResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : null, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${typeof e.code === 'number' ? '' : e.message}` };
  }
}

export function writePackageJson(dir: string, extra: Record<string, unknown> = {}) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'pacspace-consumer', version: '1.0.0', private: true, ...extra }, null, 2)}\n`);
}

export async function npmInstall(dir: string, specs: string[]): Promise<void> {
  const result = await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', ...specs], { cwd: dir, timeoutMs: 300_000 });
  if (result.code !== 0) throw new Error(`npm install ${specs.join(' ')} failed in ${dir}:\n${result.stderr.slice(-4000)}`);
}

/** A fresh project in `dir` with the given tarballs installed; returns `dir`. */
export async function installInFreshProject(dir: string, tarballs: string[], packageJson: Record<string, unknown> = {}): Promise<string> {
  writePackageJson(dir, packageJson);
  await npmInstall(dir, tarballs);
  return dir;
}
