// Compares two bundled contracts with `redocly diff` (Redocly's diff rules, every one rated
// `major`) and sorts its report into breaking and non-breaking changes, each described in words
// a changelog can carry. Redocly decides what breaks a client; this module only reads its JSON
// report, narrows one documented exception (open enums) and names where each change is.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deref, escapePointerToken, resolvePointer, type Json } from '../../contract/document.ts';
import { HTTP_METHODS, listOperations } from '../../contract/operations.ts';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
const redocly = join(ROOT, 'node_modules', '.bin', 'redocly');
const diffConfig = join(here, 'redocly-diff.yaml');

/**
 * Enums the contract declares open: clients must accept values they do not know, so a value
 * added to one is not breaking even in a response. ProblemCode's description says so ("New
 * codes may be added; existing ones never change meaning").
 */
export const OPEN_ENUMS = ['#/components/schemas/ProblemCode'];

export type Impact = 'major' | 'minor' | 'patch';

export type Change = {
  /** `major` breaks a client; `minor` adds; `patch` neither (descriptions, examples, looser bounds). */
  impact: Impact;
  breaking: boolean;
  /** Where, in words: `` `POST /api/v1/balance/delta` (recordDelta) request body › application/json › referenceId ``. */
  where: string;
  /** What happened: Redocly's messages for a breaking change, else `property added` and the like. */
  what: string;
  /** The Redocly diff rules that rated it (empty for non-breaking changes). */
  rules: string[];
  /** The JSON pointer of the change in the compared documents. */
  pointer: string;
};

export type ContractDiff = {
  baseVersion: string;
  revisionVersion: string;
  changes: Change[];
};

/** One change of `redocly diff --format json` (report version 1), as far as it is read here. */
type ReportChange = {
  path: string;
  typeName: string;
  kind: 'added' | 'removed' | 'modified';
  /** For `modified`: the field that changed (`description`, `maxLength`, `version`, …). */
  property?: string;
  impact: Impact;
  verdicts: Array<{ ruleId: string; impact: Impact; message: string }>;
  base?: { value?: Json };
  revision?: { value?: Json };
};

/** Runs `redocly diff` on two bundled documents (JSON or YAML files) and returns its parsed report. */
async function redoclyDiff(baseFile: string, revisionFile: string): Promise<{ changes: ReportChange[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'contract-diff-'));
  const out = join(dir, 'report.json');
  try {
    // --fail-on none: the verdict is ours (it depends on info.version); a non-zero exit is then
    // a real failure (a file that does not parse, an unknown option).
    await promisify(execFile)(redocly, ['diff', baseFile, revisionFile, '--config', diffConfig, '--format', 'json', '--output', out, '--fail-on', 'none'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', REDOCLY_TELEMETRY: 'off', NO_COLOR: '1' },
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stderr?: string; message: string }) => {
      // Its stderr is a banner and a stack trace around one `Error: …` line: that line is the reason.
      const stderr = error.stderr ?? '';
      const reason = stderr.split('\n').find((line) => line.startsWith('Error: '))?.slice('Error: '.length) ?? (stderr.trim() || error.message);
      throw new Error(`redocly diff could not compare ${baseFile} with ${revisionFile}: ${reason}`);
    });
    const report = JSON.parse(await readFile(out, 'utf8'));
    if (report.reportVersion !== '1' || !Array.isArray(report.changes)) {
      throw new Error(`redocly diff wrote a report this script does not know (reportVersion ${report.reportVersion})`);
    }
    return report;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const unescape = (token: string) => token.replace(/~1/g, '/').replace(/~0/g, '~');
const tokensOf = (pointer: string) => pointer.replace(/^#\/?/, '').split('/').filter((t) => t !== '').map(unescape);

/** The node a pointer names, following the `$ref`s it passes through; the last node is returned as written (a `$ref` stays one). */
function nodeThroughRefs(doc: Json, pointer: string): Json {
  let node: Json = doc;
  for (const token of tokensOf(pointer)) {
    node = deref(doc, node)?.[token];
    if (node === undefined) return undefined;
  }
  return node;
}

/** A value added to an enum the contract declares open (OPEN_ENUMS) is not breaking. */
function addsToOpenEnum(change: ReportChange, revision: Json): boolean {
  if (change.verdicts.length === 0 || !change.verdicts.every((v) => v.ruleId === 'enum-values-added')) return false;
  const target = deref(revision, nodeThroughRefs(revision, change.path));
  return OPEN_ENUMS.some((pointer) => resolvePointer(revision, pointer) === target);
}

const TYPE_WORDS: Record<string, string> = {
  PathItem: 'path',
  Operation: 'operation',
  Parameter: 'parameter',
  RequestBody: 'request body',
  Response: 'response',
  MediaType: 'media type',
  Header: 'header',
  Schema: 'schema',
  Info: 'info',
  Server: 'server',
  SecurityRequirement: 'security requirement',
  SecurityScheme: 'security scheme',
  Example: 'example',
  Link: 'link',
};

/** The words for a change's place: the operation (or webhook) and the steps below it. `docs`: revision, then base. */
function describeWhere(pointer: string, docs: Json[], operationIds: Map<string, string>): string {
  const tokens = tokensOf(pointer);
  const [section, name, method] = tokens;
  if ((section !== 'paths' && section !== 'webhooks') || name === undefined) return `\`${pointer}\``;
  const isOperation = method !== undefined && (HTTP_METHODS as readonly string[]).includes(method);
  const id = isOperation ? operationIds.get(`${section}/${name}/${method}`) : undefined;
  const subject = section === 'webhooks' ? `webhook \`${name}\`` : isOperation ? `\`${method!.toUpperCase()} ${name}\`` : `\`${name}\``;
  const offset = isOperation ? 3 : 2;
  const steps = [`${subject}${id ? ` (${id})` : ''}`];
  for (let i = offset; i < tokens.length; i++) {
    const token = tokens[i]!;
    const next = tokens[i + 1];
    if (next !== undefined && ['responses', 'content', 'headers', 'properties', 'parameters'].includes(token)) {
      i++;
      if (token === 'responses') steps.push(`${next} response`);
      else if (token === 'headers') steps.push(`header ${next}`);
      else if (token === 'parameters') {
        // Parameters are a list: name the one at this index, from whichever document has it.
        const at = `#/${tokens.slice(0, i + 1).map(escapePointerToken).join('/')}`;
        const parameter = docs.map((doc) => deref(doc, nodeThroughRefs(doc, at))).find((p) => p?.name);
        steps.push(parameter ? `${parameter.in} parameter ${parameter.name}` : `parameter ${next}`);
      } else steps.push(next); // a media type or a property name
    } else if (token === 'requestBody') steps.push('request body');
    else if (token === 'items') steps.push('[items]');
    else if (token !== 'schema') steps.push(token);
  }
  return steps.join(' › ');
}

/** The version bump itself is not a change of the contract. */
const isVersionBump = (change: ReportChange) => change.path === '#/info' && change.property === 'version';

/** A short scalar is worth quoting in a changelog line; a description is not. */
const quotable = (value: Json) => typeof value === 'number' || typeof value === 'boolean' || (typeof value === 'string' && value.length <= 40 && !value.includes('\n'));

/** What a non-breaking change did: `path added`, `maxLength changed from 200 to 300`, `description changed`. */
function describeNonBreaking(change: ReportChange): string {
  const base = change.base?.value;
  const revision = change.revision?.value;
  if (change.kind === 'modified' && change.property) {
    return quotable(base) && quotable(revision) ? `${change.property} changed from ${JSON.stringify(base)} to ${JSON.stringify(revision)}` : `${change.property} changed`;
  }
  return `${TYPE_WORDS[change.typeName] ?? change.typeName} ${change.kind}`;
}

function operationIdsOf(doc: Json): Map<string, string> {
  const ids = new Map<string, string>();
  for (const op of listOperations(doc)) ids.set(`paths/${op.path}/${op.method}`, op.operationId);
  for (const [name, item] of Object.entries<Json>(doc.webhooks ?? {})) {
    for (const method of HTTP_METHODS) if (item?.[method]?.operationId) ids.set(`webhooks/${name}/${method}`, item[method].operationId);
  }
  return ids;
}

/** Compares two bundled contracts (`generated/openapi.json`-shaped files). */
export async function diffContracts(baseFile: string, revisionFile: string): Promise<ContractDiff> {
  // Redocly first: it says best what is wrong with a file that is not a contract.
  const report = await redoclyDiff(baseFile, revisionFile);
  const [base, revision] = await Promise.all([readFile(baseFile, 'utf8').then(JSON.parse), readFile(revisionFile, 'utf8').then(JSON.parse)]);
  const operationIds = new Map([...operationIdsOf(base), ...operationIdsOf(revision)]);
  const changes: Change[] = [];
  for (const change of report.changes) {
    if (isVersionBump(change)) continue;
    const open = change.impact === 'major' && addsToOpenEnum(change, revision);
    const impact: Impact = open ? 'minor' : change.impact;
    const breaking = impact === 'major';
    const messages = change.verdicts.map((v) => v.message).join(' ');
    const what = breaking ? messages : open ? `${messages} (an open enum: not breaking)` : describeNonBreaking(change);
    changes.push({
      impact,
      breaking,
      where: describeWhere(change.path, [revision, base], operationIds),
      what,
      rules: breaking ? change.verdicts.map((v) => v.ruleId) : [],
      pointer: change.path,
    });
  }
  return { baseVersion: String(base.info?.version), revisionVersion: String(revision.info?.version), changes };
}

/** One line per change: `- where: what`. */
export const formatChange = (change: Change) => `- ${change.where}: ${change.what}`;
