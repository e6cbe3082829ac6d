// Schema constraints with a meaning, tried at their boundary on both sides: the value just
// inside is accepted, the value just outside is refused with a 422 that names the violation,
// and the refused request changed nothing (re-read after).
import { defineCheck } from '../../check.ts';
import type { CheckContext } from '../../context.ts';
import { CSRF } from '../../context.ts';
import { apart } from '../../lib/apart.ts';
import { ensure, expectProblem, expectStatus } from '../../lib/assert.ts';
import type { Exchange } from '../../lib/http.ts';
import { derived, expectViolation, NOBODY, record, sendAs, totalOf, unique } from './support.ts';

/** `n` characters starting with `stem`, padded with `fill`. */
const sized = (stem: string, n: number, fill = 'x') => (stem + fill.repeat(Math.max(0, n - stem.length))).slice(0, n);

/** Expects each refused request to be a 422 naming `field`; collects what did not. */
async function refusals(ctx: CheckContext, cases: Array<[string, () => Promise<Exchange>, string | undefined]>): Promise<void> {
  const failures: string[] = [];
  for (const [what, send, field] of cases) {
    const res = await send();
    try {
      expectViolation(res, field, what);
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  ensure(failures.length === 0, failures.join('; '));
}

/** An email address of exactly `n` characters (n ≥ 32) that matches the contract's pattern: labels of at most 63. */
function emailOfLength(n: number, tag: string): string {
  const local = `c${tag}`.slice(0, 64);
  const suffix = '.example.com';
  let remaining = n - local.length - 1 - suffix.length;
  let domain = '';
  while (remaining > 63) {
    domain += `${'d'.repeat(62)}.`;
    remaining -= 63;
  }
  domain += 'd'.repeat(remaining);
  return `${local}@${domain}${suffix}`;
}

export const schemaChecks = [
  defineCheck({
    id: 'SCHEMA-001',
    rule: 'A customerId of 1 to 128 characters matching its pattern is accepted in paths and bodies; 129 characters, a leading `_`, a space or a non-ASCII letter is 422 on every operation that takes one, and records nothing.',
    source: 'openapi #/components/schemas/CustomerId',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const longest = sized(`c${Date.now().toString(36)}:a.b-c_d`, 128);
      expectStatus(await ctx.api.get(`/api/v1/balance/derive/${longest}`, { headers: ctx.keyHeaders() }), 200, 'deriving a 128-character customerId');
      await record(ctx, { customerId: longest, delta: '1.00', reason: 'conformance-customer-id' });
      const bad = [`${longest}x`, `_${longest.slice(1)}`, 'conformance customer', 'conformance-é'];
      const cases: Array<[string, () => Promise<Exchange>, string | undefined]> = [];
      for (const id of bad) {
        const label = id.length > 40 ? `${id.length} characters` : JSON.stringify(id);
        cases.push([`derive ${label}`, () => ctx.api.get(`/api/v1/balance/derive/${encodeURIComponent(id)}`, { headers: ctx.keyHeaders() }), 'customerId']);
      }
      cases.push(
        ['recordDelta with a 129-character customerId', () => ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: `${longest}x`, delta: '1.00', reason: 'conformance' } }), 'customerId'],
        ['recordDelta with a customerId starting with _', () => ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: `_${longest.slice(1)}`, delta: '1.00', reason: 'conformance' } }), 'customerId'],
        ['compareBalances with a customerId holding a space', () => ctx.api.post('/api/v1/balance/compare', { headers: ctx.keyHeaders(), json: { customerId: 'conformance customer', yourBalance: '1.00', theirBalance: '1.00' } }), 'customerId'],
        ['createCheckpoint with a 129-character customerId', () => ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: `${longest}x` } }), 'customerId'],
      );
      await refusals(ctx, cases);
      const after = await derived(ctx, longest);
      ensure(after.deltaCount === 1, `the 128-character customer must hold exactly its one accepted delta, got ${after.deltaCount}`);
    },
  }),
  defineCheck({
    id: 'SCHEMA-002',
    rule: 'A delta\'s reason of 200 characters, referenceId of 128 printable ASCII characters and metadata of 20 members (names of 40, values of 500 characters) are accepted; one character or member more, an empty reason, a space or non-ASCII in referenceId, a name outside [A-Za-z0-9_.-] or a non-string value is 422 and records nothing.',
    source: 'openapi #/components/schemas/DeltaRequest; openapi #/components/schemas/Metadata',
    needs: ['apiKey', 'writes'],
    async run(ctx) {
      const customer = unique();
      const metadata: Record<string, string> = {};
      for (let i = 0; i < 19; i++) metadata[`k${i}`] = `v${i}`;
      metadata[sized('n_.-', 40, 'N')] = sized('value', 500);
      const accepted = await record(ctx, { customerId: customer, delta: '1.00', reason: sized('reason', 200), referenceId: sized('ref!~', 128, 'R'), metadata });
      ensure(Object.keys(accepted.body?.data?.metadata ?? {}).length === 20, 'the accepted delta does not echo its 20 metadata members');
      const base = { customerId: customer, delta: '1.00', reason: 'conformance' };
      const send = (body: Record<string, unknown>) => () => ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { ...base, ...body } });
      const tooMany: Record<string, string> = {};
      for (let i = 0; i < 21; i++) tooMany[`k${i}`] = 'v';
      await refusals(ctx, [
        ['a reason of 201 characters', send({ reason: sized('reason', 201) }), 'reason'],
        ['an empty reason', send({ reason: '' }), 'reason'],
        ['a referenceId of 129 characters', send({ referenceId: sized('ref', 129) }), 'referenceId'],
        ['a referenceId with a space', send({ referenceId: 'conformance ref' }), 'referenceId'],
        ['a referenceId with a non-ASCII letter', send({ referenceId: 'conformance-réf' }), 'referenceId'],
        ['an empty referenceId', send({ referenceId: '' }), 'referenceId'],
        ['metadata with 21 members', send({ metadata: tooMany }), 'metadata'],
        ['a metadata name of 41 characters', send({ metadata: { [sized('n', 41)]: 'v' } }), 'metadata'],
        ['a metadata name with a slash', send({ metadata: { 'a/b': 'v' } }), 'metadata'],
        ['a metadata value of 501 characters', send({ metadata: { note: sized('v', 501) } }), 'metadata'],
        ['a metadata value that is a number', send({ metadata: { note: 1 } }), 'metadata'],
      ]);
      ensure((await derived(ctx, customer)).deltaCount === 1, 'a refused delta was recorded');
    },
  }),
  defineCheck({
    id: 'SCHEMA-003',
    rule: 'A request body with a member its schema does not define, or without a required one, is 422 on both surfaces and changes nothing.',
    source: 'openapi #/components/schemas/DeltaRequest; openapi #/components/schemas/ApiKeyCreateRequest',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const customer = unique();
      const keysBefore = await totalOf(ctx, '/dashboard/api-keys');
      const dash = await ctx.dashboard();
      await refusals(ctx, [
        ['a delta with an unknown member', () => ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: '1.00', reason: 'conformance', currency: 'EUR' } }), undefined],
        ['a delta without reason', () => ctx.api.post('/api/v1/balance/delta', { headers: ctx.keyHeaders(), json: { customerId: customer, delta: '1.00' } }), undefined],
        ['a compare without theirBalance', () => ctx.api.post('/api/v1/balance/compare', { headers: ctx.keyHeaders(), json: { yourBalance: '1.00' } }), undefined],
        ['a key with an unknown member', () => dash.post('/dashboard/api-keys', { headers: CSRF, json: { name: `conformance-${ctx.runTag}`, scope: 'all' } }), undefined],
        ['a key without name', () => dash.post('/dashboard/api-keys', { headers: CSRF, json: { permissions: ['balance:read'] } }), undefined],
        ['a login with an unknown member', () => dash.post('/dashboard/auth/login', { json: { email: 'nobody@example.com', password: 'x', remember: true } }), undefined],
      ]);
      ensure((await derived(ctx, customer)).deltaCount === 0, 'a refused delta was recorded');
      ensure((await totalOf(ctx, '/dashboard/api-keys')) === keysBefore, 'a refused key was created');
    },
  }),
  defineCheck({
    id: 'SCHEMA-004',
    rule: 'An email of 254 characters matching the pattern (any case) is accepted; 255 characters, `v@io`, `a..b@example.com`, a quoted or non-ASCII local part is 422; the account email matches case-insensitively at login.',
    source: 'openapi #/components/schemas/EmailAddress',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const reset = (email: string) => () => dash.post('/dashboard/auth/request-password-reset', { json: { email } });
      for (const email of [emailOfLength(254, ctx.runTag), `Conformance.${ctx.runTag}+Tag@Example.COM`]) {
        expectStatus(await reset(email)(), 202, `a password reset for ${email.length > 60 ? `a ${email.length}-character email` : email}`);
      }
      await refusals(ctx, [
        ['a 255-character email', reset(emailOfLength(255, ctx.runTag)), 'email'],
        ['v@io', reset('v@io'), 'email'],
        ['a..b@example.com', reset('a..b@example.com'), 'email'],
        ['a quoted local part', reset('"conformance"@example.com'), 'email'],
        ['a non-ASCII local part', reset('conformancé@example.com'), 'email'],
        ['a login with v@io', () => dash.post('/dashboard/auth/login', { json: { email: 'v@io', password: 'x' } }), 'email'],
      ]);
      // The account's own address in another case logs in (one more session, ended at once).
      const email = ctx.config.email!;
      const swapped = email.replace(/[a-z]/gi, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
      const other = await ctx.loginClient(swapped, ctx.config.password!);
      await other.post('/dashboard/auth/logout', { headers: CSRF });
    },
  }),
  defineCheck({
    id: 'SCHEMA-005',
    rule: 'A new password is 12 to 128 code points (a well-formed unknown reset token then gets 400 invalid_token, 11 or 129 code points get 422); a login password is 1 to 128 (empty or 129 is 422, 128 is judged: 401).',
    source: 'openapi #/components/schemas/NewPassword; openapi #/components/schemas/LoginRequest',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const token = 'Q'.repeat(43);
      const reset = (password: string) => dash.post('/dashboard/auth/reset-password', { json: { token, password } });
      // 12 emoji are 24 UTF-16 code units: the limits count code points.
      for (const [password, what] of [['😀'.repeat(12), '12 code points (24 UTF-16 units)'], [sized('p', 128), '128 characters'], [sized('p', 12), '12 characters']] as const) {
        expectProblem(await reset(password), 400, 'invalid_token', `a new password of ${what} with an unknown token`);
      }
      await refusals(ctx, [
        ['a new password of 11 code points', () => reset('😀'.repeat(11)), 'password'],
        ['a new password of 129 characters', () => reset(sized('p', 129)), 'password'],
        ['a new password of 129 code points (emoji)', () => reset('😀'.repeat(129)), 'password'],
        ['an empty login password', () => dash.post('/dashboard/auth/login', { json: { email: `nobody-${ctx.runTag}@example.com`, password: '' } }), 'password'],
        ['a login password of 129 characters', () => dash.post('/dashboard/auth/login', { json: { email: `nobody-${ctx.runTag}@example.com`, password: sized('p', 129) } }), 'password'],
      ]);
      expectProblem(await dash.post('/dashboard/auth/login', { json: { email: `nobody-${ctx.runTag}@example.com`, password: sized('p', 128) } }), 401, 'invalid_credentials', 'a 128-character password for an unknown email');
    },
  }),
  defineCheck({
    id: 'SCHEMA-006',
    rule: 'An e-mailed token of 32 to 128 base64url characters that names nothing gets 400 invalid_token (verify, reset-password, register) and changes nothing; 31 or 129 characters or a character outside base64url is 422.',
    source: 'openapi #/components/schemas/EmailToken; openapi #/components/schemas/ProblemCode (invalid_token)',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const verify = (token: string) => () => dash.get(`/dashboard/auth/verify?token=${encodeURIComponent(token)}`);
      for (const token of [sized('Ab_-', 32, 'z'), sized('Ab_-', 128, 'z')]) expectProblem(await verify(token)(), 400, 'invalid_token', `verifying an unknown token of ${token.length} characters`);
      expectProblem(await dash.post('/dashboard/auth/reset-password', { json: { token: sized('Zz', 64, '9'), password: 'conformance-password' } }), 400, 'invalid_token', 'resetting with an unknown token');
      expectProblem(
        await dash.post('/dashboard/auth/register', { json: { accessToken: sized('Yy', 48, '7'), email: `nobody-${ctx.runTag}@example.com`, password: 'conformance-password', name: 'Conformance' } }),
        400,
        'invalid_token',
        'registering with an unknown access token',
      );
      await refusals(ctx, [
        ['a token of 31 characters', verify(sized('A', 31)), 'token'],
        ['a token of 129 characters', verify(sized('A', 129)), 'token'],
        ['a token with a +', verify(sized('A+', 40)), 'token'],
        ['a reset token of 31 characters', () => dash.post('/dashboard/auth/reset-password', { json: { token: sized('A', 31), password: 'conformance-password' } }), 'token'],
      ]);
      // The refused registration created nothing: the address still cannot log in.
      expectProblem(await ctx.loginAttempt(`nobody-${ctx.runTag}@example.com`, 'conformance-password'), 401, 'invalid_credentials', 'logging in as the refused registration');
    },
  }),
  defineCheck({
    id: 'SCHEMA-007',
    rule: 'A path id that does not match its pattern (receipt, checkpoint, proof root, key, webhook, tenant) is 422 and a well-formed one that names nothing is 404, on both surfaces.',
    source: 'openapi #/components/parameters; openapi #/components/responses/ValidationFailed',
    needs: ['apiKey', 'dashboard'],
    async run(ctx) {
      const ids: Array<[string, string, string]> = [
        ['/api/v1/receipts/{}', 'rcpt_A1b2C3d', NOBODY.receiptId],
        ['/api/v1/checkpoints/{}', 'chk-A1b2C3d4E5', NOBODY.checkpointId],
        ['/api/v1/checkpoints/{}/receipts', 'chk_A1b2C3d', NOBODY.checkpointId],
        ['/api/v1/verify/{}', 'A'.repeat(64), NOBODY.proofRoot],
        ['/dashboard/api-keys/{}', 'key_A1b2C', NOBODY.keyId],
        ['/dashboard/webhooks/{}', 'wh_A1b2_C3', NOBODY.webhookId],
        ['/dashboard/webhooks/{}/deliveries', 'wh_A1b', NOBODY.webhookId],
        ['/dashboard/contracts/{}/status', 'tnt_', NOBODY.tenantId],
      ];
      const failures: string[] = [];
      for (const [template, bad, good] of ids) {
        const refused = await sendAs(ctx, 'GET', template.replace('{}', bad));
        if (refused.status !== 422 || refused.body?.code !== 'validation_failed') failures.push(`GET ${template.replace('{}', bad)} → ${refused.status} (want 422)`);
        const missing = await sendAs(ctx, 'GET', template.replace('{}', good));
        if (missing.status !== 404 || missing.body?.code !== 'not_found') failures.push(`GET ${template.replace('{}', good)} → ${missing.status} (want 404)`);
      }
      const del = await sendAs(ctx, 'DELETE', '/dashboard/api-keys/key_!');
      if (del.status !== 422) failures.push(`DELETE /dashboard/api-keys/key_! → ${del.status} (want 422)`);
      ensure(failures.length === 0, failures.join('; '));
    },
  }),
  defineCheck({
    id: 'SCHEMA-008',
    rule: '`page` is 1 to 1000000 and `limit` 1 to 100 (a checkpoint\'s receipts: 1 to 1000); outside is 422. A page holds at most `limit` items, echoes `page` and `limit`, `total` counts every item across the pages, and keys are listed newest first.',
    source: 'openapi #/components/parameters/Page; openapi #/components/parameters/Limit; openapi #/components/parameters/ReceiptLimit; seed 001 "List API Keys"',
    needs: ['apiKey', 'dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      // Three keys beside the run's own: at least two full pages of two, so a later page's order is seen too.
      const older = await ctx.createKey({ name: 'conformance-page-a' });
      await apart();
      await ctx.createKey({ name: 'conformance-page-b' });
      await apart();
      const newer = await ctx.createKey({ name: 'conformance-page-c' });
      // Every key, two at a time.
      const seen: any[] = [];
      let total: number | undefined;
      for (let page = 1; page <= 50; page++) {
        const res = await dash.get(`/dashboard/api-keys?page=${page}&limit=2`);
        expectStatus(res, 200, `listing keys, page ${page} of 2`);
        const d = res.body.data;
        ensure(d.page === page && d.limit === 2, `page ${page} echoes page ${d.page} and limit ${d.limit}`);
        ensure(Array.isArray(d.items) && d.items.length <= 2, `page ${page} holds ${d.items?.length} items for limit 2`);
        ensure(total === undefined || d.total === total, `total changed between pages (${total} then ${d.total})`);
        total = d.total;
        seen.push(...d.items);
        if (d.items.length < 2 || seen.length >= d.total) break;
      }
      const ids = seen.map((k) => k.id);
      ensure(new Set(ids).size === ids.length, 'a key appears on two pages');
      ensure(ids.length === total, `the pages hold ${ids.length} keys, total says ${total}`);
      ensure(ids.indexOf(newer.id) >= 0 && ids.indexOf(older.id) >= 0, 'a key just created is not listed');
      // Judged when their stamps differ: with equal ones (a server stamping whole seconds) either order is newest first.
      const stamp = (key: { exchange: Exchange }) => Date.parse(key.exchange.body?.data?.createdAt);
      if (stamp(newer) > stamp(older)) ensure(ids.indexOf(newer.id) < ids.indexOf(older.id), 'keys are not listed newest first');
      // Newest first across the whole list, on every page (not only the first two keys).
      for (let i = 1; i < seen.length; i++) {
        const [a, b] = [Date.parse(seen[i - 1].createdAt), Date.parse(seen[i].createdAt)];
        ensure(!(a < b), `keys are not listed newest first: on page ${Math.floor(i / 2) + 1} (limit 2) key ${seen[i].id} created ${seen[i].createdAt} comes after ${seen[i - 1].id} created ${seen[i - 1].createdAt}`);
      }
      const beyond = await dash.get('/dashboard/api-keys?page=1000000&limit=100');
      expectStatus(beyond, 200, 'page 1000000');
      ensure(beyond.body.data.items.length === 0 && beyond.body.data.total === total, 'page 1000000 must be empty with the same total');
      expectStatus(await dash.get('/dashboard/webhooks?limit=100'), 200, 'limit 100');
      // A checkpoint's receipts: three deltas, pages of two.
      const customer = unique();
      for (let i = 0; i < 3; i++) await record(ctx, { customerId: customer, delta: '1.00', reason: `conformance-page-${i}` });
      const chk = await ctx.api.post('/api/v1/balance/checkpoint', { headers: ctx.keyHeaders(), json: { customerId: customer } });
      expectStatus(chk, 201, 'creating a checkpoint');
      const receipts = (q: string) => ctx.api.get(`/api/v1/checkpoints/${chk.body.data.checkpointId}/receipts${q}`, { headers: ctx.keyHeaders() });
      const p1 = await receipts('?page=1&limit=2');
      const p2 = await receipts('?page=2&limit=2');
      for (const [res, n, page] of [[p1, 2, 1], [p2, 1, 2]] as const) {
        expectStatus(res, 200, `receipts page ${page}`);
        const d = res.body.data;
        ensure(d.items?.length === n && d.total === 3 && d.page === page && d.limit === 2, `receipts page ${page} of limit 2 must hold ${n} of total 3, got ${d.items?.length} of ${d.total} (page ${d.page}, limit ${d.limit})`);
      }
      const r1 = p1.body.data.items.map((r: any) => r.receiptId);
      ensure(!r1.includes(p2.body.data.items[0].receiptId), 'a receipt appears on two pages');
      expectStatus(await receipts('?limit=1000'), 200, 'receipts limit 1000');
      await refusals(ctx, [
        ['page 0', () => dash.get('/dashboard/api-keys?page=0'), 'page'],
        ['page 1000001', () => dash.get('/dashboard/api-keys?page=1000001'), 'page'],
        ['page "two"', () => dash.get('/dashboard/webhooks?page=two'), 'page'],
        ['limit 0', () => dash.get('/dashboard/webhooks?limit=0'), 'limit'],
        ['limit 101', () => dash.get('/dashboard/api-keys?limit=101'), 'limit'],
        ['limit 1.5', () => dash.get('/dashboard/api-keys?limit=1.5'), 'limit'],
        ['receipts limit 1001', () => receipts('?limit=1001'), 'limit'],
        ['receipts page 0', () => receipts('?page=0'), 'page'],
      ]);
    },
  }),
  defineCheck({
    id: 'SCHEMA-009',
    rule: 'A key name of 100 characters is accepted; an empty or 101-character name, no permission, a repeated or unknown one is 422 and creates nothing.',
    source: 'openapi #/components/schemas/ApiKeyCreateRequest',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const name = sized(`conformance-${ctx.runTag}-`, 100, 'n');
      const created = await dash.post('/dashboard/api-keys', { headers: CSRF, json: { name, permissions: ['balance:read'] } });
      if (created.status === 201 && typeof created.body?.data?.id === 'string') {
        ctx.track('api key', created.body.data.id, name, () => dash.delete(`/dashboard/api-keys/${created.body.data.id}`, { headers: CSRF }));
        if (typeof created.body.data.secretKey === 'string') ctx.secrets.add(created.body.data.secretKey, 'the secret of a 100-character-name key', created.id);
      }
      expectStatus(created, 201, 'a key named with 100 characters');
      const before = await totalOf(ctx, '/dashboard/api-keys');
      const create = (body: Record<string, unknown>) => () => dash.post('/dashboard/api-keys', { headers: CSRF, json: { name: `conformance-${ctx.runTag}`, ...body } });
      await refusals(ctx, [
        ['a key name of 101 characters', create({ name: `${name}n` }), 'name'],
        ['an empty key name', create({ name: '' }), 'name'],
        ['no permission', create({ permissions: [] }), 'permissions'],
        ['a repeated permission', create({ permissions: ['balance:read', 'balance:read'] }), 'permissions'],
        ['an unknown permission', create({ permissions: ['balance:admin'] }), 'permissions'],
      ]);
      ensure((await totalOf(ctx, '/dashboard/api-keys')) === before, 'a refused key was created');
    },
  }),
  defineCheck({
    id: 'SCHEMA-010',
    rule: 'A webhook endpoint with a description of 200 characters and no environment is created for `test`, endpoints are listed newest first on pages that count them all, deliveries take page and limit like every list; a url over 2048 characters or not http(s), no event, an unknown or repeated event, or a description of 201 characters is 422 on create and update and changes nothing.',
    source: 'openapi #/components/schemas/WebhookEndpointCreateRequest; openapi #/components/schemas/WebhookEventTypeList',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const url = 'https://example.com/pacspace-conformance';
      const description = sized(`conformance-${ctx.runTag}-`, 200, 'd');
      const created = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['environment.activated'], description } });
      const id = created.body?.data?.id;
      if (created.status === 201 && typeof id === 'string') {
        ctx.track('webhook endpoint', id, description, () => dash.delete(`/dashboard/webhooks/${id}`, { headers: CSRF }));
        if (typeof created.body.data.secret === 'string') ctx.secrets.add(created.body.data.secret, 'a webhook signing secret', created.id);
      }
      expectStatus(created, 201, 'a webhook endpoint with a 200-character description');
      ensure(created.body.data.environment === 'test', `an endpoint created without environment must be test, got ${created.body.data.environment}`);
      const before = await totalOf(ctx, '/dashboard/webhooks');
      const create = (body: Record<string, unknown>) => () => dash.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['environment.activated'], description: `conformance-${ctx.runTag}`, ...body } });
      const update = (body: Record<string, unknown>) => () => dash.patch(`/dashboard/webhooks/${id}`, { headers: CSRF, json: body });
      await refusals(ctx, [
        ['a url of 2049 characters', create({ url: sized(`${url}/`, 2049, 'u') }), 'url'],
        ['an ftp url', create({ url: 'ftp://example.com/hook' }), 'url'],
        ['no event', create({ events: [] }), 'events'],
        ['an unknown event', create({ events: ['delta.deleted'] }), 'events'],
        ['a repeated event', create({ events: ['delta.recorded', 'delta.recorded'] }), 'events'],
        ['a description of 201 characters', create({ description: `${description}d` }), 'description'],
        ['an update to no event', update({ events: [] }), 'events'],
        ['an update to a description of 201 characters', update({ description: `${description}d` }), 'description'],
      ]);
      ensure((await totalOf(ctx, '/dashboard/webhooks')) === before, 'a refused webhook endpoint was created');
      // A second endpoint: listed before the first (newest first), on pages of one that count both.
      await apart();
      const second = await dash.post('/dashboard/webhooks', { headers: CSRF, json: { url, events: ['environment.activated'], description: `conformance-second-${ctx.runTag}` } });
      expectStatus(second, 201, 'a second webhook endpoint');
      ctx.track('webhook endpoint', second.body.data.id, `conformance-second-${ctx.runTag}`, () => dash.delete(`/dashboard/webhooks/${second.body.data.id}`, { headers: CSRF }));
      if (typeof second.body.data.secret === 'string') ctx.secrets.add(second.body.data.secret, 'a webhook signing secret', second.id);
      // Pages of one: the two newest are the two just created, newest first.
      const newest: string[] = [];
      for (const page of [1, 2]) {
        const res = await dash.get(`/dashboard/webhooks?page=${page}&limit=1`);
        expectStatus(res, 200, `listing webhook endpoints, page ${page} of 1`);
        const d = res.body.data;
        ensure(d.page === page && d.limit === 1 && d.items.length === 1 && d.total === before + 1, `webhook endpoints page ${page} of limit 1 holds ${d.items?.length} items of total ${d.total} (page ${d.page}, limit ${d.limit}; ${before + 1} exist)`);
        newest.push(d.items[0].id);
      }
      // In this order unless both have the same stamp (a server stamping whole seconds): then in either.
      const tie = Date.parse(second.body.data.createdAt) === Date.parse(created.body.data.createdAt);
      const listedNewestFirst = newest[0] === second.body.data.id && newest[1] === id;
      ensure(listedNewestFirst || (tie && newest[0] === id && newest[1] === second.body.data.id), 'webhook endpoints are not listed newest first');
      // Pages of ten hold every endpoint once, as many as total says.
      const all: string[] = [];
      for (let page = 1; page <= 20; page++) {
        const res = await dash.get(`/dashboard/webhooks?page=${page}&limit=10`);
        expectStatus(res, 200, `listing webhook endpoints, page ${page} of 10`);
        const d = res.body.data;
        ensure(d.items.length <= 10 && d.total === before + 1, `webhook endpoints page ${page} of limit 10 holds ${d.items.length} items of total ${d.total}`);
        all.push(...d.items.map((e: any) => e.id));
        if (d.items.length < 10 || all.length >= d.total) break;
      }
      ensure(all.length === before + 1 && new Set(all).size === all.length, `the pages of ten hold ${new Set(all).size} distinct endpoints of ${before + 1}`);
      const deliveries = (q: string) => () => dash.get(`/dashboard/webhooks/${id}/deliveries${q}`);
      expectStatus(await deliveries('?page=1&limit=100')(), 200, 'deliveries with limit 100');
      await refusals(ctx, [
        ['deliveries page 0', deliveries('?page=0'), 'page'],
        ['deliveries limit 101', deliveries('?limit=101'), 'limit'],
      ]);
      const now = await dash.get(`/dashboard/webhooks/${id}`);
      expectStatus(now, 200, 'reading the endpoint back');
      ensure(now.body.data.description === description && now.body.data.events?.length === 1, 'a refused update changed the endpoint');
    },
  }),
  defineCheck({
    id: 'SCHEMA-011',
    rule: 'An access request needs name (1 to 100), organization (1 to 200), an upper-case buyerMode identifier (at most 64) and useCase (1 to 2000): each one outside is 422; all at their maximum is accepted (202).',
    source: 'seed 003 "Step 1: Request Access"; openapi #/components/schemas/RequestAccessRequest',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const ok = { name: sized('Conformance ', 100, 'n'), email: `conformance-access-${ctx.runTag}@conformance.invalid`, organization: sized('Conformance org ', 200, 'o'), buyerMode: sized('CONFORMANCE_', 64, 'X'), useCase: sized('Conformance run ', 2000, 'u') };
      const ask = (change: Record<string, unknown>) => () => dash.post('/dashboard/auth/request-access', { json: { ...ok, ...change } });
      await refusals(ctx, [
        ['a name of 101 characters', ask({ name: `${ok.name}n` }), 'name'],
        ['an empty name', ask({ name: '' }), 'name'],
        ['an organization of 201 characters', ask({ organization: `${ok.organization}o` }), 'organization'],
        ['a lower-case buyerMode', ask({ buyerMode: 'conformance' }), 'buyerMode'],
        ['a buyerMode of 65 characters', ask({ buyerMode: `${ok.buyerMode}X` }), 'buyerMode'],
        ['a buyerMode with a double underscore', ask({ buyerMode: 'CONFORMANCE__RUN' }), 'buyerMode'],
        ['a useCase of 2001 characters', ask({ useCase: `${ok.useCase}u` }), 'useCase'],
        ['no useCase', ask({ useCase: undefined }), undefined],
      ]);
      expectStatus(await ask({})(), 202, 'an access request with every field at its maximum');
    },
  }),
  defineCheck({
    id: 'SCHEMA-012',
    rule: 'Provisioning takes `environment` testnet or mainnet only: anything else (another name, another case) is 422 and changes nothing.',
    source: 'seed 004 "Provision an Environment"; openapi #/components/schemas/ProvisionRequest',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const before = await dash.get('/dashboard/environments');
      const provision = (environment: unknown) => () => dash.post('/dashboard/contracts/provision', { headers: CSRF, json: { environment } });
      await refusals(ctx, [
        ['environment devnet', provision('devnet'), 'environment'],
        ['environment MAINNET', provision('MAINNET'), 'environment'],
        ['environment test (a key environment)', provision('test'), 'environment'],
      ]);
      const after = await dash.get('/dashboard/environments');
      const states = (x: Exchange) => (x.body?.data ?? []).map((e: any) => `${e.environment}:${e.status === 'not_provisioned' ? 'not_provisioned' : 'started'}`).sort().join(',');
      ensure(states(after) === states(before), `refused provisioning requests changed the environments (${states(before)} → ${states(after)})`);
    },
  }),
];
