// The conformance CLI as a user runs it (the real binary against a real sandbox; outside
// conformance/, which imports no sandbox code): skipped
// checks say why, progress goes to stderr, reports are written in each format, failures set
// the exit status, and no report carries a secret. (Servers that differ from the sandbox, the
// preflight, the request budget and Ctrl-C: portability.test.ts.)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../../mock/testing/accounts.ts';
import { startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';
import { startMutantLayer } from '../conformance-mutants/layer.ts';
import { onRequest, queryOf, withHeaders } from '../conformance-mutants/mutant.ts';
import { createRedactor } from '../../conformance/report/redact.ts';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'pacspace-conformance.js');
let sb: TestSandbox;
let dir: string;

/** A broken server (through the self-test's mutant layer): a key in `?api_key=` authenticates. */
const keyInQueryAccepted = onRequest(
  'auth-key-in-query-accepted',
  [],
  'A key sent as ?api_key= authenticates.',
  (req) => queryOf(req).has('api_key'),
  (req) => withHeaders(req, { 'x-api-key': queryOf(req).get('api_key')! }),
);

async function cli(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string };
  }
}

beforeAll(async () => {
  sb = await startTestSandbox({ confirmationMs: 0 });
  dir = await mkdtemp(join(tmpdir(), 'pacspace-cli-'));
});
afterAll(async () => {
  await sb.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pacspace-conformance', () => {
  it('explains itself and refuses bad arguments with exit status 2', async () => {
    expect((await cli(['--help'])).stdout).toContain('--allow-writes');
    const missing = await cli([]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--base-url (or PACSPACE_BASE_URL) is required');
    expect((await cli(['--base-url', 'ftp://x'])).code).toBe(2);
    expect((await cli(['--base-url', sb.sandboxUrl, '--reporter', 'xml'])).code).toBe(2);
    for (const [flag, value, says] of [
      ['--timeout-scale', '0', '--timeout-scale must be a number above 0'],
      ['--timeout-scale', 'fast', '--timeout-scale must be a number above 0'],
      ['--max-requests', '2.5', '--max-requests must be a whole number, 0 or more'],
      ['--webhook-port', '70000', '--webhook-port must be a port number, 0 to 65535'],
      ['--webhook-url', 'ftp://tunnel', '--webhook-url must be an http(s) URL'],
    ]) {
      const bad = await cli(['--base-url', sb.sandboxUrl, flag!, value!]);
      expect(bad.code, `${flag} ${value}`).toBe(2);
      expect(bad.stderr).toContain(`pacspace-conformance: ${says}\n`);
    }
    const help = (await cli(['--help'])).stdout;
    for (const flag of ['--timeout-scale', '--max-requests', '--webhook-url', '--webhook-port', 'html', 'inconclusive', '3 when the preflight']) expect(help).toContain(flag);
  });

  it('answers --version with the package version', async () => {
    const { version } = JSON.parse(await readFile(join(import.meta.dirname, '..', '..', 'conformance', 'package.json'), 'utf8'));
    const run = await cli(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('refuses --only and --skip naming unknown check ids with exit status 2, naming them', async () => {
    const only = await cli(['--base-url', sb.sandboxUrl, '--only', 'AUTH-001,AUTH-999,NOPE-1']);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('unknown check id(s): AUTH-999, NOPE-1\n');
    const skip = await cli(['--base-url', sb.sandboxUrl, '--skip', 'auth-001']);
    expect(skip.code).toBe(2);
    expect(skip.stderr).toContain('unknown check id(s): auth-001');
  });

  it('with only a base URL, runs what it can and skips the rest with the reason', async () => {
    const out = join(dir, 'report.json');
    const run = await cli(['--base-url', sb.sandboxUrl, '--reporter', 'json', '--out', out]);
    expect(run.code).toBe(0);
    // One progress line per check on stderr, in run order; stdout has only the summary.
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^✓ AUTH-001 +A Balance API request without X-Api-Key .* \(\d+ ms\)$/);
    expect(lines).toContainEqual(expect.stringMatching(/^- AUTH-003 +.*\(skipped\)$/));
    expect(run.stdout).toMatch(/^\d+ passed, 0 failed, \d+ skipped, 0 inconclusive in [\d.]+ s\n\d+ requests sent \(1 preflight, \d+ by checks of a budget of \d+, 0 cleanup\)\n$/);
    const report = JSON.parse(await readFile(out, 'utf8'));
    expect(lines.map((l) => l.split(/ +/)[1])).toEqual(report.results.map((r: any) => r.id));
    const byId = Object.fromEntries(report.results.map((r: any) => [r.id, r]));
    expect(byId['AUTH-001'].status).toBe('passed');
    expect(byId['AUTH-003']).toMatchObject({ status: 'skipped', message: 'needs --api-key' });
    expect(byId['KEY-001']).toMatchObject({ status: 'skipped', message: expect.stringContaining('needs --dashboard-url, --email and --password') });
    expect(byId['KEY-001'].message).toContain('needs --allow-writes');
    expect(report.totals.failed).toBe(0);
    for (const r of report.results) expect(r.source.length).toBeGreaterThan(0);
  });

  it('fails with exit status 1 on a broken target, and the reports never contain the secret', async () => {
    // The broken target accepts a key in the query string: AUTH-004 fails, and its failing
    // request carries the key in its URL.
    const broken = await startMutantLayer({ production: sb.productionUrl, sandbox: sb.sandboxUrl });
    broken.use(keyInQueryAccepted);
    const key = sb.demo!.apiKey;
    const secret = key.split('.')[1]!;
    try {
      for (const reporter of ['pretty', 'json', 'junit', 'html']) {
        const out = join(dir, `failing.${reporter}`);
        const run = await cli(['--base-url', broken.sandboxUrl, '--api-key', key, '--only', 'AUTH-004', '--reporter', reporter, '--out', out]);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/^✗ AUTH-004 .*\(FAILED in \d+ ms\)\n$/);
        const text = await readFile(out, 'utf8');
        expect(text).toContain('AUTH-004');
        expect(text).not.toContain(secret);
        expect(run.stdout + run.stderr).not.toContain(secret);
      }
    } finally {
      await broken.close();
    }
    const junit = await readFile(join(dir, 'failing.junit'), 'utf8');
    expect(junit).toMatch(/<testsuites [^>]*tests="1" failures="1"/);
    // The failure carries its requests as curl, the key as a shell variable.
    expect(junit).toContain('?api_key=&apos;&quot;$PACSPACE_API_KEY&quot;');
    const json = JSON.parse(await readFile(join(dir, 'failing.json'), 'utf8'));
    expect(json.results[0].exchanges[0]).toMatchObject({ method: 'GET', status: 200, url: expect.stringContaining('?api_key=$PACSPACE_API_KEY') });
  });

  it('runs the isolation checks with a second account, and skips them with the reason without one', async () => {
    const second = { email: 'iso-second@example.com', password: 'iso second battery staple' };
    await signUp(sb, second.email, second.password);
    const demo = sb.demo!;
    const args = ['--base-url', sb.sandboxUrl, '--api-key', demo.apiKey, '--dashboard-url', sb.productionUrl, '--email', demo.email, '--password', demo.password, '--allow-writes', '--webhook-host', '127.0.0.1', '--only', 'ISO-001,ISO-002,ISO-003', '--reporter', 'json'];
    const run = await cli([...args, '--second-email', second.email, '--second-password', second.password]);
    expect(run.code, run.stdout).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.results.map((r: any) => [r.id, r.status])).toEqual([['ISO-001', 'passed'], ['ISO-002', 'passed'], ['ISO-003', 'passed']]);
    expect(run.stdout).not.toContain(second.password);
    const without = JSON.parse((await cli(args)).stdout);
    for (const r of without.results) expect(r).toMatchObject({ status: 'skipped', message: 'needs --second-email and --second-password (a second account: another tenant on the same deployment)' });
  });

  it('prints no progress with --quiet, and the pretty report goes to stdout', async () => {
    const run = await cli(['--base-url', sb.sandboxUrl, '--only', 'AUTH-001,AUTH-003', '--quiet']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain('✓ AUTH-001');
    expect(run.stdout).toContain('skipped: needs --api-key');
    expect(run.stdout).toContain('1 passed, 0 failed, 1 skipped, 0 inconclusive');
  });
});

describe('redaction', () => {
  it('masks key secrets, webhook secrets, session cookies and the given literals', () => {
    const redact = createRedactor(['hunter2-password']);
    const text = 'pk_test_abc.sk_test_SECRET123 whsec_ABCdef pacspace_access=tok123; x hunter2-password';
    expect(redact(text)).toBe('pk_test_abc.sk_test_[REDACTED] whsec_[REDACTED] pacspace_access=[REDACTED]; x [REDACTED]');
  });
});
