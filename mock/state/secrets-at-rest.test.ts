// Secrets at rest with --data. A full scenario — register, verify the e-mail, reset the
// password, log in, create an API key and regenerate it, create a webhook endpoint, rotate its
// secret, deliveries — collects every secret it sees (passwords, the e-mailed tokens, session
// cookies, full API keys and their secret parts, webhook signing secrets). None of them is in
// any file of the data directory but the key file, in any form (as is, base64, base64url,
// hex; a token's bytes too). The journal is 0600, the key file 0600, the directory 0700. After
// a restart the same API key still works, deliveries are still signed with the secret shown
// before, and the outbox still shows its links; a missing or wrong key file fails the start
// with one line.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify } from '../../protocol/webhook-signature.ts';
import { DataKeyError } from '../security/data-key.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { waitFor } from '../testing/wait-for.ts';
import { openJournal } from './journal.ts';

let root: string;
let receiver: Server;
let hookUrl: string;
const deliveries: Array<{ headers: Record<string, string | string[] | undefined>; body: string }> = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'pacspace-secrets-'));
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  await new Promise((r) => receiver.close(r));
  await rm(root, { recursive: true, force: true });
});

async function nextDelivery(count: number) {
  return waitFor(() => deliveries[count], `delivery ${count + 1} at the receiver`);
}

/** Every way a secret could sit in a file: as is, base64, base64url, hex; a base64url token's bytes too. */
function forms(secret: string): string[] {
  const utf8 = Buffer.from(secret, 'utf8');
  const out = [secret, utf8.toString('base64'), utf8.toString('base64url'), utf8.toString('hex'), encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
  if (/^[A-Za-z0-9_-]{40,}$/.test(secret)) {
    const bytes = Buffer.from(secret, 'base64url');
    out.push(bytes.toString('hex'), bytes.toString('base64'));
  }
  return [...new Set(out.filter((f) => f.length >= 8))];
}

describe('secrets at rest', () => {
  const data = () => join(root, 'state', 'data');
  const secrets = new Map<string, string>(); // value → what it is
  const secret = (what: string, value: unknown) => {
    expect(typeof value === 'string' && value.length >= 8, `${what} is a secret-sized string`).toBe(true);
    secrets.set(value as string, what);
    return value as string;
  };
  const email = 'jane.at-rest@example.com';
  let password: string;
  let apiKey: string;
  let oldApiKey: string;
  let webhookSecret: string;
  let previousWebhookSecret: string;
  let endpointId: string;
  let resetToken: string;

  it('none is in the data directory, in any form', async () => {
    const sb = await startTestSandbox({ dataDir: data(), confirmationMs: 50 });
    try {
      secret('demo password', sb.demo!.password);
      secret('demo API key', sb.demo!.apiKey);
      secret('demo key secret', sb.demo!.apiKey.split('.')[1]);
      const mail = async (kind: string) => {
        const all = (await sb.dashboard.get(`/__sandbox/outbox?to=${encodeURIComponent(email)}`)).body.data as Array<{ kind: string; token: string; link: string }>;
        return secret(`${kind} token`, [...all].reverse().find((m) => m.kind === kind)?.token);
      };

      // Register through the e-mailed links, verify, reset the password, log in.
      const jane = sb.newDashboardClient();
      const firstPassword = secret('password', 'Correct-Horse-Battery-Staple-42');
      password = secret('new password', 'Another-Long-Passphrase-77');
      await jane.post('/dashboard/auth/request-access', {
        json: { name: 'Jane Doe', email, organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
      });
      expect((await jane.post('/dashboard/auth/register', { json: { accessToken: await mail('access'), email, password: firstPassword, name: 'Jane Doe' } })).status).toBe(201);
      expect((await jane.get(`/dashboard/auth/verify?token=${encodeURIComponent(await mail('verify'))}`)).status).toBe(200);
      expect((await jane.post('/dashboard/auth/login', { json: { email, password: firstPassword } })).status).toBe(200);
      for (const [name, value] of jane.jar) secret(`cookie ${name}`, value);
      expect((await jane.post('/dashboard/auth/request-password-reset', { json: { email } })).status).toBe(202);
      resetToken = await mail('reset');
      expect((await jane.post('/dashboard/auth/reset-password', { json: { token: resetToken, password } })).status).toBe(200);
      expect((await jane.post('/dashboard/auth/login', { json: { email, password } })).status).toBe(200);
      for (const [name, value] of jane.jar) secret(`new cookie ${name}`, value);

      // An API key, regenerated.
      const created = (await jane.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'at-rest' } })).body.data;
      oldApiKey = secret('full key', created.fullKey);
      secret('key secret', created.secretKey);
      const regenerated = (await jane.post(`/dashboard/api-keys/${created.id}/regenerate`, { headers: CSRF })).body.data;
      apiKey = secret('regenerated full key', regenerated.fullKey);
      secret('regenerated key secret', regenerated.secretKey);

      // A webhook endpoint, its secret rotated; a delivery signed with both.
      const hook = (await jane.post('/dashboard/webhooks', { headers: CSRF, json: { url: hookUrl, events: ['delta.recorded'] } })).body.data;
      endpointId = hook.id;
      previousWebhookSecret = secret('webhook secret', hook.secret);
      const rotated = await jane.post(`/dashboard/webhooks/${endpointId}/rotate-secret`, { headers: CSRF, json: { overlapSeconds: 600 } });
      webhookSecret = secret('rotated webhook secret', rotated.body.data.secret);
      const delivered = deliveries.length;
      const delta = await sb.sandboxApi.post('/api/v1/balance/delta', {
        headers: { 'X-Api-Key': apiKey },
        json: { customerId: 'customer_001', delta: '2.5', reason: 'usage', referenceId: 'at-rest-1' },
      });
      expect(delta.status).toBe(201);
      const delivery = await nextDelivery(delivered);
      expect(verify(delivery.body, delivery.headers, [webhookSecret])).toMatchObject({ ok: true });
      expect(verify(delivery.body, delivery.headers, [previousWebhookSecret])).toMatchObject({ ok: true });
      // The receiver has it before the sandbox records the attempt (signed headers and all) in the
      // journal the test reads below: wait for that record.
      const w = sb.services.store.state.webhooks;
      await waitFor(() => [...w.deliveries.values()].some((d) => d.endpointId === endpointId && d.status !== 'pending'), 'the attempt to be recorded');
    } finally {
      await sb.close();
    }

    expect((await stat(data())).mode & 0o777).toBe(0o700);
    expect((await stat(join(data(), 'journal.ndjson'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(data(), 'data.key'))).mode & 0o777).toBe(0o600);
    const files = (await readdir(data())).filter((f) => f !== 'data.key');
    expect(files).toContain('journal.ndjson');
    expect(secrets.size).toBeGreaterThanOrEqual(16);
    for (const file of files) {
      const bytes = await readFile(join(data(), file), 'latin1');
      for (const [value, what] of secrets) {
        for (const form of forms(value)) expect(bytes.includes(form), `${what} (as ${form}) in ${file}`).toBe(false);
      }
    }
    // What must be read back is there, sealed.
    expect(await readFile(join(data(), 'journal.ndjson'), 'utf8')).toMatch(/"secret":\{"\$sealed":"v1\./);
  });

  it('after a restart the same key works, deliveries are signed with the same secret, and the outbox still shows its links', async () => {
    const sb = await startTestSandbox({ dataDir: data() });
    try {
      const derive = (key: string) => sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': key } });
      expect((await derive(apiKey)).status).toBe(200);
      expect((await derive(oldApiKey)).status).toBe(401);
      const jane = sb.newDashboardClient();
      expect((await jane.post('/dashboard/auth/login', { json: { email, password } })).status).toBe(200);
      const mails = (await sb.dashboard.get(`/__sandbox/outbox?to=${encodeURIComponent(email)}`)).body.data as Array<{ kind: string; token: string; link: string; text: string }>;
      const reset = mails.find((m) => m.kind === 'reset')!;
      expect(reset.token).toBe(resetToken);
      expect(reset.link).toContain(resetToken);
      const delivered = deliveries.length;
      expect((await jane.post(`/dashboard/webhooks/${endpointId}/test`, { headers: CSRF, json: {} })).status).toBe(202);
      const delivery = await nextDelivery(delivered);
      expect(verify(delivery.body, delivery.headers, [webhookSecret])).toMatchObject({ ok: true });
    } finally {
      await sb.close();
    }
  });

  it('a missing, wrong or malformed key file fails the start with one line; --data-key-file names it', async () => {
    const keyFile = join(data(), 'data.key');
    const kept = join(root, 'kept.key');
    await rename(keyFile, kept);
    const fails = async (options: { dataKeyFile?: string }, pattern: RegExp) => {
      const error = await startTestSandbox({ dataDir: data(), ...options }).then(
        async (sb) => {
          await sb.close();
          return undefined;
        },
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(DataKeyError);
      expect(error!.message).not.toContain('\n');
      expect(error!.message).toMatch(pattern);
    };
    await fails({}, /journal\.ndjson holds sealed secrets but their data key .*data\.key is missing: restore it or pass --data-key-file$/);
    // (Nothing was made meanwhile: no new key beside the journal.)
    expect((await readdir(data())).includes('data.key')).toBe(false);

    const other = join(root, 'other.key');
    await writeFile(other, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    await fails({ dataKeyFile: other }, /were sealed with data key [0-9a-f]{8}, but .*other\.key holds data key [0-9a-f]{8}: start with the key file they were sealed with$/);
    const malformed = join(root, 'malformed.key');
    await writeFile(malformed, 'not a key\n', { mode: 0o600 });
    await fails({ dataKeyFile: malformed }, /malformed\.key is not a PacSpace data key/);

    const sb = await startTestSandbox({ dataDir: data(), dataKeyFile: kept });
    try {
      expect((await sb.sandboxApi.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': apiKey } })).status).toBe(200);
    } finally {
      await sb.close();
    }
  });

  it('a journal an earlier version wrote with secrets in plain text is sealed on start', async () => {
    const dir = join(root, 'legacy');
    await mkdir(dir, { recursive: true });
    const plainSecret = 'whsec_PlainTextSecretFromAnOlderVersion1';
    const events = [
      { type: 'user.registered', at: 1, userId: 'usr_1', tenantId: 'tnt_1', email: 'old@example.com', name: 'Old', passwordHash: 'scrypt$a$b', accessTokenHash: null, approved: true, contractId: 'ctr_1' },
      { type: 'webhook.endpoint.created', at: 2, endpointId: 'wh_1', tenantId: 'tnt_1', environment: 'test', url: 'https://example.com/h', description: null, events: ['delta.recorded'], secret: plainSecret },
    ];
    const line = (e: unknown) => {
      const json = JSON.stringify(e);
      return `${createHash('sha256').update(json).digest('hex').slice(0, 16)} ${json}\n`;
    };
    await writeFile(join(dir, 'journal.ndjson'), events.map(line).join(''), { mode: 0o644 });
    const warnings: string[] = [];
    const { replayed, journal } = await openJournal(dir, { warn: (m) => warnings.push(m) });
    await journal.close();
    expect(replayed.state.webhooks.endpoints.get('wh_1')!.secret).toBe(plainSecret);
    expect(warnings).toEqual([expect.stringMatching(/sealed the secrets of 1 records an earlier version stored in plain text/)]);
    const text = await readFile(join(dir, 'journal.ndjson'), 'utf8');
    expect(text).not.toContain('PlainTextSecret');
    expect((await stat(join(dir, 'journal.ndjson'))).mode & 0o777).toBe(0o600);
    const again = await openJournal(dir, { warn: (m) => warnings.push(m) });
    await again.journal.close();
    expect(again.replayed.state.webhooks.endpoints.get('wh_1')!.secret).toBe(plainSecret);
    expect(warnings).toHaveLength(1);
  });
});
