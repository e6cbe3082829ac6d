// `npm run contract:diff`: the public contract against its latest release (the compatibility
// gate), and `--release` to record a new release. See `--help` and the README's
// "Compatibility gate". The same code runs in the test command (scripts/contract-diff.test.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatChange, ROOT } from './contract-diff/compare.ts';
import { bundleContract, compareWithLatestRelease, DEFAULT_PATHS, recordRelease, type GatePaths } from './contract-diff/gate.ts';

export const USAGE = `Usage: npm run contract:diff -- [--release] [--revision FILE]

Compares the public contract (openapi/openapi.yaml, bundled fresh) with its latest release,
openapi/releases/<version>/openapi.json, using \`redocly diff\`, and lists the breaking and the
non-breaking changes. Exits 1 when a change is breaking and info.version is not a major bump
of the release.

Options:
  --release        record the contract as the release its info.version names: write
                   openapi/releases/<version>/openapi.json and add the entry to
                   openapi/CHANGELOG.md. Refused unless info.version is bumped as the
                   changes need (breaking: major; added: minor; other: patch).
  --revision FILE  compare this bundled contract (JSON) instead of bundling openapi/
  -h, --help       print this help

Exit status: 0 compatible (or released); 1 the gate failed, the release was refused or the
comparison could not run; 2 a bad option.
`;

export type Io = { out: (line: string) => void; err: (line: string) => void };
const consoleIo: Io = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Runs the command; returns its exit code (0 passed; 1 gate failed, release refused or comparison failed; 2 bad usage). */
export async function main(argv: string[], io: Io = consoleIo, paths: GatePaths = DEFAULT_PATHS, today = () => new Date().toISOString().slice(0, 10)): Promise<number> {
  let options: { release?: boolean; revision?: string; help?: boolean };
  try {
    ({ values: options } = parseArgs({
      args: argv,
      options: { release: { type: 'boolean' }, revision: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`contract:diff: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  const tmp = options.revision ? undefined : await mkdtemp(join(tmpdir(), 'contract-diff-'));
  try {
    const revisionFile = options.revision ?? join(tmp!, 'openapi.json');
    if (tmp) await bundleContract(revisionFile);
    const comparison = await compareWithLatestRelease(revisionFile, paths);
    const { baseline, revisionVersion, changes } = comparison;
    if (!baseline) {
      io.out(`No release of the contract yet (${relative(ROOT, paths.releasesDir)} is empty).`);
    } else {
      io.out(`Contract ${revisionVersion} against release ${baseline.version}: ${comparison.breaking.length} breaking, ${changes.length - comparison.breaking.length} non-breaking change(s).`);
      const other = changes.filter((c) => !c.breaking);
      if (comparison.breaking.length) io.out(`\nBreaking:\n${comparison.breaking.map(formatChange).join('\n')}`);
      if (other.length) io.out(`\nNon-breaking:\n${other.map(formatChange).join('\n')}`);
    }
    if (comparison.problems.length) {
      io.err(`\ncontract:diff: ${comparison.problems.join('\n')}`);
      return 1;
    }
    if (options.release) {
      const release = await recordRelease(comparison, revisionFile, today(), paths);
      io.out(`\nReleased ${release.version}: wrote ${relative(ROOT, release.file)} and its entry in ${relative(ROOT, paths.changelogFile)}.`);
    } else if (baseline) {
      io.out('\nCompatible: no breaking change without a major version bump.');
    }
    return 0;
  } catch (error) {
    // A refused release, or a comparison that could not run (a missing or unreadable file): one line, not a stack.
    io.err(`contract:diff: ${(error as Error).message}`);
    return 1;
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
