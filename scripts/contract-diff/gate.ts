// The compatibility gate: the contract against its latest release. A breaking change needs a
// major bump of info.version; a release needs the bump its changes call for (semver) and is
// recorded as a baseline plus a changelog entry.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { listOperations } from '../../contract/operations.ts';
import { diffContracts, formatChange, ROOT, type Change } from './compare.ts';
import { hasEntry, latestRelease, prependEntry, renderEntry, writeRelease, type Release } from './releases.ts';

export type GatePaths = { releasesDir: string; changelogFile: string };

export const DEFAULT_PATHS: GatePaths = {
  releasesDir: join(ROOT, 'openapi', 'releases'),
  changelogFile: join(ROOT, 'openapi', 'CHANGELOG.md'),
};

export type Comparison = {
  /** The latest release, or undefined before the first one. */
  baseline: Release | undefined;
  revisionVersion: string;
  /** Every change since the baseline (empty without one). */
  changes: Change[];
  breaking: Change[];
  /** Why the gate fails; empty when it passes. */
  problems: string[];
};

/** Bundles openapi/openapi.yaml (the `pacspace` API of redocly.yaml) to a JSON file. */
export async function bundleContract(outFile: string): Promise<void> {
  await promisify(execFile)(join(ROOT, 'node_modules', '.bin', 'redocly'), ['bundle', 'pacspace', '--output', outFile, '--ext', 'json'], {
    cwd: ROOT,
    env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' },
  });
}

/** The gate's verdict on a version and changes against a released version. */
export function gateProblems(releasedVersion: string, version: string, changes: Change[]): string[] {
  if (semver.valid(version) !== version) return [`info.version "${version}" is not a semantic version (MAJOR.MINOR.PATCH)`];
  if (semver.lt(version, releasedVersion)) return [`info.version ${version} is lower than the latest release, ${releasedVersion}`];
  const breaking = changes.filter((c) => c.breaking);
  if (breaking.length && semver.major(version) <= semver.major(releasedVersion)) {
    return [
      `${breaking.length} breaking change${breaking.length === 1 ? '' : 's'} since release ${releasedVersion}, and info.version ${version} is not a major version bump (it needs ${semver.inc(releasedVersion, 'major')} or later):\n` +
        breaking.map(formatChange).join('\n'),
    ];
  }
  return [];
}

/** The contract in `revisionFile` (a bundle) against the latest release under `paths.releasesDir`. */
export async function compareWithLatestRelease(revisionFile: string, paths: GatePaths = DEFAULT_PATHS): Promise<Comparison> {
  const revisionVersion = String(JSON.parse(await readFile(revisionFile, 'utf8')).info?.version);
  const baseline = await latestRelease(paths.releasesDir);
  if (!baseline) return { baseline, revisionVersion, changes: [], breaking: [], problems: [] };
  const { changes } = await diffContracts(baseline.file, revisionFile);
  return { baseline, revisionVersion, changes, breaking: changes.filter((c) => c.breaking), problems: gateProblems(baseline.version, revisionVersion, changes) };
}

/** The changelog lacks the latest release's entry (a baseline written by hand, or an entry deleted). */
export async function changelogProblem(paths: GatePaths = DEFAULT_PATHS): Promise<string | undefined> {
  const baseline = await latestRelease(paths.releasesDir);
  if (!baseline) return undefined;
  const changelog = await readFile(paths.changelogFile, 'utf8').catch(() => '');
  return hasEntry(changelog, baseline.version) ? undefined : `${paths.changelogFile} has no entry for the latest release, ${baseline.version}`;
}

export class ReleaseRefused extends Error {}

/** Records the compared contract as the release its info.version names; throws ReleaseRefused with the reason. */
export async function recordRelease(comparison: Comparison, revisionFile: string, date: string, paths: GatePaths = DEFAULT_PATHS): Promise<Release> {
  const { baseline, revisionVersion: version, changes } = comparison;
  if (comparison.problems.length) throw new ReleaseRefused(`cannot release: ${comparison.problems.join('\n')}`);
  if (semver.valid(version) !== version) throw new ReleaseRefused(`cannot release: info.version "${version}" is not a semantic version (MAJOR.MINOR.PATCH)`);
  const bundle = JSON.parse(await readFile(revisionFile, 'utf8'));
  if (!baseline) {
    const operations = listOperations(bundle).length;
    const webhooks = Object.keys(bundle.webhooks ?? {}).length;
    const release = await writeRelease(paths.releasesDir, version, bundle);
    await prependEntry(paths.changelogFile, renderEntry(version, date, undefined, ` (${operations} operations, ${webhooks} webhook events)`));
    return release;
  }
  const level = changes.some((c) => c.impact === 'major') ? 'major' : changes.some((c) => c.impact === 'minor') ? 'minor' : 'patch';
  const needed = semver.inc(baseline.version, level)!;
  if (version === baseline.version) {
    throw new ReleaseRefused(
      changes.length
        ? `cannot release: info.version is still ${version}, the latest release; bump it in openapi/openapi.yaml (these changes need ${needed} or later)`
        : `nothing to release: the contract is release ${version}`,
    );
  }
  if (semver.lt(version, needed)) {
    throw new ReleaseRefused(`cannot release ${version}: these changes need a ${level} bump of ${baseline.version}, ${needed} or later`);
  }
  const release = await writeRelease(paths.releasesDir, version, bundle);
  await prependEntry(paths.changelogFile, renderEntry(version, date, changes));
  return release;
}
