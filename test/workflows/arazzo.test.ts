// The Arazzo workflows of openapi/workflows/ run with `redocly respect` — the CLI a user runs,
// as a child process — against a fresh sandbox over its real listeners, every step judged by
// the workflow's own success criteria and by Respect's checks against the contract (status
// code documented, content type, response schema). Respect runs from the repository root (so
// redocly.yaml's `telemetry: off` applies) with a preloaded guard (loopback-only.mjs) that
// refuses and records any connection off loopback.
// A copy of a workflow expecting what the sandbox does not do proves the run can fail.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';
import { verifyWebhook } from '../../sdk/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WORKFLOWS = join(ROOT, 'openapi', 'workflows');
const CLI = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
const GUARD = join(import.meta.dirname, 'loopback-only.mjs');
const FILES = ['quick-start.arazzo.yaml', 'key-rotation.arazzo.yaml', 'webhooks.arazzo.yaml'];

type Check = { name: string; passed: boolean; message: string };
type Step = { stepId: string; status: string; checks: Check[]; response: { statusCode: number } };
type Workflow = { workflowId: string; status: string; executedSteps: Step[] };
type RespectJson = { status: string; files: Record<string, { executedWorkflows: Workflow[] }> };
type Run = { code: number; json: RespectJson; output: string; network: string };

let sandbox: TestSandbox;
let receiver: Server;
let receiverUrl: string;
let work: string;
/** Deliveries the receiver got, each checked with the SDK against the endpoint's signing secret. */
const deliveries: Array<{ eventType: string; verified: boolean }> = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pacspace-arazzo-'));
  sandbox = await startTestSandbox({ control: true });
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      // The secret the workflow was shown once is the one the sandbox signs with. Judged before
      // the 204, so a delivery the workflow sees succeed has been checked.
      const secrets = [...sandbox.services.store.state.webhooks.endpoints.values()].map((e) => e.secret);
      await verifyWebhook(Buffer.concat(chunks), req.headers, secrets).then(
        (event) => deliveries.push({ eventType: event.type, verified: true }),
        () => deliveries.push({ eventType: String(req.headers['x-pacspace-event-type']), verified: false }),
      );
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/pacspace`;
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((done) => receiver?.close(done));
  if (work) await rm(work, { recursive: true, force: true });
});

/** `redocly respect FILES…` against the sandbox, as a user runs it; its JSON report, output and any off-loopback connection. */
async function respect(files: string[], name: string): Promise<Run> {
  const jsonPath = join(work, `${name}.json`);
  const networkLog = join(work, `${name}.network`);
  await writeFile(networkLog, '');
  const args = [
    '--import', GUARD, CLI, 'respect', ...files,
    '--server', `dashboard=${sandbox.productionUrl}`,
    '--server', `control=${sandbox.productionUrl}`,
    '--server', `balance=${sandbox.sandboxUrl}`,
    '--input', `email=${sandbox.demo!.email}`,
    '--input', `password=${sandbox.demo!.password}`,
    '--input', `receiverUrl=${receiverUrl}`,
    '--json-output', jsonPath,
  ];
  // No REDOCLY_TELEMETRY here: run from the repository, as the README says, the `telemetry: off`
  // of redocly.yaml is what keeps Respect from reporting to Redocly (it does, from elsewhere).
  const env: NodeJS.ProcessEnv = { ...process.env, REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1', PACSPACE_NETWORK_LOG: networkLog };
  delete env.REDOCLY_TELEMETRY;
  const { code, output } = await new Promise<{ code: number; output: string }>((done) => {
    execFile(process.execPath, args, { cwd: ROOT, env, maxBuffer: 32 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
  return { code, output, json: JSON.parse(await readFile(jsonPath, 'utf8')) as RespectJson, network: await readFile(networkLog, 'utf8') };
}

function workflowsOf(run: Run): Workflow[] {
  return Object.values(run.json.files).flatMap((file) => file.executedWorkflows);
}

/** A retried step (waiting for provisioning or a delivery) is listed once per attempt: its last attempt counts. */
function finalSteps(workflow: Workflow): Step[] {
  return [...new Map(workflow.executedSteps.map((s) => [s.stepId, s])).values()];
}

function failedChecks(run: Run): string[] {
  return workflowsOf(run).flatMap((w) => finalSteps(w).flatMap((s) => s.checks.filter((c) => !c.passed).map((c) => `${w.workflowId}/${s.stepId}: ${c.name}: ${c.message}`)));
}

/** A copy of the key rotation expecting the revoked key to keep working (run beside the real ones). */
async function brokenRotation(): Promise<Run> {
  const text = await readFile(join(WORKFLOWS, 'key-rotation.arazzo.yaml'), 'utf8');
  const broken = text
    .replaceAll('url: ../openapi.yaml', `url: ${join(ROOT, 'openapi', 'openapi.yaml')}`)
    .replace(/(stepId: oldKeyFails[\s\S]*?condition: \$statusCode == )401/, '$1200');
  expect(broken).not.toBe(text);
  const file = join(work, 'key-rotation-broken.arazzo.yaml');
  await writeFile(file, broken);
  return respect([file], 'broken');
}

let run: Run;
let broken: Run;
beforeAll(async () => {
  [run, broken] = await Promise.all([respect(FILES.map((f) => join(WORKFLOWS, f)), 'all'), brokenRotation()]);
});

describe('the Arazzo workflows, run by redocly respect against a fresh sandbox', () => {

  it('pass every step and every check', () => {
    expect(failedChecks(run)).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.json.status).toBe('success');
    expect(workflowsOf(run).map((w) => [w.workflowId, w.status])).toEqual([
      ['quickStart', 'success'],
      ['rotateApiKey', 'success'],
      ['setUpWebhook', 'success'],
    ]);
  });

  it('run the quick start from the access request to the public verification, in order', () => {
    const quickStart = workflowsOf(run).find((w) => w.workflowId === 'quickStart')!;
    expect(finalSteps(quickStart).map((s) => s.stepId)).toEqual([
      'requestAccess', 'readAccessEmail', 'register', 'readVerificationEmail', 'verifyEmail', 'login',
      'createKey', 'checkEnvironment', 'emit', 'derive', 'compare', 'checkpoint', 'getReceipt', 'verifyProof',
    ]);
    expect(finalSteps(quickStart).every((s) => s.checks.some((c) => c.name === 'schema check'))).toBe(true);
  });

  it('show the rotated-out key refused and the new key working', () => {
    const rotation = workflowsOf(run).find((w) => w.workflowId === 'rotateApiKey')!;
    const status = Object.fromEntries(finalSteps(rotation).map((s) => [s.stepId, s.response.statusCode]));
    expect(status).toMatchObject({ oldKeyStillWorks: 200, cutOver: 200, revokeOldKey: 200, oldKeyFails: 401, newKeyWorks: 200 });
  });

  it('deliver the test event, signed with the secret the endpoint showed once', () => {
    expect(deliveries).toContainEqual({ eventType: 'delta.recorded', verified: true });
    expect(deliveries.filter((d) => !d.verified)).toEqual([]);
  });

  it('send nothing off loopback (redocly.yaml turns telemetry off; no update check, no other server)', () => {
    expect(run.network).toBe('');
  });
});

describe('the test can fail', () => {
  it('a copy of the key rotation expecting the revoked key to keep working fails at that step', () => {
    expect(broken.code).not.toBe(0);
    expect(broken.json.status).toBe('error');
    const failed = workflowsOf(broken).flatMap((w) => finalSteps(w).filter((s) => s.status === 'error').map((s) => s.stepId));
    expect(failed).toEqual(['oldKeyFails']);
    expect(failedChecks(broken)).toEqual([expect.stringContaining('rotateApiKey/oldKeyFails: success criteria check')]);
    expect(broken.network).toBe('');
  });

  it('the network guard refuses and records a connection off loopback', async () => {
    const networkLog = join(work, 'guard.network');
    await writeFile(networkLog, '');
    const outcome = await new Promise<string>((done) => {
      execFile(
        process.execPath,
        ['--import', GUARD, '-e', "fetch('http://192.0.2.1/').then(() => console.log('connected'), (e) => console.log(e.cause?.message ?? e.message))"],
        { env: { ...process.env, PACSPACE_NETWORK_LOG: networkLog } },
        (_error, stdout) => done(stdout.trim()),
      );
    });
    expect(outcome).toBe('loopback-only: refused a connection to 192.0.2.1:80');
    expect(await readFile(networkLog, 'utf8')).toBe('192.0.2.1:80\n');
  });
});
