// The released contracts and their changelog: each release is `<releases>/<info.version>/openapi.json`
// (the bundle as released), and the changelog has one `## <version> (<date>)` entry per release,
// newest first.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { formatChange, type Change } from './compare.ts';

export type Release = { version: string; file: string };

/** The newest release under `dir` by semantic version, or undefined when none was made yet. */
export async function latestRelease(dir: string): Promise<Release | undefined> {
  const entries = existsSync(dir) ? await readdir(dir, { withFileTypes: true }) : [];
  const versions = entries
    .filter((e) => e.isDirectory() && semver.valid(e.name) === e.name && existsSync(join(dir, e.name, 'openapi.json')))
    .map((e) => e.name)
    .sort(semver.rcompare);
  const version = versions[0];
  return version === undefined ? undefined : { version, file: join(dir, version, 'openapi.json') };
}

/** Writes a release's bundle, formatted as generated/openapi.json is. */
export async function writeRelease(dir: string, version: string, bundle: unknown): Promise<Release> {
  const file = join(dir, version, 'openapi.json');
  await mkdir(join(dir, version), { recursive: true });
  await writeFile(file, `${JSON.stringify(bundle, null, 2)}\n`);
  return { version, file };
}

export const CHANGELOG_HEADER = `# Changelog of the PacSpace API contract

The public contract (\`openapi/openapi.yaml\`) as released, newest first. Each entry is written by
\`npm run contract:diff -- --release\`, which also keeps the released bundle in
\`openapi/releases/<version>/openapi.json\`: the baseline the compatibility gate compares the
contract with. Breaking and non-breaking are as \`redocly diff\` rates them (see the README's
"Compatibility gate"). The sandbox's control surface is not part of this contract.
`;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether the changelog text has the entry of `version`. */
export const hasEntry = (changelog: string, version: string) => new RegExp(`^## ${escapeRegExp(version)} \\(`, 'm').test(changelog);

/** The entry of one release. `changes` undefined: the first release, with nothing to compare with. */
export function renderEntry(version: string, date: string, changes: Change[] | undefined, firstReleaseSummary = ''): string {
  const lines = [`## ${version} (${date})`, ''];
  if (changes === undefined) {
    lines.push(`The first released contract${firstReleaseSummary}: the baseline later releases are compared with.`, '');
    return lines.join('\n');
  }
  const breaking = changes.filter((c) => c.breaking);
  const other = changes.filter((c) => !c.breaking);
  if (breaking.length) lines.push('### Breaking', '', ...breaking.map(formatChange), '');
  if (other.length) lines.push('### Non-breaking', '', ...other.map(formatChange), '');
  if (!changes.length) lines.push('No change to the contract.', '');
  return lines.join('\n');
}

/** Adds an entry above the newest one (the file is created with its header when missing). */
export async function prependEntry(changelogFile: string, entry: string): Promise<void> {
  const current = existsSync(changelogFile) ? await readFile(changelogFile, 'utf8') : `${CHANGELOG_HEADER}\n`;
  const at = current.search(/^## /m);
  const next = at === -1 ? `${current.replace(/\n*$/, '\n\n')}${entry}` : `${current.slice(0, at)}${entry}\n${current.slice(at)}`;
  await writeFile(changelogFile, next.replace(/\n*$/, '\n'));
}
