// The workflow guides of the docs site (docs/build/workflows.ts) as a reader follows them: the
// set-up block, then each step's curl sample in order, in bash, against a fresh sandbox — with
// only the base URLs (free ports here) and the webhook receiver's URL changed, and every
// value a step keeps taken from its answer exactly where the guide says (`$RECEIPT_ID` =
// `$response.body#/data/receiptId`). Each answer is judged by the step's success criteria
// that compare a value with a literal or with a kept value; a step the guide says is tried
// again is retried.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { resolvePointer } from '../../contract/document.ts';
import { workflowGuide, workflowMarkdown, WORKFLOWS_DIR } from '../../docs/build/workflows.ts';
import { startTestSandbox, type TestSandbox } from '../../mock/testing/test-sandbox.ts';

type GuideStep = { title: string; script: string; keeps: Array<[string, string]>; criteria: string[]; retries: number; retryAfterMs: number };

/** The set-up block and the steps of a generated guide, as a reader sees them. */
function parseGuide(markdown: string): { setup: string; steps: GuideStep[] } {
  const blocks = (text: string) => [...text.matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1]!);
  const [head, ...sections] = markdown.split(/^### /m);
  const setup = blocks(head!).find((b) => b.includes('export '));
  if (!setup) throw new Error('no set-up block');
  const steps = sections.map((section) => {
    const [script] = blocks(section);
    if (!script) throw new Error(`no sample in step ${section.split('\n')[0]}`);
    return {
      title: section.split('\n')[0]!,
      script,
      keeps: [...section.matchAll(/^- `\$([A-Z_]+)` = `(\$response\.body#[^`]*)`$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
      criteria: [...section.slice(section.indexOf('**Succeeds when:**')).matchAll(/^- `([^`]+)`$/gm)].map((m) => m[1]!),
      retries: Number(/tried again after [\d.]+ s, up to (\d+) times/.exec(section)?.[1] ?? 0),
      retryAfterMs: 1000 * Number(/tried again after ([\d.]+) s, up to \d+ times/.exec(section)?.[1] ?? 0),
    };
  });
  return { setup, steps };
}

/** Runs a guide's shell text with these variables; its stdout and the variables it leaves set. */
function bash(script: string, vars: Record<string, string>, cwd: string): Promise<{ stdout: string; vars: Record<string, string> }> {
  const marker = '__PACSPACE_GUIDE_ENV__';
  return new Promise((done, fail) => {
    execFile('bash', ['-c', `${script}\nprintf '\\n${marker}\\n'; env -0`], { cwd, env: { PATH: process.env.PATH!, ...vars } }, (error, stdout) => {
      if (error) return fail(error);
      const at = stdout.lastIndexOf(`\n${marker}\n`);
      const env = Object.fromEntries(
        stdout
          .slice(at + marker.length + 2)
          .split('\0')
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      done({ stdout: stdout.slice(0, at), vars: env });
    });
  });
}

/** The status an answer's body states (the envelope's `statusCode`, a problem's `status`, or `success`). */
function statusOf(body: { statusCode?: number; status?: unknown; success?: boolean }): number | undefined {
  if (typeof body.statusCode === 'number') return body.statusCode;
  if (typeof body.status === 'number') return body.status;
  return body.success === true ? 200 : undefined;
}

/** The criteria a reader can check by eye: `$statusCode == N`, `$response.body#/… == literal or kept value`. */
function unmet(criteria: string[], body: unknown, vars: Record<string, string>): string[] {
  const variableOf = (expression: string) => /^\$steps\.[^.]+\.outputs\.(.+)$/.exec(expression)?.[1]?.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  return criteria.filter((criterion) => {
    const status = /^\$statusCode == (\d+)$/.exec(criterion);
    if (status) return statusOf(body as object) !== Number(status[1]);
    const compared = /^\$response\.body#(\/\S*) == (.+)$/.exec(criterion);
    if (!compared) return false;
    let actual: unknown;
    try {
      actual = resolvePointer(body, `#${compared[1]!}`);
    } catch {
      return true;
    }
    const right = compared[2]!;
    const kept = variableOf(right);
    const expected = kept !== undefined && kept in vars ? vars[kept] : right.startsWith('$') ? undefined : JSON.parse(right);
    return expected === undefined ? false : actual !== expected;
  });
}

let sandbox: TestSandbox;
let receiver: Server;
let receiverUrl: string;
const received: string[] = [];

beforeAll(async () => {
  sandbox = await startTestSandbox({ control: true });
  receiver = createServer((req, res) => {
    req.resume().on('end', () => {
      received.push(String(req.headers['x-pacspace-event-type']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/pacspace`;
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((done) => receiver?.close(done));
});

/** Follows a guide from its set-up to its last step; the steps' titles and the answers' statuses. */
async function follow(file: string, edit = (markdown: string) => markdown): Promise<Array<[string, number | undefined]>> {
  const { setup, steps } = parseGuide(edit(workflowGuide(file)));
  const cwd = await mkdtemp(join(tmpdir(), 'pacspace-guide-'));
  try {
    let vars = (await bash(setup, {}, cwd)).vars;
    // Only where this test's sandbox and receiver listen differs from `npm start`.
    Object.assign(vars, { DASHBOARD_URL: sandbox.productionUrl, PACSPACE_API_BASE_URL: sandbox.sandboxUrl, RECEIVER_URL: receiverUrl });
    const seen: Array<[string, number | undefined]> = [];
    for (const step of steps) {
      for (let attempt = 0; ; attempt++) {
        const run = await bash(step.script, vars, cwd);
        const body = JSON.parse(run.stdout) as unknown;
        const failed = unmet(step.criteria, body, vars);
        if (failed.length && attempt < step.retries) {
          // As long as the guide says to wait (it was 200 ms whatever the guide said: less than half
          // the time a guide gives a delivery, too little on a loaded CI machine).
          await new Promise((done) => setTimeout(done, step.retryAfterMs));
          continue;
        }
        expect(failed, `${file}: step ${step.title}: ${run.stdout}`).toEqual([]);
        vars = run.vars;
        for (const [name, expression] of step.keeps) vars[name] = String(resolvePointer(body, expression.slice('$response.body'.length)));
        seen.push([step.title, statusOf(body as object)]);
        break;
      }
    }
    return seen;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}

describe('the workflow guides, followed step by step with curl', () => {
  it('quick start: from the access request to the public verification', async () => {
    const seen = await follow('quick-start.arazzo.yaml');
    expect(seen.map(([title]) => title)).toEqual([
      '1. Request access', '2. Read access email', '3. Register', '4. Read verification email', '5. Verify email', '6. Login',
      '7. Create key', '8. Check environment', '9. Emit', '10. Derive', '11. Compare', '12. Checkpoint', '13. Get receipt', '14. Verify proof',
    ]);
    expect(seen.map(([, status]) => status)).toEqual([202, 200, 201, 200, 200, 200, 201, 200, 201, 200, 200, 201, 200, 200]);
  });

  it('key rotation: the old key is refused after the revocation, the new one works', async () => {
    const seen = await follow('key-rotation.arazzo.yaml');
    expect(seen.slice(-3)).toEqual([['7. Revoke old key', 200], ['8. Old key fails', 401], ['9. New key works', 200]]);
  });

  it('webhooks: the test event reaches the receiver', async () => {
    const seen = await follow('webhooks.arazzo.yaml');
    expect(seen.map(([, status]) => status)).toEqual([200, 201, 200, 202, 200, 200]);
    expect(received).toContain('delta.recorded');
  });

  it('a guide whose sample breaks fails the run, at that step', async () => {
    const broken = (markdown: string) => markdown.replace('"$DASHBOARD_URL/dashboard/api-keys/$NEW_KEY_ID"', '"$DASHBOARD_URL/dashboard/api-keys/key_doesNotExist0"');
    expect(broken(workflowGuide('key-rotation.arazzo.yaml'))).not.toBe(workflowGuide('key-rotation.arazzo.yaml'));
    await expect(follow('key-rotation.arazzo.yaml', broken)).rejects.toThrow(/step 6\. Confirm new key in use/);
  });
});

describe('a workflow the guide cannot render fails the docs build', () => {
  /** The key rotation document, changed by `edit`. */
  const rotation = (edit: (document: any) => void) => {
    const document = parse(readFileSync(join(WORKFLOWS_DIR, 'key-rotation.arazzo.yaml'), 'utf8'));
    edit(document);
    return () => workflowMarkdown(document, 'key-rotation.arazzo.yaml');
  };

  it('a step calling an operation the contract does not have', () => {
    expect(rotation((d) => (d.workflows[0].steps[1].operationId = '$sourceDescriptions.dashboard.mintApiKey'))).toThrow(
      'docs: key-rotation.arazzo.yaml: step currentKey calls $sourceDescriptions.dashboard.mintApiKey, which is not in the contract',
    );
  });

  it('a source that is not one of the contract\'s documents', () => {
    expect(rotation((d) => (d.sourceDescriptions[0].url = 'https://example.com/other.yaml'))).toThrow(
      "docs: workflow source dashboard (https://example.com/other.yaml) is not one of the contract's documents",
    );
  });

  it('a source whose base URL the samples do not know', () => {
    expect(rotation((d) => (d.sourceDescriptions[1].name = 'ledger'))).toThrow(
      'docs: workflow source ledger is none of dashboard, control, balance, whose base URLs the samples know',
    );
  });

  it('a runtime expression without a shell form', () => {
    expect(rotation((d) => (d.workflows[0].steps[3].parameters[0].value = '$response.header.x-request-id'))).toThrow(
      'docs: no shell form for the runtime expression $response.header.x-request-id',
    );
  });

  it('a security scheme without a curl form', () => {
    expect(rotation((d) => (d.workflows[0].steps[3]['x-security'][0].schemeName = 'DashboardRefresh'))).toThrow('docs: no curl form for x-security DashboardRefresh');
  });
});
