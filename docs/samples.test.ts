// The docs' code is tested, not just printed:
// - every generated sample of every operation: the curl, TypeScript SDK and fetch samples of the
//   Balance API run against a real sandbox and must get 2xx answers; every TypeScript SDK sample
//   (Dashboard API and webhook receivers too) compiles against the SDK; every curl sample is
//   valid shell and every JavaScript sample valid JavaScript;
// - every webhook event's curl sample delivers a signed event that the Webhooks guide's two
//   receivers accept (and reject when signed with another secret);
// - the guides' runnable code: the quick start's SDK program against the sandbox, the Proofs
//   guide's verify-proof.ts against real checkpoints, and every complete TypeScript block compiles.
// Samples come from the generator the build uses (the same x-codeSamples the site shows).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import { withCodeSamples, LABELS, SDK_PACKAGE, type CodeSample } from './build/code-samples.ts';
import { readBundle, ROOT, type Operation } from './build/contract.ts';

const run = promisify(execFile);
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const SDK_ENTRY = join(ROOT, 'sdk', 'index.ts');
const SDK_NODE_ENTRY = join(ROOT, 'sdk', 'node.ts');
const GUIDES = join(ROOT, 'docs', 'guides');

const { operations } = withCodeSamples(readBundle());
const sample = (op: Operation & { samples: CodeSample[] }, label: string) => op.samples.find((s) => s.label === label)!.source;
const balanceOperations = operations.filter((op) => op.auth === 'api-key' || op.auth === 'public-balance');
const webhookEvents = operations.filter((op) => op.kind === 'webhook');

/**
 * A folder for sample files: ESM (`"type": "module"`), the SDK imports pointed at this
 * repository's SDK: `@pacspace-io/sdk` at sdk/index.ts, `@pacspace-io/sdk/node` at sdk/node.ts.
 */
const work = mkdtempSync(join(tmpdir(), 'pacspace-docs-samples-'));
writeFileSync(join(work, 'package.json'), '{ "type": "module" }\n');
const asProgram = (source: string) =>
  source
    .split(`'${SDK_PACKAGE}/node'`)
    .join(`'${SDK_NODE_ENTRY}'`)
    .split(`'${SDK_PACKAGE}'`)
    .join(`'${SDK_ENTRY}'`);
function writeSample(name: string, source: string): string {
  const file = join(work, name);
  writeFileSync(file, asProgram(source));
  return file;
}

/** Fenced blocks of a guide: `{ lang, title, source }`. */
function guideBlocks(guide: string) {
  const markdown = readFileSync(join(GUIDES, guide), 'utf8');
  return [...markdown.matchAll(/^```(\w+)([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1]!,
    title: /title="([^"]+)"/.exec(m[2]!)?.[1],
    source: m[3]!,
  }));
}
const titled = (guide: string, title: string) => {
  const block = guideBlocks(guide).find((b) => b.title === title);
  if (!block) throw new Error(`${guide} has no block titled ${title}`);
  return block.source;
};

type Ran = { code: number | null; stdout: string; stderr: string };
async function runProgram(command: string, args: string[], env: Record<string, string>): Promise<Ran> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: work, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Runs a curl sample with bash, as printed; curl is wrapped to add only `-sS` and the status line. */
async function runCurl(source: string, env: Record<string, string>) {
  const headers = join(work, `headers-${Math.random().toString(36).slice(2)}.txt`);
  const wrapper = `curl() { command curl -sS -D '${headers}' -w '\\n__STATUS__%{http_code}' "$@"; }\n`;
  const ran = await runProgram('bash', ['-c', wrapper + source], env);
  const status = Number(/__STATUS__(\d{3})\s*$/.exec(ran.stdout)?.[1]);
  const head = (() => {
    try {
      return readFileSync(headers, 'utf8').toLowerCase();
    } catch {
      return '';
    }
  })();
  return { ...ran, status, body: ran.stdout.replace(/\n?__STATUS__\d{3}\s*$/, ''), violations: head.includes('sl-violations') };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts a receiver program on a free port and waits until it accepts connections. The port is
 * free when chosen; on a busy machine another process can take it before the program binds it,
 * and then (only then) another port is tried.
 */
async function startReceiver(command: string, args: string[], env: Record<string, string>): Promise<{ url: string; stop: () => void; output: () => string }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startReceiverOn(await freePort(), command, args, env);
    } catch (error) {
      if (attempt === 3 || !/EADDRINUSE/.test((error as Error).message)) throw error;
    }
  }
}

async function startReceiverOn(port: number, command: string, args: string[], env: Record<string, string>): Promise<{ url: string; stop: () => void; output: () => string }> {
  let output = '';
  const child: ChildProcess = spawn(command, args, { cwd: work, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}/webhooks/pacspace`;
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`receiver ${args.join(' ')} exited: ${output}`);
    const up = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' }).then(
      () => true,
      () => false,
    );
    if (up) return { url, stop: () => child.kill(), output: () => output };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error(`receiver ${args.join(' ')} did not start: ${output}`);
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A sandbox with a pk_test_ key, one receipt and one checkpoint of customer_001 to look up. */
async function ledgerSandbox() {
  const sandbox = await startTestSandbox();
  const apiKey = sandbox.demo!.apiKey;
  const api = (path: string, body?: unknown) =>
    fetch(`${sandbox.sandboxUrl}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'X-Api-Key': apiKey, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (r) => {
      if (!r.ok) throw new Error(`${path} → ${r.status} ${await r.text()}`);
      return ((await r.json()) as { data: Record<string, unknown> }).data;
    });
  const receipt = await api('/api/v1/balance/delta', { customerId: 'customer_001', delta: '5.00', reason: 'docs-setup', referenceId: 'docs-setup-1' });
  const checkpoint = await api('/api/v1/balance/checkpoint', { customerId: 'customer_001' });
  // The contract's example ids in the samples stand for these.
  const ids: Record<string, string> = {
    receiptId: receipt.receiptId as string,
    checkpointId: checkpoint.checkpointId as string,
    proofRoot: checkpoint.proofRoot as string,
  };
  const withIds = (op: Operation, source: string) =>
    op.pathParams.reduce((text, p) => (ids[p.name] ? text.split(String(p.value)).join(ids[p.name]!) : text), source);
  const env = { PACSPACE_API_BASE_URL: sandbox.sandboxUrl, PACSPACE_API_KEY: apiKey };
  return { sandbox, api, env, withIds };
}

describe('the Balance API samples of the reference, run against a sandbox', () => {
  for (const label of [LABELS.curl, LABELS.sdk, LABELS.fetch]) {
    describe(label, () => {
      let ledger: Awaited<ReturnType<typeof ledgerSandbox>>;
      beforeAll(async () => {
        ledger = await ledgerSandbox();
      });
      afterAll(() => ledger?.sandbox.close());

      // In contract order: record, derive, compare, checkpoint, then the lookups and verify.
      for (const op of balanceOperations) {
        it(`${op.operationId} answers 2xx`, async () => {
          const source = ledger.withIds(op, sample(op, label));
          if (label === LABELS.curl) {
            const result = await runCurl(source, ledger.env);
            expect(result.stderr).toBe('');
            expect(result.status, result.body).toBeGreaterThanOrEqual(200);
            expect(result.status, result.body).toBeLessThan(300);
            expect(result.violations).toBe(false);
            expect(JSON.parse(result.body).data).toBeTruthy();
          } else {
            const file = writeSample(`${op.operationId}.${label === LABELS.sdk ? 'ts' : 'mjs'}`, source);
            const result = label === LABELS.sdk ? await runProgram(process.execPath, [TSX, file], ledger.env) : await runProgram(process.execPath, [file], ledger.env);
            expect(result.code, `${op.operationId} (${label}): ${result.stderr}`).toBe(0);
            expect(result.stdout.trim().length).toBeGreaterThan(0);
          }
        });
      }
    });
  }
});

describe('every sample of the reference is well-formed', () => {
  it('every TypeScript SDK sample compiles against the SDK', () => {
    const files = operations.map((op) => writeSample(`compile-${op.operationId}.ts`, sample(op, LABELS.sdk)));
    expect(typeCheck(files)).toEqual([]);
  }, 60_000);

  it('every curl sample is valid shell and every JavaScript sample valid JavaScript', async () => {
    for (const op of operations) {
      const file = writeSample(`syntax-${op.operationId}.sh`, sample(op, LABELS.curl));
      const { code, stderr } = await runProgram('bash', ['-n', file], {});
      expect(stderr, op.operationId).toBe('');
      expect(code).toBe(0);
      const js = op.samples.find((s) => s.lang === 'JavaScript')!;
      const output = ts.transpileModule(js.source, { reportDiagnostics: true, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, allowJs: true } });
      expect(output.diagnostics?.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')), `${op.operationId} ${js.label}`).toEqual([]);
    }
  });
});

describe('webhook deliveries signed by the reference curl samples', () => {
  const secret = 'whsec_docsTestSecret0123456789abcdef';
  const receivers: Array<{ name: string; url: string; stop: () => void; output: () => string }> = [];

  beforeAll(async () => {
    const env = { PACSPACE_WEBHOOK_SECRET: secret };
    const start = async (name: string, file: string, viaTsx: boolean) =>
      receivers.push({ name, ...(await startReceiver(process.execPath, viaTsx ? [TSX, file] : [file], env)) });
    await Promise.all([
      start('webhooks guide, SDK (webhook-receiver.ts)', writeSample('webhook-receiver.ts', titled('webhooks.md', 'webhook-receiver.ts')), true),
      start('webhooks guide, node:crypto (verify-signature.mjs)', writeSample('verify-signature.mjs', titled('webhooks.md', 'verify-signature.mjs')), false),
      start('reference, SDK sample of delta.recorded', writeSample('ref-receiver.ts', sample(webhookEvents[0]!, LABELS.sdk)), true),
      start('reference, node:crypto sample of delta.recorded', writeSample('ref-receiver.mjs', sample(webhookEvents[0]!, LABELS.crypto)), false),
    ]);
  }, 60_000);
  afterAll(() => receivers.forEach((r) => r.stop()));

  it('every event is accepted by every receiver', async () => {
    const failures: string[] = [];
    for (const receiver of receivers) {
      const events = receiver.name.startsWith('reference') ? webhookEvents.slice(0, 1) : webhookEvents;
      for (const op of events) {
        const result = await runCurl(sample(op, LABELS.curl), { PACSPACE_WEBHOOK_URL: receiver.url, PACSPACE_WEBHOOK_SECRET: secret });
        if (result.status !== 204) failures.push(`${op.path} → ${receiver.name}: ${result.status} ${result.body} ${result.stderr}`);
      }
    }
    expect(failures).toEqual([]);
    const guideReceiver = receivers.find((r) => r.name.includes('webhook-receiver.ts'))!;
    for (const op of webhookEvents.filter((e) => e.path !== 'delta.confirmed' && e.path !== 'checkpoint.created')) expect(guideReceiver.output()).toContain(op.path);
  });

  it('a delivery signed with another secret is rejected', async () => {
    for (const receiver of receivers) {
      const result = await runCurl(sample(webhookEvents[0]!, LABELS.curl), { PACSPACE_WEBHOOK_URL: receiver.url, PACSPACE_WEBHOOK_SECRET: 'whsec_someoneElse' });
      expect(result.status, receiver.name).toBe(400);
    }
  });
});

describe('the guides’ code', () => {
  let ledger: Awaited<ReturnType<typeof ledgerSandbox>>;
  beforeAll(async () => {
    ledger = await ledgerSandbox();
  });
  afterAll(() => ledger?.sandbox.close());

  it('every complete TypeScript block of every guide compiles against the SDK', () => {
    const files: string[] = [];
    writeSample('verify-proof.ts', titled('proofs.md', 'verify-proof.ts'));
    for (const guide of ['quick-start.md', 'authentication.md', 'agent-authentication.md', 'webhooks.md', 'errors.md', 'proofs.md']) {
      guideBlocks(guide)
        .filter((b) => b.lang === 'ts' && b.source.startsWith('import '))
        .forEach((b, i) => files.push(writeSample(b.title ?? `guide-${guide.replace('.md', '')}-${i}.ts`, b.source)));
    }
    expect(files.length).toBeGreaterThanOrEqual(8);
    expect(typeCheck(files)).toEqual([]);
  }, 60_000);

  it('the quick start curl steps against the Balance API run as printed', async () => {
    const steps = guideBlocks('quick-start.md').filter((b) => b.lang === 'sh' && b.source.includes('$PACSPACE_API_BASE_URL') && !b.source.includes('<'));
    expect(steps.length).toBe(4); // emit, derive, compare, checkpoint
    for (const step of steps) {
      const result = await runCurl(step.source, ledger.env);
      expect(result.status, `${step.source}\n→ ${result.body}`).toBeGreaterThanOrEqual(200);
      expect(result.status, result.body).toBeLessThan(300);
      expect(result.violations).toBe(false);
    }
  });

  it('the quick start SDK program runs as printed', async () => {
    const file = writeSample('quick-start-run.ts', titled('quick-start.md', 'quick-start.ts'));
    // The sandbox already holds the quick start's reference for customer_001: use a fresh customer.
    writeFileSync(file, readFileSync(file, 'utf8').split('customer_001').join('customer_qs'));
    const result = await runProgram(process.execPath, [TSX, file], ledger.env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^rcpt_/);
    expect(lines.slice(1)).toEqual(['100.00', 'true', expect.stringMatching(/^[0-9a-f]{64}$/), 'true']);
  });

  it('verify-proof.ts recomputes real proof roots and checks inclusion proofs', async () => {
    const file = writeSample('verify-proof.ts', titled('proofs.md', 'verify-proof.ts'));
    const proof = (await import(pathToFileURL(file).href)) as VerifyProofModule;
    for (const size of [1, 2, 3, 5, 8]) {
      const customerId = `proof_${size}`;
      for (let i = 0; i < size; i++) {
        await ledger.api('/api/v1/balance/delta', { customerId, delta: `${i + 1}.25`, reason: `usage ${i}`, metadata: { line: String(i), note: `Grüße ✓ "${i}" 😀` } });
      }
      const checkpoint = await ledger.api('/api/v1/balance/checkpoint', { customerId });
      const page = await ledger.api(`/api/v1/checkpoints/${checkpoint.checkpointId}/receipts?limit=1000`);
      const receipts = page.items as Array<Record<string, unknown>>;
      expect(receipts).toHaveLength(size);
      expect(proof.proofRootOf(receipts as never)).toBe(checkpoint.proofRoot);
      // The order of the receipts given does not matter; their content does.
      expect(proof.proofRootOf([...receipts].reverse() as never)).toBe(checkpoint.proofRoot);
      if (size > 1) expect(proof.proofRootOf([{ ...receipts[0], delta: '999.00' }, ...receipts.slice(1)] as never)).not.toBe(checkpoint.proofRoot);
      for (const listed of receipts) {
        const receipt = await ledger.api(`/api/v1/receipts/${listed.receiptId}`);
        const leaf = proof.leafHash(receipt as never);
        expect(leaf.toString('hex')).toBe(receipt.leafHash);
        const inclusion = receipt.inclusionProof as { leafIndex: number; treeSize: number; auditPath: string[]; proofRoot: string };
        expect(proof.verifyInclusion(leaf, inclusion)).toBe(true);
        expect(proof.verifyInclusion(proof.leafHash({ ...receipt, reason: 'changed' } as never), inclusion)).toBe(false);
        if (inclusion.auditPath.length) {
          const flipped = inclusion.auditPath.map((h, i) => (i === 0 ? `${h[0] === '0' ? '1' : '0'}${h.slice(1)}` : h));
          expect(proof.verifyInclusion(leaf, { ...inclusion, auditPath: flipped })).toBe(false);
          expect(proof.verifyInclusion(leaf, { ...inclusion, leafIndex: (inclusion.leafIndex + 1) % inclusion.treeSize })).toBe(false);
        }
      }
    }
  }, 60_000);
});

/** What verify-proof.ts of the Proofs guide exports. */
type VerifyProofModule = {
  proofRootOf(receipts: never[]): string;
  leafHash(receipt: never): Buffer;
  verifyInclusion(leaf: Buffer, proof: { leafIndex: number; treeSize: number; auditPath: string[]; proofRoot: string }): boolean;
};

/** Type-checks files with the project's compiler settings; returns the errors as text. */
function typeCheck(files: string[]): string[] {
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const program = ts.createProgram(files, { ...options, typeRoots: [join(ROOT, 'node_modules', '@types')] });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => !d.file || files.includes(d.file.fileName))
    .map((d) => {
      const where = d.file ? `${d.file.fileName.replace(work, '')}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}
