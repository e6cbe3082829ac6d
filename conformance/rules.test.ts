// The rule inventory (rules.ts → RULES.md) against the contract and the check catalogue: every
// operation, webhook event and problem code has a row; every check id named exists and every
// check enforces a row; every contract reference resolves and the per-operation rows say what
// the contract says; RULES.md is what the generator makes of rules.ts. The contract is read
// from generated/openapi.json when the test runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFile } from '../contract/files.ts';
import { regenerateCommand, renderRules, rulesMarkdownFile, tally } from '../scripts/generate-rules.ts';
import { catalogue } from './checks/index.ts';
import { areas, rules, statusOf, type AuthClass } from './rules.ts';

const contract = JSON.parse(readFileSync(generatedFile('openapi.json'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const operations = new Map<string, any>();
for (const item of Object.values<any>(contract.paths ?? {})) {
  for (const m of METHODS) if (item[m]?.operationId) operations.set(item[m].operationId, item[m]);
}
const events = Object.keys(contract.webhooks ?? {});
const problemCodes: string[] = contract.components?.schemas?.ProblemCode?.enum ?? [];
const checkIds = new Set(catalogue.map((c) => c.id));

const resolve = (pointer: string) =>
  pointer
    .replace(/^#\/?/, '')
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<any>((node, key) => (node === undefined ? undefined : node[key]), contract);

function authClassOf(operation: any): AuthClass {
  const security: Array<Record<string, string[]>> = operation.security ?? contract.security ?? [];
  const schemes = security.flatMap((s) => Object.keys(s));
  if (schemes.length === 0) return 'public';
  const api = security.find((s) => s.ApiKeyAuth)?.ApiKeyAuth;
  if (api) return `api key (${api.join(' ')})` as AuthClass;
  if (schemes.includes('DashboardRefresh')) return 'refresh cookie + CSRF';
  return schemes.includes('CsrfHeader') ? 'session + CSRF' : 'session';
}

// The source material outside the repository, when it is there (it is in the workspace, not
// in a clone): quoted seed text and PRODUCT.md headings are then checked too.
const shared = new URL('../../shared/', import.meta.url);
const seeds = new Map<string, string>();
if (existsSync(new URL('seeds/', shared))) {
  for (const f of readdirSync(new URL('seeds/', shared))) {
    const m = /^(\d{3})_.*\.txt$/.exec(f);
    if (m) seeds.set(m[1]!, readFileSync(new URL(`seeds/${f}`, shared), 'utf8'));
  }
}
const product = existsSync(new URL('PRODUCT.md', shared)) ? readFileSync(new URL('PRODUCT.md', shared), 'utf8') : undefined;
const infoHeadings = new Set([...String(contract.info?.description ?? '').matchAll(/^#+\s+(.+)$/gm)].map((m) => m[1]!.trim()));
const tags = new Set<string>((contract.tags ?? []).map((t: any) => t.name));

/** Why a source entry does not resolve, or undefined when it does (or is free text). */
function unresolved(source: string): string | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^openapi (#\/\S*)$/.exec(source))) return resolve(m[1]!) === undefined ? 'no such contract location' : undefined;
  if ((m = /^openapi op (\w+)$/.exec(source))) return operations.has(m[1]!) ? undefined : 'no such operationId';
  if ((m = /^openapi info "([^"]+)"$/.exec(source))) return infoHeadings.has(m[1]!) ? undefined : 'no such section in info.description';
  if ((m = /^openapi tag "([^"]+)"$/.exec(source))) return tags.has(m[1]!) ? undefined : 'no such tag';
  if (source.startsWith('openapi')) return 'malformed: use `openapi #/pointer`, `openapi op id`, `openapi info "Heading"` or `openapi tag "Name"`';
  if ((m = /^seed (\d{3}) "([^"]+)"$/.exec(source))) {
    const text = seeds.get(m[1]!);
    if (seeds.size && text === undefined) return 'no such seed page';
    return text === undefined || text.replace(/\s+/g, ' ').includes(m[2]!) ? undefined : 'the text does not occur in that seed page';
  }
  if (source.startsWith('seed')) return 'malformed: use `seed NNN "text"`';
  if ((m = /^PRODUCT\.md "([^"]+)"$/.exec(source))) {
    return product === undefined || new RegExp(`^## ${m[1]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm').test(product) ? undefined : 'no such PRODUCT.md section';
  }
  if (source.startsWith('PRODUCT')) return 'malformed: use `PRODUCT.md "Heading"`';
  return undefined;
}

describe('the rule inventory', () => {
  it('has well-formed, unique, stable ids in known areas', () => {
    const known = new Set<string>(areas.map((a) => a.id));
    const bad = rules.filter((r) => !/^R-[A-Z]+-\d{3}$/.test(r.id) || !known.has(r.id.split('-')[1]!)).map((r) => r.id);
    expect(bad, 'ids are R-{AREA}-{NNN} with an AREA of `areas`').toEqual([]);
    const seen = new Set<string>();
    const duplicates = rules.filter((r) => (seen.has(r.id) ? true : (seen.add(r.id), false))).map((r) => r.id);
    expect(duplicates, 'duplicate rule ids').toEqual([]);
  });

  it('gives every row a rule, a source and exactly one status', () => {
    const bad = rules.flatMap((r) => {
      const why: string[] = [];
      if (!r.rule.trim()) why.push('no rule text');
      if (r.source.length === 0) why.push('no source');
      if (r.unobservable && r.checks?.length) why.push('both checks and unobservable');
      if (r.gap && !r.checks?.length) why.push('a gap without checks');
      if (r.checks && new Set(r.checks).size !== r.checks.length) why.push('a check named twice');
      return why.map((w) => `${r.id}: ${w}`);
    });
    expect(bad).toEqual([]);
  });

  it('names only checks of the catalogue, and every check enforces at least one rule', () => {
    const unknown = rules.flatMap((r) => (r.checks ?? []).filter((id) => !checkIds.has(id)).map((id) => `${r.id} names ${id}`));
    expect(unknown, 'check ids that are not in conformance/checks').toEqual([]);
    const enforcing = new Set(rules.flatMap((r) => r.checks ?? []));
    const idle = catalogue.filter((c) => !enforcing.has(c.id)).map((c) => c.id);
    expect(idle, 'checks that enforce no rule: add their id to the rows they enforce in conformance/rules.ts').toEqual([]);
  });

  it('covers every operation and webhook event of the contract, and names no other', () => {
    const covered = new Set(rules.flatMap((r) => [...(r.contract ? [r.contract.operationId] : []), ...(r.operations ?? [])]));
    const missing = [...operations.keys(), ...events].filter((id) => !covered.has(id));
    expect(missing, 'operations and events without a rule row').toEqual([]);
    const unknown = [...covered].filter((id) => !operations.has(id) && !events.includes(id));
    expect(unknown, 'rows name operations or events the contract does not have').toEqual([]);
  });

  it('covers every ProblemCode, and names no other', () => {
    const covered = new Set(rules.flatMap((r) => r.problemCodes ?? []));
    expect(problemCodes.filter((c) => !covered.has(c)), 'problem codes without a rule row').toEqual([]);
    expect([...covered].filter((c) => !problemCodes.includes(c)), 'rows name codes that are not ProblemCode values').toEqual([]);
  });

  it('states each operation\'s auth class, success status and documented errors as the contract does', () => {
    const problems: string[] = [];
    for (const [id, operation] of operations) {
      const auth = rules.filter((r) => r.contract?.operationId === id && r.contract.auth);
      const answer = rules.filter((r) => r.contract?.operationId === id && r.contract.success !== undefined);
      if (auth.length !== 1) problems.push(`${id}: ${auth.length} auth-class rows (R-OPS), expected 1`);
      if (answer.length !== 1) problems.push(`${id}: ${answer.length} response rows (R-OPR), expected 1`);
      const statuses = Object.keys(operation.responses ?? {});
      const success = statuses.filter((s) => /^2\d\d$/.test(s)).map(Number);
      const errors = statuses.filter((s) => /^[45]\d\d$/.test(s)).map(Number).sort((a, b) => a - b);
      for (const r of auth) if (r.contract!.auth !== authClassOf(operation)) problems.push(`${r.id}: auth ${r.contract!.auth}, the contract says ${authClassOf(operation)}`);
      for (const r of answer) {
        if (success.length !== 1 || r.contract!.success !== success[0]) problems.push(`${r.id}: success ${r.contract!.success}, the contract says ${success.join(', ')}`);
        const stated = [...(r.contract!.errors ?? [])].sort((a, b) => a - b);
        if (stated.join() !== errors.join()) problems.push(`${r.id}: errors ${stated.join(', ')}, the contract says ${errors.join(', ')}`);
        if (!r.rule.includes(` ${r.contract!.success} `) || !errors.every((s) => r.rule.includes(String(s)))) problems.push(`${r.id}: the rule text does not state its statuses`);
      }
    }
    expect(problems, 'update the R-OPS/R-OPR rows of conformance/rules.ts to what the contract now says').toEqual([]);
  });

  it('cites sources that resolve', () => {
    const bad = rules.flatMap((r) => r.source.map((s) => [s, unresolved(s)] as const).filter(([, why]) => why).map(([s, why]) => `${r.id} "${s}": ${why}`));
    expect(bad).toEqual([]);
  });

  it('RULES.md is what scripts/generate-rules.ts makes of rules.ts', () => {
    const current = existsSync(rulesMarkdownFile) ? readFileSync(rulesMarkdownFile, 'utf8') : '';
    expect(current === renderRules(), `conformance/RULES.md is stale: run \`${regenerateCommand}\``).toBe(true);
  });

  it('reports the counts', () => {
    const t = tally();
    expect(t.rules).toBe(rules.length);
    expect(t.checked + t.partly + t.unobservable + t.unchecked).toBe(t.rules);
    expect(rules.every((r) => ['checked', 'partly checked', 'not observable', 'not yet checked'].includes(statusOf(r)))).toBe(true);
    console.log(
      `rule inventory: ${t.rules} rules, ${t.checked + t.partly} checked (${t.checked} fully, ${t.partly} partly), ` +
        `${t.unobservable} not observable over HTTP, ${t.unchecked} not yet checked`,
    );
  });
});
