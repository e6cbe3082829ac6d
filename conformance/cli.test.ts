// The conformance CLI as a user runs it (the real binary against a real sandbox): skipped
// checks say why, reports are written in each format, failures set the exit status, and no
// report carries a secret.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import { createRedactor } from './report/redact.ts';

const bin = join(import.meta.dirname, '..', 'bin', 'pacspace-conformance.js');
let sb: TestSandbox;
let dir: string;

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
  });

  it('with only a base URL, runs what it can and skips the rest with the reason', async () => {
    const out = join(dir, 'report.json');
    const run = await cli(['--base-url', sb.sandboxUrl, '--reporter', 'json', '--out', out]);
    expect(run.code).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8'));
    const byId = Object.fromEntries(report.results.map((r: any) => [r.id, r]));
    expect(byId['AUTH-001'].status).toBe('passed');
    expect(byId['AUTH-003']).toMatchObject({ status: 'skipped', message: 'needs --api-key' });
    expect(byId['KEY-001']).toMatchObject({ status: 'skipped', message: expect.stringContaining('needs --dashboard-url, --email and --password') });
    expect(byId['KEY-001'].message).toContain('needs --allow-writes');
    expect(report.totals.failed).toBe(0);
    for (const r of report.results) expect(r.source.length).toBeGreaterThan(0);
  });

  it('fails with exit status 1 on a broken target, and the reports never contain the secret', async () => {
    const wrongSecret = 'sk_test_ThisSecretMustNeverBePrinted1234567890';
    const key = `${sb.demo!.apiKey.split('.')[0]}.${wrongSecret}`;
    for (const reporter of ['pretty', 'json', 'junit']) {
      const out = join(dir, `failing.${reporter}`);
      const run = await cli(['--base-url', sb.sandboxUrl, '--api-key', key, '--only', 'AUTH-003', '--reporter', reporter, '--out', out]);
      expect(run.code).toBe(1);
      const text = await readFile(out, 'utf8');
      expect(text).toContain('AUTH-003');
      expect(text).not.toContain('ThisSecretMustNeverBePrinted');
      expect(run.stdout + run.stderr).not.toContain('ThisSecretMustNeverBePrinted');
    }
    const junit = await readFile(join(dir, 'failing.junit'), 'utf8');
    expect(junit).toMatch(/<testsuites [^>]*tests="1" failures="1"/);
  });
});

describe('redaction', () => {
  it('masks key secrets, webhook secrets, session cookies and the given literals', () => {
    const redact = createRedactor(['hunter2-password']);
    const text = 'pk_test_abc.sk_test_SECRET123 whsec_ABCdef pacspace_access=tok123; x hunter2-password';
    expect(redact(text)).toBe('pk_test_abc.sk_test_[REDACTED] whsec_[REDACTED] pacspace_access=[REDACTED]; x [REDACTED]');
  });
});
