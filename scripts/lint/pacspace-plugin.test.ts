// Proves the lint conventions bite: a copy of the contract gets one violation per row,
// Redocly lints the copy once, and each row's rule must report at the file it broke.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

// `at` is the file the problem is reported in, or a text its message must contain.
type Mutation = { rule: string; file: string; from: string | RegExp; to: string; at?: string };

const mutations: Mutation[] = [
  {
    rule: 'pacspace/reveal-once',
    file: 'components/schemas/ApiKeyPage.yaml',
    from: '      $ref: ./ApiKey.yaml',
    to: '      $ref: ./ApiKeyCreated.yaml',
    at: 'the 200 response of listApiKeys',
  },
  {
    rule: 'pacspace/reveal-once',
    file: 'components/schemas/ApiKeyCreated.yaml',
    from: '        $ref: ./FullKey.yaml',
    to: '        type: string',
  },
  {
    rule: 'rule/authenticated-operations-document-401-and-429',
    file: 'paths/api_v1_balance_derive_{customerId}.yaml',
    from: "    '401':\n      $ref: ../components/responses/Unauthorized.yaml\n",
    to: '',
  },
  {
    rule: 'rule/operations-document-503',
    file: 'paths/api_v1_verify_{proofRoot}.yaml',
    from: "    '503':\n      $ref: ../components/responses/StorageUnavailable.yaml\n",
    to: '',
  },
  {
    rule: 'pacspace/auth-conventions',
    file: 'paths/api_v1_balance_compare.yaml',
    from: '        - balance:read',
    to: '        - balance:everything',
  },
  {
    rule: 'pacspace/auth-conventions',
    file: 'paths/dashboard_api-keys.yaml',
    from: '    - DashboardSession: []\n      CsrfHeader: []\n',
    to: '    - DashboardSession: []\n',
  },
  {
    rule: 'rule/named-examples',
    file: 'paths/api_v1_balance_checkpoint.yaml',
    from: /        examples:\n          quickstart:\n            summary: The quick start's checkpoint\n            value:\n/,
    to: '        example:\n',
  },
  {
    rule: 'pacspace/problem-json-errors',
    file: 'components/responses/NotFound.yaml',
    from: 'application/problem+json',
    to: 'text/plain',
  },
  {
    rule: 'rule/paths-kebab-case',
    file: 'openapi.yaml',
    from: '  /dashboard/api-keys:\n',
    to: '  /dashboard/apiKeys:\n',
  },
  {
    rule: 'rule/no-bearer-auth',
    file: 'openapi.yaml',
    from: 'components:\n  securitySchemes:\n',
    to: 'components:\n  securitySchemes:\n    LegacyJwt:\n      type: http\n      scheme: bearer\n      description: superseded\n',
  },
];

let output = '';
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pacspace-lint-'));
  await cp(join(repo, 'openapi'), join(dir, 'openapi'), { recursive: true });
  for (const m of mutations) {
    const path = join(dir, 'openapi', m.file);
    const text = await readFile(path, 'utf8');
    const changed = text.replace(m.from, m.to);
    if (changed === text) throw new Error(`mutation for ${m.rule} did not apply to ${m.file}`);
    await writeFile(path, changed);
  }
  const config = (await readFile(join(repo, 'redocly.yaml'), 'utf8')).replace(
    './scripts/lint/pacspace-plugin.js',
    join(repo, 'scripts/lint/pacspace-plugin.js'),
  );
  await writeFile(join(dir, 'redocly.yaml'), config);
  const result = await promisify(execFile)(
    join(repo, 'node_modules/.bin/redocly'),
    ['lint', 'pacspace', '--format=json'],
    { cwd: dir, env: { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' }, maxBuffer: 32 << 20 },
  ).catch((e: { stdout: string }) => e);
  output = result.stdout;
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('lint conventions catch violations', () => {
  it('the unmutated contract is clean (npm run lint) and the mutated one is not', () => {
    expect(JSON.parse(output).totals.errors).toBeGreaterThanOrEqual(mutations.length);
  });

  it.each(mutations.map((m) => [m.rule, m.file, m] as const))('%s reports %s', (_rule, _file, m) => {
    const problems = JSON.parse(output).problems as Array<{
      ruleId: string;
      message: string;
      location: Array<{ source: { ref: string } }>;
    }>;
    const hit = problems.some(
      (p) =>
        p.ruleId === m.rule &&
        (m.at ? p.message.includes(m.at) : p.location.some((l) => l.source.ref.endsWith(m.file))),
    );
    expect(hit).toBe(true);
  });
});
