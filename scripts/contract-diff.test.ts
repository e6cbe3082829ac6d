// The compatibility gate in the test command: the contract (bundled fresh from openapi/) against
// its latest release, and the changelog's entry for that release. Then the same code on copies of
// the contract with breaking and non-breaking changes, and the release flow in a temporary
// folder. `redocly diff` runs for real (about 1 s a run), so independent cases run concurrently.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, USAGE } from './contract-diff.ts';
import { bundleContract, changelogProblem, compareWithLatestRelease, DEFAULT_PATHS, gateProblems, recordRelease, ReleaseRefused, type GatePaths } from './contract-diff/gate.ts';
import { latestRelease, writeRelease } from './contract-diff/releases.ts';

let dir: string;
let currentFile: string;
let current: any;
let version: string;
/** A release folder whose only release is the current contract: the copies below differ from it by exactly their changes. */
let paths: GatePaths;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'contract-diff-test-'));
  currentFile = join(dir, 'current.json');
  await bundleContract(currentFile);
  current = JSON.parse(await readFile(currentFile, 'utf8'));
  version = current.info.version;
  paths = { releasesDir: join(dir, 'releases'), changelogFile: join(dir, 'CHANGELOG.md') };
  await writeRelease(paths.releasesDir, version, current);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A copy of the current contract with a change, written to a file of its own. */
async function copyWith(name: string, change: (doc: any) => void): Promise<string> {
  const doc = structuredClone(current);
  change(doc);
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(doc, null, 2));
  return file;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) } };
}

const breakingChanges = (doc: any) => {
  delete doc.paths['/api/v1/verify/{proofRoot}'];
  doc.components.schemas.DeltaRequest.required.push('referenceId');
  doc.paths['/api/v1/balance/delta'].post.parameters = [];
  const balance = doc.components.schemas.DerivedBalance;
  delete balance.properties.lastDeltaAt;
  balance.required = balance.required.filter((name: string) => name !== 'lastDeltaAt');
  // Only ProblemCode is an open enum: a value added to another enum in a response breaks.
  doc.components.schemas.WebhookEventType.enum.push('delta.reversed');
};
// In the order redocly diff reports them.
const BREAKING_LINES = [
  '- `POST /api/v1/balance/delta` (recordDelta) › header parameter Idempotency-Key: `Idempotency-Key` header parameter was removed.',
  '- `POST /api/v1/balance/delta` (recordDelta) › request body › application/json: Properties of `DeltaRequest` became required: `referenceId`.',
  '- `GET /api/v1/balance/derive/{customerId}` (deriveBalance) › 200 response › application/json › data: Properties of `data` are no longer required: `lastDeltaAt`.',
  '- `GET /api/v1/balance/derive/{customerId}` (deriveBalance) › 200 response › application/json › data › lastDeltaAt: Property `lastDeltaAt` of `data` was removed.',
  '- `/api/v1/verify/{proofRoot}`: Path `/api/v1/verify/{proofRoot}` was removed.',
  "- `GET /dashboard/webhooks` (listWebhookEndpoints) › 200 response › application/json › data › items › [items] › events › [items]: Enum of `WebhookEventType` gained values: 'delta.reversed'.",
];

const nonBreakingChanges = (doc: any) => {
  doc.components.schemas.DeltaRequest.properties.note = { type: 'string', maxLength: 200, description: 'A note for your records.' };
  doc.paths['/api/v1/balance/history'] = structuredClone(doc.paths['/api/v1/checkpoints/{checkpointId}']);
  doc.paths['/api/v1/balance/history'].get.operationId = 'getBalanceHistory';
  doc.components.schemas.ProblemCode.enum.push('history_unavailable');
};
const NON_BREAKING_LINES = [
  '- `POST /api/v1/balance/delta` (recordDelta) › request body › application/json › note: schema added',
  "- `POST /api/v1/balance/delta` (recordDelta) › 400 response › application/problem+json › code: Enum of `code` gained values: 'history_unavailable'. (an open enum: not breaking)",
  '- `/api/v1/balance/history`: path added',
];

describe('the contract against its latest release', () => {
  it('has no breaking change without a major bump of info.version', async () => {
    const comparison = await compareWithLatestRelease(currentFile, DEFAULT_PATHS);
    expect(comparison.baseline, 'openapi/releases/ has no release: run `npm run contract:diff -- --release`').toBeDefined();
    expect(comparison.problems.join('\n')).toBe('');
  });

  it('has the latest release in the changelog', async () => {
    const release = await latestRelease(DEFAULT_PATHS.releasesDir);
    expect(release?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await changelogProblem(DEFAULT_PATHS)).toBeUndefined();
    expect(await readFile(DEFAULT_PATHS.changelogFile, 'utf8')).toMatch(new RegExp(`^## ${release!.version.replace(/\./g, '\\.')} \\(\\d{4}-\\d{2}-\\d{2}\\)$`, 'm'));
  });
});

describe.concurrent('the gate on copies of the contract', () => {
  it('fails breaking changes without a major bump and lists each of them', async () => {
    const { out, err, io } = capture();
    expect(await main(['--revision', await copyWith('breaking', breakingChanges)], io, paths)).toBe(1);
    expect(err.join('\n')).toBe(
      `\ncontract:diff: 6 breaking changes since release ${version}, and info.version ${version} is not a major version bump (it needs ${semver.inc(version, 'major')} or later):\n${BREAKING_LINES.join('\n')}`,
    );
    expect(out.join('\n')).toBe(`Contract ${version} against release ${version}: 6 breaking, 0 non-breaking change(s).\n\nBreaking:\n${BREAKING_LINES.join('\n')}`);
  });

  it('passes the same breaking changes with a major bump', async () => {
    const major = semver.inc(version, 'major')!;
    const file = await copyWith('breaking-major', (doc) => {
      breakingChanges(doc);
      doc.info.version = major;
    });
    const { out, err, io } = capture();
    expect(await main(['--revision', file], io, paths)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toBe(
      `Contract ${major} against release ${version}: 6 breaking, 0 non-breaking change(s).\n\nBreaking:\n${BREAKING_LINES.join('\n')}\n\nCompatible: no breaking change without a major version bump.`,
    );
  });

  it('passes non-breaking changes without a bump: an optional request member, an operation, a problem code', async () => {
    const { out, err, io } = capture();
    expect(await main(['--revision', await copyWith('non-breaking', nonBreakingChanges)], io, paths)).toBe(0);
    expect(err).toEqual([]);
    expect(out.join('\n')).toBe(
      `Contract ${version} against release ${version}: 0 breaking, 3 non-breaking change(s).\n\nNon-breaking:\n${NON_BREAKING_LINES.join('\n')}\n\nCompatible: no breaking change without a major version bump.`,
    );
  });

  it('says why a file cannot be compared', async () => {
    const notAContract = join(dir, 'not-a-contract.json');
    await writeFile(notAContract, '{"hello": "world"}');
    const { err, io } = capture();
    expect(await main(['--revision', notAContract], io, paths)).toBe(1);
    expect(err).toEqual([`contract:diff: redocly diff could not compare ${join(paths.releasesDir, version, 'openapi.json')} with ${notAContract}: Unsupported specification`]);

    const missing = join(dir, 'missing.json');
    const second = capture();
    expect(await main(['--revision', missing], second.io, paths)).toBe(1);
    expect(second.err).toEqual([`contract:diff: ENOENT: no such file or directory, open '${missing}'`]);
  });
});

describe('the version rules', () => {
  const breaking = [{ impact: 'major' as const, breaking: true, where: '`/a`', what: 'Path `/a` was removed.', rules: ['path-removed'], pointer: '#/paths/~1a' }];

  it('refuses a version that is not semver or lower than the release', () => {
    expect(gateProblems('1.2.0', 'v2', [])).toEqual(['info.version "v2" is not a semantic version (MAJOR.MINOR.PATCH)']);
    expect(gateProblems('1.2.0', '1.1.9', [])).toEqual(['info.version 1.1.9 is lower than the latest release, 1.2.0']);
  });

  it('needs a major bump for a breaking change; a pre-release of the next major counts', () => {
    expect(gateProblems('1.2.0', '1.9.0', breaking)).toEqual([
      '1 breaking change since release 1.2.0, and info.version 1.9.0 is not a major version bump (it needs 2.0.0 or later):\n- `/a`: Path `/a` was removed.',
    ]);
    expect(gateProblems('1.2.0', '2.0.0-beta.1', breaking)).toEqual([]);
    expect(gateProblems('1.2.0', '1.2.0', [])).toEqual([]);
  });

  it('finds nothing to release when nothing changed', async () => {
    const baseline = await latestRelease(paths.releasesDir);
    const comparison = { baseline, revisionVersion: version, changes: [], breaking: [], problems: [] };
    await expect(recordRelease(comparison, currentFile, '2026-12-01', paths)).rejects.toThrow(new ReleaseRefused(`nothing to release: the contract is release ${version}`));
  });
});

describe('the command line', () => {
  it('prints its help', async () => {
    const { out, io } = capture();
    expect(await main(['--help'], io)).toBe(0);
    expect(out).toEqual([USAGE]);
  });

  it('refuses an unknown option with the usage', async () => {
    const { err, io } = capture();
    expect(await main(['--relase'], io)).toBe(2);
    expect(err).toHaveLength(1);
    // Node's parseArgs words the rest of its message differently across versions.
    expect(err[0]).toMatch(/^contract:diff: Unknown option '--relase'/);
    expect(err[0]!.endsWith(`\n\n${USAGE}`)).toBe(true);
  });
});

describe('--release', () => {
  let flow: GatePaths;
  let nonBreaking: (v: string) => Promise<string>;

  beforeAll(async () => {
    flow = { releasesDir: join(dir, 'flow', 'releases'), changelogFile: join(dir, 'flow', 'CHANGELOG.md') };
    nonBreaking = (v) =>
      copyWith(`non-breaking-${v}`, (doc) => {
        nonBreakingChanges(doc);
        doc.info.version = v;
      });
  });

  it('records the first release with no baseline to compare with', async () => {
    const { out, io } = capture();
    expect(await main(['--release', '--revision', currentFile], io, flow, () => '2026-11-30')).toBe(0);
    expect(out.at(-1)).toMatch(new RegExp(`^\\nReleased ${version.replace(/\./g, '\\.')}: wrote .*releases/${version.replace(/\./g, '\\.')}/openapi.json and its entry in .*CHANGELOG.md\\.$`));
    expect(JSON.parse(await readFile(join(flow.releasesDir, version, 'openapi.json'), 'utf8'))).toEqual(current);
    const changelog = await readFile(flow.changelogFile, 'utf8');
    expect(changelog).toMatch(/^# Changelog of the PacSpace API contract\n/);
    expect(changelog).toContain(`\n## ${version} (2026-11-30)\n\nThe first released contract (`);
    expect(await changelogProblem(flow)).toBeUndefined();
  });

  it('refuses a release whose version is not bumped as its changes need', async () => {
    const minor = semver.inc(version, 'minor')!;
    const patch = semver.inc(version, 'patch')!;
    const release = async (file: Promise<string>) => {
      const { err, io } = capture();
      return { code: await main(['--release', '--revision', await file], io, flow), err };
    };
    const [same, tooSmall] = await Promise.all([release(nonBreaking(version)), release(nonBreaking(patch))]);
    expect(same).toEqual({ code: 1, err: [`contract:diff: cannot release: info.version is still ${version}, the latest release; bump it in openapi/openapi.yaml (these changes need ${minor} or later)`] });
    expect(tooSmall).toEqual({ code: 1, err: [`contract:diff: cannot release ${patch}: these changes need a minor bump of ${version}, ${minor} or later`] });
    expect((await latestRelease(flow.releasesDir))?.version).toBe(version);
  });

  it('records a minor release: its baseline, and its changelog entry above the previous one', async () => {
    const minor = semver.inc(version, 'minor')!;
    const file = await nonBreaking(minor);
    const { io } = capture();
    expect(await main(['--release', '--revision', file], io, flow, () => '2026-12-01')).toBe(0);
    expect(await latestRelease(flow.releasesDir)).toEqual({ version: minor, file: join(flow.releasesDir, minor, 'openapi.json') });
    expect(await readFile(join(flow.releasesDir, minor, 'openapi.json'), 'utf8')).toBe(`${JSON.stringify(JSON.parse(await readFile(file, 'utf8')), null, 2)}\n`);
    const changelog = await readFile(flow.changelogFile, 'utf8');
    expect(changelog).toContain(`\n## ${minor} (2026-12-01)\n\n### Non-breaking\n\n${NON_BREAKING_LINES.join('\n')}\n\n## ${version} (2026-11-30)\n`);
    expect(await changelogProblem(flow)).toBeUndefined();
  });

  it('reports a release that the changelog does not have', async () => {
    const orphan: GatePaths = { releasesDir: join(dir, 'orphan', 'releases'), changelogFile: join(dir, 'orphan', 'CHANGELOG.md') };
    await writeRelease(orphan.releasesDir, '3.0.0', current);
    expect(await changelogProblem(orphan)).toBe(`${orphan.changelogFile} has no entry for the latest release, 3.0.0`);
  });
});

