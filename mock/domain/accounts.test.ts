// Accounts and sessions over real HTTP against a started sandbox: the quick start's steps 1–2
// with the real curl binary and its cookie jar, then every rule of request-access, register,
// verify, resend, password reset, login (no enumeration, throttling), refresh (rotation,
// reuse), logout and me, with the exact status, code and body, and that a refused request
// changed nothing. The test client fails on any response that violates the contract.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { createCurl } from '../testing/curl.ts';
import { startTestSandbox, CSRF, type TestSandbox } from '../testing/test-sandbox.ts';
import type { HttpClient, TestResponse } from '../testing/http-client.ts';
import type { EmailTokenKind } from '../state/events.ts';
import { approveAccess } from './accounts.ts';

const FULL_KEY = /^pk_test_[A-Za-z0-9]+\.sk_test_[A-Za-z0-9]+$/;
const REQUEST_ID = /^req_[A-Za-z0-9]{8,64}$/;
const PASSWORD = 'correct-horse-battery';

let sandbox: TestSandbox;
let work: string;
let counter = 0;

beforeAll(async () => {
  // The control surface is not needed: the tests read the outbox and move the clock in-process.
  sandbox = await startTestSandbox();
  work = await mkdtemp(join(tmpdir(), 'pacspace-accounts-'));
});

afterAll(async () => {
  await sandbox?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// ---------------------------------------------------------------- helpers

const uniqueEmail = (label: string) => `${label}-${++counter}@example.com`;

function mailsTo(s: TestSandbox, email: string, kind: EmailTokenKind) {
  return s.services.store.state.outbox.filter((m) => m.to.toLowerCase() === email.toLowerCase() && m.kind === kind);
}

/** The token of the latest mail of a kind, read from its link as a person would. */
function linkToken(s: TestSandbox, email: string, kind: EmailTokenKind): string {
  const mail = mailsTo(s, email, kind).at(-1);
  if (!mail) throw new Error(`no ${kind} mail to ${email}`);
  const token = new URL(mail.link).searchParams.get('token');
  expect(token).toBe(mail.token);
  return token!;
}

function problem(res: TestResponse, status: number, code: string, path: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({
    type: `https://docs.pacspace.io/errors/${code}`,
    status,
    code,
    instance: path,
  });
  expect(res.body.requestId).toMatch(REQUEST_ID);
  expect(res.headers.get('x-request-id')).toBe(res.body.requestId);
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(res.setCookies).toEqual([]);
}

const withoutRequestId = (text: string) => text.replace(/req_[A-Za-z0-9]+/g, 'req_ID');

function accessRequest(email: string) {
  return {
    name: 'Jane Doe',
    email,
    organization: 'Acme Inc',
    buyerMode: 'DIRECT_INFERENCE_VENDOR',
    useCase: 'Record usage before invoices go out.',
  };
}

type Account = { email: string; password: string; client: HttpClient; userId: string };

/** Request access → register with the approval link → verify → log in; a fresh cookie jar. */
async function newAccount(s: TestSandbox, label: string, opts: { verify?: boolean } = {}): Promise<Account> {
  const email = uniqueEmail(label);
  const client = s.newDashboardClient();
  expect((await client.post('/dashboard/auth/request-access', { json: accessRequest(email) })).status).toBe(202);
  const reg = await client.post('/dashboard/auth/register', {
    json: { accessToken: linkToken(s, email, 'access'), email, password: PASSWORD, name: 'Jane Doe' },
  });
  expect(reg.status).toBe(201);
  if (opts.verify !== false) {
    expect((await client.get(`/dashboard/auth/verify?token=${linkToken(s, email, 'verify')}`)).status).toBe(200);
  }
  expect((await client.post('/dashboard/auth/login', { json: { email, password: PASSWORD } })).status).toBe(200);
  return { email, password: PASSWORD, client, userId: reg.body.data.id };
}

const login = (client: HttpClient, email: string, password: string) =>
  client.post('/dashboard/auth/login', { json: { email, password }, noCookies: true });

/** The cookie values a client's jar holds now. */
const cookiesOf = (client: HttpClient) => ({ access: client.jar.get('pacspace_access')!, refresh: client.jar.get('pacspace_refresh')! });

const asCookie = (c: { access?: string; refresh?: string }) =>
  [c.access && `pacspace_access=${c.access}`, c.refresh && `pacspace_refresh=${c.refresh}`].filter(Boolean).join('; ');

const events = () => sandbox.services.store.eventCount;

// ---------------------------------------------------------------- the quick start

describe('quick start steps 1–2, verbatim with curl', () => {
  const jarName = 'pacspace-dashboard-cookies.txt';
  let fullKey: string;

  const curl = createCurl(() => work);

  it('Step 1: requests access; the sandbox approves it and mails the approval link', async () => {
    const BASE = sandbox.productionUrl;
    const res = await curl([
      '-X', 'POST', `${BASE}/dashboard/auth/request-access`,
      '-H', 'Content-Type: application/json',
      '-d', `{
"name": "Jane Doe",
"email": "you@example.com",
"organization": "Acme Inc",
"buyerMode": "DIRECT_INFERENCE_VENDOR",
"useCase": "Record usage before invoices go out."
}`,
    ]);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      statusCode: 202,
      data: { status: 'received', message: 'Thanks! We review every request and will email you when your access is approved.' },
    });
    const [mail] = mailsTo(sandbox, 'you@example.com', 'access');
    expect(mail).toBeDefined();
    expect(mail!.link).toMatch(new RegExp(`^${BASE}/register\\?token=[A-Za-z0-9_-]{43}$`));
    expect(mail!.text).toContain(mail!.link);
  });

  it('"use the approved access link to create your account and verify your email address"', async () => {
    const accessToken = linkToken(sandbox, 'you@example.com', 'access');
    const reg = await sandbox.dashboard.post('/dashboard/auth/register', {
      json: { accessToken, email: 'you@example.com', password: 'your-secure-password', name: 'Jane Doe' },
    });
    expect(reg.status).toBe(201);
    expect(reg.body).toEqual({
      statusCode: 201,
      data: {
        id: expect.stringMatching(/^usr_[A-Za-z0-9]+$/),
        email: 'you@example.com',
        name: 'Jane Doe',
        role: 'owner',
        isVerified: false,
        tenantId: expect.stringMatching(/^tnt_[A-Za-z0-9]+$/),
      },
    });
    expect(reg.setCookies).toEqual([]);
    expect(reg.text).not.toContain('your-secure-password');
    expect(reg.text).not.toContain(accessToken);

    const mail = mailsTo(sandbox, 'you@example.com', 'verify').at(-1)!;
    expect(mail.link).toBe(`${sandbox.productionUrl}/dashboard/auth/verify?token=${mail.token}`);
    // Following the link with curl, as a mail client would.
    const verified = await curl([mail.link]);
    expect(verified.status).toBe(200);
    expect(verified.body).toEqual({ statusCode: 200, data: { verified: true, email: 'you@example.com' } });
  });

  it('Step 2: logs in with a cookie jar (httpOnly, Secure cookies; no token in the body)', async () => {
    const BASE = sandbox.productionUrl;
    const res = await curl([
      '-X', 'POST', `${BASE}/dashboard/auth/login`,
      '-c', jarName,
      '-H', 'Content-Type: application/json',
      '-d', `{
"email": "you@example.com",
"password": "your-secure-password"
}`,
    ]);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      data: {
        id: expect.stringMatching(/^usr_/),
        email: 'you@example.com',
        name: 'Jane Doe',
        role: 'owner',
        isVerified: true,
        tenantId: expect.stringMatching(/^tnt_/),
      },
    });
    const setCookies = res.head.split(/\r?\n/).filter((l) => /^set-cookie:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
    expect(setCookies).toHaveLength(2);
    // The access cookie last: a client that keeps only the last field (Redocly Respect) still has the session.
    expect(setCookies[1]).toMatch(/^pacspace_access=[A-Za-z0-9_-]{43}; Path=\/dashboard; Max-Age=900; HttpOnly; Secure; SameSite=Strict$/);
    expect(setCookies[0]).toMatch(/^pacspace_refresh=[A-Za-z0-9_-]{43}; Path=\/dashboard\/auth; Max-Age=1209600; HttpOnly; Secure; SameSite=Strict$/);
    // curl keeps Secure cookies received over http from 127.0.0.1 and marks them httpOnly.
    const jar = await readFile(join(work, jarName), 'utf8');
    const rows = jar.split('\n').filter((l) => l.startsWith('#HttpOnly_')).map((l) => l.split('\t'));
    expect(rows.map((r) => [r[2], r[3], r[5]]).sort()).toEqual([
      ['/dashboard', 'TRUE', 'pacspace_access'],
      ['/dashboard/auth', 'TRUE', 'pacspace_refresh'],
    ]);
    for (const row of rows) expect(JSON.stringify(res.body)).not.toContain(row[6]!);
  });

  it('Step 2: creates an API key with the jar and the CSRF header', async () => {
    const BASE = sandbox.productionUrl;
    const res = await curl([
      '-X', 'POST', `${BASE}/dashboard/api-keys`,
      '-b', jarName,
      '-H', 'X-Pacspace-CSRF: 1',
      '-H', 'Content-Type: application/json',
      '-d', `{
"name": "quickstart-key"
}`,
    ]);
    expect(res.status).toBe(201);
    expect(res.body.statusCode).toBe(201);
    expect(res.body.data).toMatchObject({ name: 'quickstart-key', environment: 'test', active: true, permissions: ['balance:read', 'balance:write'] });
    expect(res.body.data.fullKey).toMatch(FULL_KEY);
    expect(res.body.data.fullKey).toBe(`${res.body.data.publicKey}.${res.body.data.secretKey}`);
    fullKey = res.body.data.fullKey;
  });

  it('the key works on the sandbox listener, and its whole life follows', async () => {
    const derive = (client: HttpClient, key: string) => client.get('/api/v1/balance/derive/customer_001', { headers: { 'X-Api-Key': key } });
    expect((await derive(sandbox.sandboxApi, fullKey)).status).toBe(200);
    // Another environment's listener, and a wrong secret, are 401.
    problem(await derive(sandbox.productionApi, fullKey), 401, 'unauthenticated', '/api/v1/balance/derive/customer_001');
    problem(await derive(sandbox.sandboxApi, `${fullKey.slice(0, -1)}${fullKey.endsWith('A') ? 'B' : 'A'}`), 401, 'unauthenticated', '/api/v1/balance/derive/customer_001');

    // The same session as curl's jar, read from it.
    const jar = await readFile(join(work, jarName), 'utf8');
    const access = jar.split('\n').find((l) => l.includes('\tpacspace_access\t'))!.split('\t')[6]!;
    const client = sandbox.newDashboardClient();
    client.jar.set('pacspace_access', access);

    const list = await client.get('/dashboard/api-keys');
    expect(list.status).toBe(200);
    const [key] = list.body.data.items;
    expect(key.name).toBe('quickstart-key');
    expect(list.text).not.toContain(fullKey.split('.')[1]);

    const regen = await client.post(`/dashboard/api-keys/${key.id}/regenerate`, { headers: CSRF });
    expect(regen.status).toBe(200);
    expect(regen.body.data.fullKey).toMatch(FULL_KEY);
    expect((await derive(sandbox.sandboxApi, fullKey)).status).toBe(401);
    expect((await derive(sandbox.sandboxApi, regen.body.data.fullKey)).status).toBe(200);

    const off = await client.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF });
    expect(off.body.data.active).toBe(false);
    expect((await derive(sandbox.sandboxApi, regen.body.data.fullKey)).status).toBe(401);
    expect((await client.post(`/dashboard/api-keys/${key.id}/toggle`, { headers: CSRF })).body.data.active).toBe(true);
    expect((await derive(sandbox.sandboxApi, regen.body.data.fullKey)).status).toBe(200);

    expect((await client.delete(`/dashboard/api-keys/${key.id}`, { headers: CSRF })).status).toBe(200);
    expect((await derive(sandbox.sandboxApi, regen.body.data.fullKey)).status).toBe(401);
    problem(await client.get(`/dashboard/api-keys/${key.id}`), 404, 'not_found', `/dashboard/api-keys/${key.id}`);
  });
});

// ---------------------------------------------------------------- request access

describe('request-access', () => {
  it('answers the same 202 for a new address, a pending request and an existing account; only the new one is mailed', async () => {
    const fresh = uniqueEmail('fresh');
    const a = await sandbox.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(fresh), noCookies: true });
    const again = await sandbox.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(fresh), noCookies: true });
    const before = sandbox.services.store.state.outbox.length;
    const demo = sandbox.demo!.email;
    const existing = await sandbox.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(demo), noCookies: true });
    expect(a.status).toBe(202);
    expect(again.text).toBe(a.text);
    expect(existing.text).toBe(a.text);
    expect(existing.status).toBe(202);
    // The account exists: no second approval, nothing mailed.
    expect(sandbox.services.store.state.outbox.length).toBe(before);
    expect(mailsTo(sandbox, demo, 'access')).toEqual([]);
    // A repeated request re-sends the link; the new one supersedes the first.
    expect(mailsTo(sandbox, fresh, 'access')).toHaveLength(2);
  });

  it('refuses bad bodies with 400, 415 and 422, and records nothing', async () => {
    const path = '/dashboard/auth/request-access';
    const n = events();
    const broken = await sandbox.dashboard.post(path, { raw: '{"name": "Jane", ', headers: { 'content-type': 'application/json' } });
    problem(broken, 400, 'invalid_json', path);
    expect(broken.body.title).toBe('Invalid JSON');

    const text = await sandbox.dashboard.post(path, { raw: 'name=Jane', headers: { 'content-type': 'text/plain' } });
    problem(text, 415, 'unsupported_media_type', path);
    expect(text.body).toEqual({
      type: 'https://docs.pacspace.io/errors/unsupported_media_type',
      title: 'Unsupported media type',
      status: 415,
      detail: 'Request bodies must be sent as application/json.',
      code: 'unsupported_media_type',
      requestId: text.body.requestId,
      instance: path,
    });

    const invalid = await sandbox.dashboard.post(path, { json: { ...accessRequest('not-an-email'), buyerMode: 'direct', extra: 1 } });
    problem(invalid, 422, 'validation_failed', path);
    const where = invalid.body.validation.map((v: { location: string[]; code: string }) => `${v.location.join('.')}:${v.code}`);
    expect(where).toEqual(expect.arrayContaining(['body.email:pattern', 'body.buyerMode:pattern', 'body:additionalProperties']));
    for (const v of invalid.body.validation) expect(v.severity).toBe('Error');

    const missing = await sandbox.dashboard.post(path, { json: { email: uniqueEmail('x') } });
    problem(missing, 422, 'validation_failed', path);
    expect(missing.body.validation.map((v: { code: string }) => v.code)).toContain('required');
    expect(events()).toBe(n);
  });
});

// ---------------------------------------------------------------- register

describe('register', () => {
  const path = '/dashboard/auth/register';
  const body = (email: string, accessToken?: string) => ({ ...(accessToken ? { accessToken } : {}), email, password: PASSWORD, name: 'Jane Doe' });

  async function approvedAddress(label: string) {
    const email = uniqueEmail(label);
    await sandbox.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(email), noCookies: true });
    return { email, token: linkToken(sandbox, email, 'access') };
  }

  it('refuses an unknown, another address\'s, a superseded and a used token with 400 invalid_token, creating nothing', async () => {
    const { email, token } = await approvedAddress('reg');
    const other = await approvedAddress('reg-other');
    const n = events();
    const users = sandbox.services.store.state.users.size;

    const unknown = await sandbox.dashboard.post(path, { json: body(email, 'A'.repeat(43)) });
    problem(unknown, 400, 'invalid_token', path);
    expect(unknown.body.detail).toBe('The access token is unknown, expired, already used, or was issued for another email address.');
    problem(await sandbox.dashboard.post(path, { json: body(email, other.token) }), 400, 'invalid_token', path);
    expect(events()).toBe(n);
    expect(sandbox.services.store.state.users.size).toBe(users);

    // A second request mails a new link; the first one stops working.
    await sandbox.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(email), noCookies: true });
    problem(await sandbox.dashboard.post(path, { json: body(email, token) }), 400, 'invalid_token', path);

    const fresh = linkToken(sandbox, email, 'access');
    // The address compares case-insensitively.
    const created = await sandbox.dashboard.post(path, { json: body(email.toUpperCase(), fresh) });
    expect(created.status).toBe(201);
    expect(created.body.data.email).toBe(email.toUpperCase());

    const n2 = events();
    problem(await sandbox.dashboard.post(path, { json: body(uniqueEmail('reuse'), fresh) }), 400, 'invalid_token', path);
    problem(await sandbox.dashboard.post(path, { json: body(email, fresh) }), 400, 'invalid_token', path);
    expect(events()).toBe(n2);
  });

  it('answers 409 account_exists for an address that has an account, with or without a token', async () => {
    const { email, token } = await approvedAddress('dup');
    expect((await sandbox.dashboard.post(path, { json: body(email, token) })).status).toBe(201);
    const n = events();
    const conflict = await sandbox.dashboard.post(path, { json: body(email) });
    problem(conflict, 409, 'account_exists', path);
    expect(conflict.body.detail).toBe('An account with this email already exists. Log in or reset your password.');
    expect(conflict.text).not.toContain(PASSWORD);
    expect(events()).toBe(n);
  });

  it('refuses an expired access token (7 days)', async () => {
    const { email, token } = await approvedAddress('expired');
    sandbox.services.clock.advance(7 * 24 * 3600_000 + 1000);
    problem(await sandbox.dashboard.post(path, { json: body(email, token) }), 400, 'invalid_token', path);
  });

  it('without a token, creates a pending account that approval of its request approves', async () => {
    const email = uniqueEmail('pending');
    const reg = await sandbox.dashboard.post(path, { json: body(email) });
    expect(reg.status).toBe(201);
    expect(reg.body.data.isVerified).toBe(false);
    const client = sandbox.newDashboardClient();
    await client.get(`/dashboard/auth/verify?token=${linkToken(sandbox, email, 'verify')}`);
    expect((await client.post('/dashboard/auth/login', { json: { email, password: PASSWORD } })).status).toBe(200);
    const me = await client.get('/dashboard/auth/me');
    expect(me.body.data).toMatchObject({ email, approvalStatus: 'pending', isVerified: true });

    const n = events();
    const refused = await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'too-early' } });
    problem(refused, 403, 'account_not_approved', '/dashboard/api-keys');
    expect(refused.body.detail).toBe('Your access request has not been approved yet.');
    expect(events()).toBe(n);

    // The sandbox approves the request at once; the account is approved, no register link is sent.
    await sandbox.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(email), noCookies: true });
    expect(mailsTo(sandbox, email, 'access')).toEqual([]);
    expect((await client.get('/dashboard/auth/me')).body.data.approvalStatus).toBe('approved');
    const key = await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'now' } });
    expect(key.status).toBe(201);
    expect(key.body.data.fullKey).toMatch(FULL_KEY);
  });

  it('refuses bad bodies with 400, 415 and 422, and creates nothing', async () => {
    const n = events();
    problem(await sandbox.dashboard.post(path, { raw: '{"email": ', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json', path);
    problem(await sandbox.dashboard.post(path, { raw: 'x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type', path);
    const short = await sandbox.dashboard.post(path, { json: { ...body(uniqueEmail('short')), password: 'short' } });
    problem(short, 422, 'validation_failed', path);
    expect(short.body.validation).toEqual([expect.objectContaining({ location: ['body', 'password'], code: 'minLength', severity: 'Error' })]);
    expect(short.text).not.toContain('"short"');
    const badToken = await sandbox.dashboard.post(path, { json: body(uniqueEmail('bad'), 'not a token') });
    problem(badToken, 422, 'validation_failed', path);
    expect(badToken.body.validation.map((v: { location: string[] }) => v.location.join('.'))).toContain('body.accessToken');
    problem(await sandbox.dashboard.post(path, { json: { email: uniqueEmail('no-name'), password: PASSWORD } }), 422, 'validation_failed', path);
    expect(events()).toBe(n);
  });
});

// ---------------------------------------------------------------- verify and resend

describe('verify and resend-verification-email', () => {
  it('verifies with the latest link only, once; unknown and superseded tokens are 400 invalid_token', async () => {
    const { email, client } = await newAccount(sandbox, 'verify', { verify: false });
    const first = linkToken(sandbox, email, 'verify');
    const resend = await sandbox.dashboard.post('/dashboard/auth/resend-verification-email', { json: { email }, noCookies: true });
    expect(resend.status).toBe(202);
    const second = linkToken(sandbox, email, 'verify');
    expect(second).not.toBe(first);

    const n = events();
    const stale = await sandbox.dashboard.get(`/dashboard/auth/verify?token=${first}`);
    problem(stale, 400, 'invalid_token', '/dashboard/auth/verify');
    expect(stale.body.detail).toBe('The verification token is unknown, expired or already used. Request a new verification email.');
    expect(stale.text).not.toContain(first);
    problem(await sandbox.dashboard.get(`/dashboard/auth/verify?token=${'B'.repeat(43)}`), 400, 'invalid_token', '/dashboard/auth/verify');
    expect(events()).toBe(n);
    expect((await client.get('/dashboard/auth/me')).body.data.isVerified).toBe(false);

    const ok = await sandbox.dashboard.get(`/dashboard/auth/verify?token=${second}`);
    expect(ok.body).toEqual({ statusCode: 200, data: { verified: true, email } });
    expect((await client.get('/dashboard/auth/me')).body.data.isVerified).toBe(true);
    problem(await sandbox.dashboard.get(`/dashboard/auth/verify?token=${second}`), 400, 'invalid_token', '/dashboard/auth/verify');
  });

  it('answers 422 for a missing or malformed token', async () => {
    const missing = await sandbox.dashboard.get('/dashboard/auth/verify');
    problem(missing, 422, 'validation_failed', '/dashboard/auth/verify');
    expect(missing.body.validation).toEqual([expect.objectContaining({ location: ['query'], code: 'required', severity: 'Error' })]);
    for (const query of ['?token=short', '?token=has%20spaces%20in%20it-and-is-long-enough-to-pass']) {
      const res = await sandbox.dashboard.get(`/dashboard/auth/verify${query}`);
      problem(res, 422, 'validation_failed', '/dashboard/auth/verify');
      expect(res.body.validation.map((v: { location: string[] }) => v.location)).toContainEqual(['query', 'token']);
    }
  });

  it('refuses an expired verification link (24 hours)', async () => {
    const { email } = await newAccount(sandbox, 'verify-late', { verify: false });
    sandbox.services.clock.advance(24 * 3600_000 + 1000);
    problem(await sandbox.dashboard.get(`/dashboard/auth/verify?token=${linkToken(sandbox, email, 'verify')}`), 400, 'invalid_token', '/dashboard/auth/verify');
  });

  it('resend answers the same for unknown, unverified and verified addresses; only the unverified one is mailed', async () => {
    const unverified = await newAccount(sandbox, 'resend-u', { verify: false });
    const verified = await newAccount(sandbox, 'resend-v');
    const path = '/dashboard/auth/resend-verification-email';
    const before = (email: string) => mailsTo(sandbox, email, 'verify').length;
    const [u, v] = [before(unverified.email), before(verified.email)];
    const outbox = sandbox.services.store.state.outbox.length;
    const answers = [
      await sandbox.dashboard.post(path, { json: { email: uniqueEmail('nobody') }, noCookies: true }),
      await sandbox.dashboard.post(path, { json: { email: unverified.email.toUpperCase() }, noCookies: true }),
      await sandbox.dashboard.post(path, { json: { email: verified.email }, noCookies: true }),
    ];
    for (const a of answers) {
      expect(a.status).toBe(202);
      expect(a.text).toBe(answers[0]!.text);
    }
    expect(answers[0]!.body).toEqual({
      statusCode: 202,
      data: { status: 'received', message: 'If an unverified account uses this address, a new verification email is on its way.' },
    });
    expect(before(unverified.email)).toBe(u + 1);
    expect(before(verified.email)).toBe(v);
    expect(sandbox.services.store.state.outbox.length).toBe(outbox + 1);
  });

  it('an unverified account gets 403 email_not_verified on key creation, and nothing is created', async () => {
    const { client } = await newAccount(sandbox, 'unverified', { verify: false });
    const n = events();
    const res = await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'k' } });
    problem(res, 403, 'email_not_verified', '/dashboard/api-keys');
    expect(res.body.detail).toBe('Verify your email address before creating API keys.');
    expect(events()).toBe(n);
    expect((await client.get('/dashboard/api-keys')).body.data.total).toBe(0);
  });
});

// ---------------------------------------------------------------- login

describe('login', () => {
  const path = '/dashboard/auth/login';

  it('sets both cookies with their attributes; the body is the user and holds no token', async () => {
    const { email } = await newAccount(sandbox, 'login');
    const client = sandbox.newDashboardClient();
    const res = await client.post(path, { json: { email: email.toUpperCase(), password: PASSWORD } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'success']);
    expect(Object.keys(res.body.data).sort()).toEqual(['email', 'id', 'isVerified', 'name', 'role', 'tenantId']);
    expect(res.setCookies).toHaveLength(2);
    const [refresh, access] = res.setCookies; // the access cookie last (see sessionCookies)
    expect(access).toMatch(/^pacspace_access=[A-Za-z0-9_-]{43}; Path=\/dashboard; Max-Age=900; HttpOnly; Secure; SameSite=Strict$/);
    expect(refresh).toMatch(/^pacspace_refresh=[A-Za-z0-9_-]{43}; Path=\/dashboard\/auth; Max-Age=1209600; HttpOnly; Secure; SameSite=Strict$/);
    const { access: a, refresh: r } = cookiesOf(client);
    for (const secret of [a, r, PASSWORD]) expect(res.text).not.toContain(secret);
    // Each login is its own session.
    const second = sandbox.newDashboardClient();
    await second.post(path, { json: { email, password: PASSWORD } });
    expect(cookiesOf(second).access).not.toBe(a);
    expect((await client.get('/dashboard/auth/me')).status).toBe(200);
    expect((await second.get('/dashboard/auth/me')).status).toBe(200);
  });

  it('answers a wrong password and an unknown email byte for byte the same, without cookies', async () => {
    const { email } = await newAccount(sandbox, 'enum');
    const n = events();
    const wrong = await login(sandbox.dashboard, email, 'not-the-password');
    const unknown = await login(sandbox.dashboard, uniqueEmail('ghost'), 'not-the-password');
    problem(wrong, 401, 'invalid_credentials', path);
    problem(unknown, 401, 'invalid_credentials', path);
    expect(withoutRequestId(wrong.text)).toBe(withoutRequestId(unknown.text));
    expect(wrong.headers.get('content-type')).toBe(unknown.headers.get('content-type'));
    expect(wrong.body).toEqual({
      type: 'https://docs.pacspace.io/errors/invalid_credentials',
      title: 'Invalid credentials',
      status: 401,
      detail: 'The email address or password is incorrect.',
      code: 'invalid_credentials',
      requestId: wrong.body.requestId,
      instance: path,
    });
    expect(wrong.text).not.toContain('not-the-password');
    expect(events()).toBe(n);
  });

  /**
   * Stops real time (only `Date` is faked: timers and sockets stay real) for the rest of the
   * test. The sandbox clock is real time plus an offset and the login bucket refills on it, so
   * on a loaded machine real seconds passing between requests refilled it (a login one second
   * before Retry-After got 200). Frozen, the clock moves only by `clock.advance`, and the
   * numbers are exact.
   */
  const freezeRealTime = () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    onTestFinished(() => void vi.useRealTimers());
  };
  /** Retry-After after 5 failures: the whole 15-minute window's worth of one failure (900 s / 5). */
  const FULL_WINDOW_SECONDS = 180;

  it('throttles after 5 failures per email: 429 with Retry-After, even for the right password, until the clock moves', async () => {
    const { email } = await newAccount(sandbox, 'throttle');
    freezeRealTime();
    // Failures count per address, case-insensitively.
    for (const variant of [email, email.toUpperCase(), email, email.toUpperCase(), email]) {
      expect((await login(sandbox.dashboard, variant, 'wrong-password')).status).toBe(401);
    }
    const n = events();
    const limited = await login(sandbox.dashboard, email, 'wrong-password');
    problem(limited, 429, 'rate_limited', path);
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBe(FULL_WINDOW_SECONDS);
    expect(limited.body.retryAfter).toBe(retryAfter);
    expect(limited.headers.get('ratelimit-limit')).toBe('5');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');

    const right = await login(sandbox.dashboard, email, PASSWORD);
    problem(right, 429, 'rate_limited', path);
    expect(events()).toBe(n);

    sandbox.services.clock.advance((retryAfter - 1) * 1000);
    expect((await login(sandbox.dashboard, email, PASSWORD)).status).toBe(429);
    sandbox.services.clock.advance(1000);
    expect((await login(sandbox.dashboard, email, PASSWORD)).status).toBe(200);
    // A successful login clears the count.
    for (let i = 0; i < 5; i++) expect((await login(sandbox.dashboard, email, 'wrong-password')).status).toBe(401);
    expect((await login(sandbox.dashboard, email, PASSWORD)).status).toBe(429);
  });

  it('throttles unknown addresses exactly like existing ones', async () => {
    const ghost = uniqueEmail('ghost-throttle');
    freezeRealTime();
    for (let i = 0; i < 5; i++) expect((await login(sandbox.dashboard, ghost, 'wrong-password')).status).toBe(401);
    const limited = await login(sandbox.dashboard, ghost, 'wrong-password');
    problem(limited, 429, 'rate_limited', path);
    expect(Number(limited.headers.get('retry-after'))).toBe(FULL_WINDOW_SECONDS);
  });

  it('refuses bad bodies with 400, 415 and 422 without counting a failure', async () => {
    const { email } = await newAccount(sandbox, 'login-bad');
    problem(await sandbox.dashboard.post(path, { raw: '{"email"', headers: { 'content-type': 'application/json' }, noCookies: true }), 400, 'invalid_json', path);
    problem(await sandbox.dashboard.post(path, { raw: '{}', headers: { 'content-type': 'text/plain' }, noCookies: true }), 415, 'unsupported_media_type', path);
    for (let i = 0; i < 6; i++) {
      const res = await sandbox.dashboard.post(path, { json: { email }, noCookies: true });
      problem(res, 422, 'validation_failed', path);
      expect(res.body.validation).toEqual([expect.objectContaining({ location: ['body'], code: 'required' })]);
    }
    problem(await sandbox.dashboard.post(path, { json: { email, password: '' }, noCookies: true }), 422, 'validation_failed', path);
    expect((await login(sandbox.dashboard, email, PASSWORD)).status).toBe(200);
  });
});

// ---------------------------------------------------------------- refresh, logout, me

describe('sessions: refresh, logout, me', () => {
  it('me: the user with approval status and registration time; 401 without a session', async () => {
    const { email, client, userId } = await newAccount(sandbox, 'me');
    const me = await client.get('/dashboard/auth/me');
    expect(me.body).toEqual({
      statusCode: 200,
      data: {
        id: userId,
        email,
        name: 'Jane Doe',
        role: 'owner',
        isVerified: true,
        tenantId: expect.stringMatching(/^tnt_/),
        approvalStatus: 'approved',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
    });
    problem(await client.get('/dashboard/auth/me', { noCookies: true }), 401, 'unauthenticated', '/dashboard/auth/me');
    problem(await client.get('/dashboard/auth/me', { headers: { cookie: asCookie({ access: 'C'.repeat(43) }) } }), 401, 'unauthenticated', '/dashboard/auth/me');
    // The access cookie lasts 15 minutes.
    sandbox.services.clock.advance(15 * 60_000);
    problem(await client.get('/dashboard/auth/me'), 401, 'unauthenticated', '/dashboard/auth/me');
  });

  it('refresh rotates both cookies; the old access cookie stops working', async () => {
    const { client } = await newAccount(sandbox, 'refresh');
    const old = cookiesOf(client);
    const t0 = sandbox.services.clock.now();
    const res = await client.post('/dashboard/auth/refresh', { headers: CSRF });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.data.accessExpiresAt) - t0).toBeGreaterThanOrEqual(15 * 60_000);
    expect(Date.parse(res.body.data.accessExpiresAt) - t0).toBeLessThan(15 * 60_000 + 5_000);
    expect(Date.parse(res.body.data.refreshExpiresAt) - Date.parse(res.body.data.accessExpiresAt)).toBe(14 * 24 * 3600_000 - 15 * 60_000);
    expect(res.setCookies[1]).toMatch(/^pacspace_access=[A-Za-z0-9_-]{43}; Path=\/dashboard; Max-Age=900; HttpOnly; Secure; SameSite=Strict$/);
    expect(res.setCookies[0]).toMatch(/^pacspace_refresh=[A-Za-z0-9_-]{43}; Path=\/dashboard\/auth; Max-Age=1209600; HttpOnly; Secure; SameSite=Strict$/);
    const fresh = cookiesOf(client);
    expect(fresh.access).not.toBe(old.access);
    expect(fresh.refresh).not.toBe(old.refresh);
    for (const v of [fresh.access, fresh.refresh, old.refresh]) expect(res.text).not.toContain(v);
    problem(await client.get('/dashboard/auth/me', { headers: { cookie: asCookie({ access: old.access }) } }), 401, 'unauthenticated', '/dashboard/auth/me');
    expect((await client.get('/dashboard/auth/me')).status).toBe(200);
    // It keeps rotating.
    expect((await client.post('/dashboard/auth/refresh', { headers: CSRF })).status).toBe(200);
    expect((await client.get('/dashboard/auth/me')).status).toBe(200);
  });

  it('reuse of a rotated refresh cookie revokes the whole family', async () => {
    const { client, email } = await newAccount(sandbox, 'reuse');
    const other = sandbox.newDashboardClient();
    await other.post('/dashboard/auth/login', { json: { email, password: PASSWORD } });
    const stolen = cookiesOf(client);
    expect((await client.post('/dashboard/auth/refresh', { headers: CSRF })).status).toBe(200);
    const current = cookiesOf(client);

    const replay = await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: asCookie({ refresh: stolen.refresh }) } });
    problem(replay, 401, 'unauthenticated', '/dashboard/auth/refresh');
    // Every cookie of the family is dead now: the legitimate holder must log in again.
    problem(await client.get('/dashboard/auth/me', { headers: { cookie: asCookie({ access: current.access }) } }), 401, 'unauthenticated', '/dashboard/auth/me');
    problem(await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: asCookie({ refresh: current.refresh }) } }), 401, 'unauthenticated', '/dashboard/auth/refresh');
    // Another session of the same user is not of this family.
    expect((await other.get('/dashboard/auth/me')).status).toBe(200);
  });

  it('refresh without CSRF is 403 and rotates nothing; without or with an unknown cookie 401; after 14 days 401', async () => {
    const { client } = await newAccount(sandbox, 'refresh-bad');
    const before = cookiesOf(client);
    const n = events();
    const noCsrf = await client.post('/dashboard/auth/refresh');
    problem(noCsrf, 403, 'csrf_required', '/dashboard/auth/refresh');
    expect(noCsrf.body.detail).toBe('Unsafe dashboard requests must send the header X-Pacspace-CSRF: 1.');
    problem(await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, 'X-Pacspace-CSRF': 'true' } }), 403, 'csrf_required', '/dashboard/auth/refresh');
    problem(await client.post('/dashboard/auth/refresh', { headers: CSRF, noCookies: true }), 401, 'unauthenticated', '/dashboard/auth/refresh');
    problem(
      await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: asCookie({ refresh: 'D'.repeat(43) }) } }),
      401,
      'unauthenticated',
      '/dashboard/auth/refresh',
    );
    expect(events()).toBe(n);
    expect(cookiesOf(client)).toEqual(before);
    expect((await client.get('/dashboard/auth/me')).status).toBe(200);

    sandbox.services.clock.advance(14 * 24 * 3600_000);
    problem(await client.post('/dashboard/auth/refresh', { headers: CSRF }), 401, 'unauthenticated', '/dashboard/auth/refresh');
    expect(events()).toBe(n);
  });

  it('logout revokes the session and clears both cookies; without CSRF it changes nothing', async () => {
    const { client, email } = await newAccount(sandbox, 'logout');
    const other = sandbox.newDashboardClient();
    await other.post('/dashboard/auth/login', { json: { email, password: PASSWORD } });
    const session = cookiesOf(client);

    const n = events();
    problem(await client.post('/dashboard/auth/logout'), 403, 'csrf_required', '/dashboard/auth/logout');
    expect(events()).toBe(n);
    expect((await client.get('/dashboard/auth/me')).status).toBe(200);

    const out = await client.post('/dashboard/auth/logout', { headers: CSRF });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ statusCode: 200, data: { message: 'You have been logged out.' } });
    expect(out.setCookies).toEqual([
      'pacspace_access=; Path=/dashboard; Max-Age=0; HttpOnly; Secure; SameSite=Strict',
      'pacspace_refresh=; Path=/dashboard/auth; Max-Age=0; HttpOnly; Secure; SameSite=Strict',
    ]);
    expect(client.jar.size).toBe(0);
    problem(await client.get('/dashboard/auth/me', { headers: { cookie: asCookie(session) } }), 401, 'unauthenticated', '/dashboard/auth/me');
    problem(await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: asCookie(session) } }), 401, 'unauthenticated', '/dashboard/auth/refresh');
    problem(await client.post('/dashboard/auth/logout', { headers: { ...CSRF, cookie: asCookie(session) } }), 401, 'unauthenticated', '/dashboard/auth/logout');
    expect((await other.get('/dashboard/auth/me')).status).toBe(200);
  });

  it('POST /dashboard/api-keys without CSRF is 403 csrf_required and creates nothing', async () => {
    const { client } = await newAccount(sandbox, 'csrf');
    const n = events();
    const res = await client.post('/dashboard/api-keys', { json: { name: 'no-csrf' } });
    problem(res, 403, 'csrf_required', '/dashboard/api-keys');
    expect(events()).toBe(n);
    expect((await client.get('/dashboard/api-keys')).body.data.total).toBe(0);
  });
});

// ---------------------------------------------------------------- password reset

describe('password reset', () => {
  const requestPath = '/dashboard/auth/request-password-reset';
  const resetPath = '/dashboard/auth/reset-password';

  it('request-password-reset answers byte for byte the same for unknown and known addresses; only the known one is mailed', async () => {
    const { email } = await newAccount(sandbox, 'reset-enum');
    const ghost = uniqueEmail('reset-ghost');
    const known = await sandbox.dashboard.post(requestPath, { json: { email }, noCookies: true });
    const unknown = await sandbox.dashboard.post(requestPath, { json: { email: ghost }, noCookies: true });
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(withoutRequestId(known.text)).toBe(withoutRequestId(unknown.text));
    expect(known.body).toEqual({
      statusCode: 202,
      data: { status: 'received', message: 'If an account uses this address, a password reset email is on its way.' },
    });
    expect(mailsTo(sandbox, email, 'reset')).toHaveLength(1);
    expect(mailsTo(sandbox, ghost, 'reset')).toHaveLength(0);
    const mail = mailsTo(sandbox, email, 'reset')[0]!;
    expect(mail.link).toBe(`${sandbox.productionUrl}/reset-password?token=${mail.token}`);
  });

  it('a failed reset changes nothing: the old password and sessions keep working', async () => {
    const { email, client } = await newAccount(sandbox, 'reset-fail');
    await sandbox.dashboard.post(requestPath, { json: { email }, noCookies: true });
    const first = linkToken(sandbox, email, 'reset');
    await sandbox.dashboard.post(requestPath, { json: { email }, noCookies: true });
    const latest = linkToken(sandbox, email, 'reset');
    const n = events();

    const superseded = await sandbox.dashboard.post(resetPath, { json: { token: first, password: 'a-new-long-passphrase' } });
    problem(superseded, 400, 'invalid_token', resetPath);
    expect(superseded.body.detail).toBe('The reset token is unknown, expired or already used. Request a new password reset email.');
    expect(superseded.text).not.toContain('a-new-long-passphrase');
    problem(await sandbox.dashboard.post(resetPath, { json: { token: 'E'.repeat(43), password: 'a-new-long-passphrase' } }), 400, 'invalid_token', resetPath);
    expect(events()).toBe(n);
    // A verification token is not a reset token (and stays good for verifying).
    const unverified = await newAccount(sandbox, 'reset-kind', { verify: false });
    const verifyToken = linkToken(sandbox, unverified.email, 'verify');
    const m = events();
    problem(await sandbox.dashboard.post(resetPath, { json: { token: verifyToken, password: 'a-new-long-passphrase' } }), 400, 'invalid_token', resetPath);
    expect(events()).toBe(m);
    expect((await sandbox.dashboard.get(`/dashboard/auth/verify?token=${verifyToken}`)).status).toBe(200);
    const k = events();
    const tooShort = await sandbox.dashboard.post(resetPath, { json: { token: latest, password: 'short' } });
    problem(tooShort, 422, 'validation_failed', resetPath);
    problem(await sandbox.dashboard.post(resetPath, { raw: '{"token":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json', resetPath);
    problem(await sandbox.dashboard.post(resetPath, { raw: 'token=x', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type', resetPath);

    expect(events()).toBe(k);
    expect((await login(sandbox.dashboard, email, PASSWORD)).status).toBe(200);
    expect((await client.get('/dashboard/auth/me')).status).toBe(200);
    // The latest token is still good after all that.
    expect((await sandbox.dashboard.post(resetPath, { json: { token: latest, password: 'a-new-long-passphrase' } })).status).toBe(200);
  });

  it('a reset changes the password and revokes every session; the token is single use', async () => {
    const { email, client } = await newAccount(sandbox, 'reset-ok');
    const second = sandbox.newDashboardClient();
    await second.post('/dashboard/auth/login', { json: { email, password: PASSWORD } });
    const sessions = [cookiesOf(client), cookiesOf(second)];
    await sandbox.dashboard.post(requestPath, { json: { email }, noCookies: true });
    const token = linkToken(sandbox, email, 'reset');

    const res = await sandbox.dashboard.post(resetPath, { json: { token, password: 'a-new-long-passphrase' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ statusCode: 200, data: { message: 'Your password has been reset. Log in with your new password.' } });
    expect(res.setCookies).toEqual([]);
    expect(res.text).not.toContain('a-new-long-passphrase');
    for (const s of sessions) {
      problem(await client.get('/dashboard/auth/me', { headers: { cookie: asCookie(s) } }), 401, 'unauthenticated', '/dashboard/auth/me');
      problem(await client.post('/dashboard/auth/refresh', { headers: { ...CSRF, cookie: asCookie(s) } }), 401, 'unauthenticated', '/dashboard/auth/refresh');
    }
    problem(await login(sandbox.dashboard, email, PASSWORD), 401, 'invalid_credentials', '/dashboard/auth/login');
    expect((await login(sandbox.dashboard, email, 'a-new-long-passphrase')).status).toBe(200);

    const n = events();
    problem(await sandbox.dashboard.post(resetPath, { json: { token, password: 'yet-another-passphrase' } }), 400, 'invalid_token', resetPath);
    expect(events()).toBe(n);
    expect((await login(sandbox.dashboard, email, 'a-new-long-passphrase')).status).toBe(200);
  });

  it('a reset link expires after 1 hour', async () => {
    const { email } = await newAccount(sandbox, 'reset-late');
    await sandbox.dashboard.post(requestPath, { json: { email }, noCookies: true });
    const token = linkToken(sandbox, email, 'reset');
    sandbox.services.clock.advance(3600_000);
    problem(await sandbox.dashboard.post(resetPath, { json: { token, password: 'a-new-long-passphrase' } }), 400, 'invalid_token', resetPath);
    expect((await login(sandbox.dashboard, email, PASSWORD)).status).toBe(200);
  });

  it('request-password-reset refuses bad bodies with 400, 415 and 422 and mails nothing', async () => {
    const outbox = sandbox.services.store.state.outbox.length;
    problem(await sandbox.dashboard.post(requestPath, { raw: '{', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json', requestPath);
    problem(await sandbox.dashboard.post(requestPath, { raw: 'e', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type', requestPath);
    const res = await sandbox.dashboard.post(requestPath, { json: { email: 'nope' } });
    problem(res, 422, 'validation_failed', requestPath);
    expect(res.body.validation).toEqual([expect.objectContaining({ location: ['body', 'email'], code: 'pattern' })]);
    expect(sandbox.services.store.state.outbox.length).toBe(outbox);
  });
});

// ---------------------------------------------------------------- without auto-approval

describe('a sandbox that does not approve access requests by itself', () => {
  let manual: TestSandbox;

  beforeAll(async () => {
    manual = await startTestSandbox({ control: false, autoApprove: false, seed: undefined });
  });

  afterAll(async () => {
    await manual?.close();
  });

  it('keeps requests pending, mails nothing, and refuses keys with 403 account_not_approved until approval', async () => {
    const email = uniqueEmail('manual');
    const req = await manual.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(email), noCookies: true });
    expect(req.status).toBe(202);
    expect(req.body.data.message).toBe('Thanks! We review every request and will email you when your access is approved.');
    expect(mailsTo(manual, email, 'access')).toEqual([]);

    const reg = await manual.dashboard.post('/dashboard/auth/register', { json: { email, password: PASSWORD, name: 'Jane Doe' }, noCookies: true });
    expect(reg.status).toBe(201);
    const client = manual.newDashboardClient();
    expect((await client.post('/dashboard/auth/login', { json: { email, password: PASSWORD } })).status).toBe(200);
    expect((await client.get('/dashboard/auth/me')).body.data).toMatchObject({ approvalStatus: 'pending', isVerified: false });

    // Not approved takes precedence over not verified.
    const n = manual.services.store.eventCount;
    problem(await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'k' } }), 403, 'account_not_approved', '/dashboard/api-keys');
    await client.get(`/dashboard/auth/verify?token=${linkToken(manual, email, 'verify')}`);
    const m = manual.services.store.eventCount;
    problem(await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'k' } }), 403, 'account_not_approved', '/dashboard/api-keys');
    expect(manual.services.store.eventCount).toBe(m);
    expect(m).toBe(n + 1);

    // A reviewer approves the request (what the control surface will do).
    await manual.services.store.commit(...approveAccess(manual.services, email));
    expect(mailsTo(manual, email, 'access')).toEqual([]);
    expect((await client.get('/dashboard/auth/me')).body.data.approvalStatus).toBe('approved');
    const key = await client.post('/dashboard/api-keys', { headers: CSRF, json: { name: 'k' } });
    expect(key.status).toBe(201);
    expect(key.body.data.fullKey).toMatch(FULL_KEY);
  });

  it('approving an address without an account mails the approval link, which registers an approved account', async () => {
    const email = uniqueEmail('manual-link');
    await manual.dashboard.post('/dashboard/auth/request-access', { json: accessRequest(email), noCookies: true });
    await manual.services.store.commit(...approveAccess(manual.services, email));
    const reg = await manual.dashboard.post('/dashboard/auth/register', {
      json: { accessToken: linkToken(manual, email, 'access'), email, password: PASSWORD, name: 'Jane Doe' },
      noCookies: true,
    });
    expect(reg.status).toBe(201);
    const client = manual.newDashboardClient();
    await client.post('/dashboard/auth/login', { json: { email, password: PASSWORD } });
    expect((await client.get('/dashboard/auth/me')).body.data.approvalStatus).toBe('approved');
  });
});
