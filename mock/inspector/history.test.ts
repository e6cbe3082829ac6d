// The inspector's memory and redaction without a sandbox: what the contract says is secret,
// every kind of secret masked on the way in (and found nowhere in what is kept), copy-as-curl
// with named placeholders, the ring's capacity, filters and clear.
import { describe, expect, it, vi } from 'vitest';
import { parseCommandLine, UsageError } from '../cli/command-line.ts';
import type { Exchange } from '../http/exchange.ts';
import { checkInspectHistory, createInspector, KEEP_WITHIN_MS, MAX_INSPECT_HISTORY, type KeptExchange } from './history.ts';
import { MAX_KEPT_BODY, REDACTED, WITHHELD } from './redact.ts';
import { contractSecretRules } from './secret-rules.ts';

const KEY = 'pk_test_AbCdEfGh12345678.sk_test_S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tAB';
const SECRET_HALF = KEY.slice(KEY.indexOf('.') + 1);
const PASSWORD = 'correct horse "battery" staple';
const ACCESS = 'AcCeSsCoOkIeVaLuE0123456789abcdefXYZ';
const REFRESH = 'ReFrEsHcOoKiEvAlUe0123456789abcdefXYZ';
const CONTROL = 'tok_C0ntr0lT0k3nV4lu3';
const EMAIL_TOKEN = 'q8Xz3LmN7pR2vT5wY9aB4cD6eF1gH0jKzz';
const WHSEC = 'whsec_5WbX2p7QkN4rT9vL1mZ8cH3jF6dS0aYe';
const CSRF_ODD = 'csrf-not-the-constant-1234';
const SECRETS = [KEY, SECRET_HALF, PASSWORD, JSON.stringify(PASSWORD).slice(1, -1), ACCESS, REFRESH, CONTROL, EMAIL_TOKEN, WHSEC, CSRF_ODD];

let n = 0;
function exchange(partial: Partial<Exchange> & { request?: Exchange['request']; response?: Exchange['response'] }): Exchange {
  return {
    requestId: `req_${String(++n).padStart(8, '0')}`,
    at: Date.UTC(2026, 5, 1, 12, 0, 0),
    durationMs: 1.234,
    environment: 'test',
    surface: 'api',
    method: 'GET',
    url: '/api/v1/balance/derive/customer_001',
    violations: [],
    request: { headers: {} },
    response: { status: 200, headers: { 'content-type': 'application/json' } },
    ...partial,
  };
}

const inspector = (capacity?: number) =>
  createInspector({ ...(capacity === undefined ? {} : { capacity }), baseUrl: (env) => (env === 'live' ? 'http://127.0.0.1:4010' : 'http://127.0.0.1:4011') });

/** Every secret of the exchanges, in any spelling, is absent from everything kept. */
function expectNoSecret(kept: unknown) {
  const text = JSON.stringify(kept);
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(encodeURIComponent(secret));
  }
}

describe('secret rules from the contract', () => {
  it('names the reveal-once fields, the write-only passwords, email tokens and the security schemes', () => {
    const rules = contractSecretRules();
    expect([...rules.members].sort()).toEqual(['accessToken', 'fullKey', 'password', 'secret', 'secretKey', 'token']);
    expect([...rules.queryParameters]).toEqual(['token']);
    expect([...rules.apiKeyHeaders]).toEqual(['x-api-key']);
    expect([...rules.csrfHeaders]).toEqual(['x-pacspace-csrf']);
    expect(rules.secretHeaders.has('x-sandbox-control-token')).toBe(true);
    expect(rules.patterns.map((p) => p.source)).toContain('whsec_[A-Za-z0-9]{32,64}');
  });
});

describe('redaction on the way in', () => {
  it('keeps the public part of an API key and masks its secret everywhere, the curl naming it $PACSPACE_API_KEY', () => {
    const ins = inspector();
    const ex = exchange({
      method: 'POST',
      url: `/api/v1/balance/delta?echo=${encodeURIComponent(KEY)}`,
      auth: { kind: 'apiKey', keyId: 'key_abcdef', tenantId: 'ten_1', environment: 'test' },
      request: { headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify({ customerId: 'c1', delta: '1', reason: `pasted ${KEY}` }) },
      response: { status: 201, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ statusCode: 201, data: { note: SECRET_HALF } }) },
    });
    ins.observe(ex);
    const kept = ins.get(ex.requestId)!;
    expectNoSecret(kept);
    expect(kept.request.headers).toContainEqual({ name: 'x-api-key', value: `pk_test_AbCdEfGh12345678.${REDACTED}` });
    expect(kept.summary.auth).toEqual({ kind: 'apiKey', keyId: 'key_abcdef', publicKey: 'pk_test_AbCdEfGh12345678', tenantId: 'ten_1', environment: 'test' });
    expect(kept.request.body!.text).toContain(REDACTED);
    expect(kept.response.body!.text).toBe(JSON.stringify({ statusCode: 201, data: { note: REDACTED } }));
    expect(kept.curl).toBe(
      `curl -X POST 'http://127.0.0.1:4011/api/v1/balance/delta?echo='"$PACSPACE_API_KEY" -H 'x-api-key: '"$PACSPACE_API_KEY" -H 'content-type: application/json' --data-binary '{"customerId":"c1","delta":"1","reason":"pasted '"$PACSPACE_API_KEY"'"}'`,
    );
  });

  it('keeps a query flag without "=" as sent: it names nothing secret, so nothing else is masked for it', () => {
    const ins = inspector();
    const ex = exchange({ url: '/api/v1/balance/derive/customer_001?verbose', response: { status: 200, headers: {}, body: JSON.stringify({ note: 'verbose' }) } });
    ins.observe(ex);
    const kept = ins.get(ex.requestId)!;
    expect(kept.summary.url).toBe('/api/v1/balance/derive/customer_001?verbose');
    expect(kept.response.body!.text).toBe(JSON.stringify({ note: 'verbose' }));
  });

  it('masks a nameless cookie (a pair without "=", all of it the value) in Cookie and Set-Cookie, and wherever else it appears', () => {
    const ins = inspector();
    const ex = exchange({
      url: '/dashboard/auth/me',
      environment: 'live',
      request: { headers: { cookie: `${ACCESS}; pacspace_refresh=${REFRESH}` } },
      response: { status: 401, headers: { 'set-cookie': [`${ACCESS}; Path=/dashboard`] }, body: JSON.stringify({ echoed: ACCESS }) },
    });
    ins.observe(ex);
    expectNoSecret(ins.list());
    const kept = ins.get(ex.requestId)!;
    expect(kept.request.headers).toContainEqual({ name: 'cookie', value: `${REDACTED}; pacspace_refresh=${REDACTED}` });
    expect(kept.response.headers).toEqual([{ name: 'set-cookie', value: `${REDACTED}; Path=/dashboard` }]);
    expect(kept.response.body!.text).not.toContain(ACCESS);
  });

  it('masks passwords (JSON, form and unparsable bodies), cookies, Set-Cookie values, the control token, odd CSRF values and email tokens', () => {
    const ins = inspector();
    const login = exchange({
      method: 'POST',
      url: '/dashboard/auth/login',
      environment: 'live',
      request: { headers: { 'content-type': 'application/json', cookie: `pacspace_access=${ACCESS}; pacspace_refresh=${REFRESH}` }, body: JSON.stringify({ email: 'a@example.com', password: PASSWORD }) },
      response: {
        status: 200,
        headers: { 'set-cookie': [`pacspace_refresh=${REFRESH}; Path=/dashboard/auth; HttpOnly`, `pacspace_access=${ACCESS}; Path=/dashboard; HttpOnly`] },
        body: JSON.stringify({ statusCode: 200, data: { echoed: PASSWORD } }),
      },
      violations: [{ location: ['body', 'password'], code: 'maxLength', message: `must be shorter than ${PASSWORD}` }],
    });
    const broken = exchange({ method: 'POST', url: '/dashboard/auth/login', request: { headers: { 'content-type': 'application/json' }, body: `{"email":"a@example.com","password":"${PASSWORD.replace(/"/g, '\\"')}"` } });
    const form = exchange({ method: 'POST', url: '/dashboard/auth/login', request: { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `email=a&password=${encodeURIComponent(PASSWORD)}` } });
    const control = exchange({ surface: 'control', method: 'POST', url: '/__sandbox/reset', request: { headers: { 'x-sandbox-control-token': CONTROL, 'x-pacspace-csrf': CSRF_ODD } } });
    const csrfOne = exchange({ method: 'POST', url: '/dashboard/auth/logout', request: { headers: { 'x-pacspace-csrf': '1' } } });
    const verify = exchange({ url: `/dashboard/auth/verify?token=${EMAIL_TOKEN}`, environment: 'live' });
    const referred = exchange({ url: '/dashboard/auth/me', request: { headers: { referer: `http://127.0.0.1:4010/dashboard/auth/verify?token=${EMAIL_TOKEN}&x=1` } } });
    const outbox = exchange({
      surface: 'control',
      url: '/__sandbox/outbox',
      environment: 'live',
      response: {
        status: 200,
        headers: {},
        body: JSON.stringify({ statusCode: 200, data: [{ token: EMAIL_TOKEN, link: `http://127.0.0.1:4010/register?token=${EMAIL_TOKEN}`, text: `Create your account: http://x/?token=${EMAIL_TOKEN}` }] }),
      },
    });
    const webhook = exchange({ method: 'POST', url: '/dashboard/webhooks', response: { status: 201, headers: {}, body: JSON.stringify({ statusCode: 201, data: { id: 'wh_1', secret: WHSEC } }) } });
    for (const ex of [login, broken, form, control, csrfOne, verify, referred, outbox, webhook]) ins.observe(ex);
    expect(ins.size()).toBe(9);
    expectNoSecret(ins.list());

    const kept = ins.get(login.requestId)!;
    expect(kept.request.headers).toContainEqual({ name: 'cookie', value: `pacspace_access=${REDACTED}; pacspace_refresh=${REDACTED}` });
    expect(kept.response.headers).toEqual([
      { name: 'set-cookie', value: `pacspace_refresh=${REDACTED}; Path=/dashboard/auth; HttpOnly` },
      { name: 'set-cookie', value: `pacspace_access=${REDACTED}; Path=/dashboard; HttpOnly` },
    ]);
    expect(JSON.parse(kept.request.body!.text)).toEqual({ email: 'a@example.com', password: REDACTED });
    expect(kept.violations).toEqual([{ location: ['body', 'password'], severity: 'Error', code: 'maxLength', message: `must be shorter than ${REDACTED}` }]);
    expect(kept.curl).toContain(`-H 'cookie: pacspace_access='"$PACSPACE_SESSION_COOKIE"'; pacspace_refresh='"$PACSPACE_REFRESH_COOKIE" --data-binary`);
    expect(kept.curl).toContain(`"password":"'"$PACSPACE_PASSWORD"'"}'`);
    // Not JSON, and naming a secret: not kept at all (its spellings cannot all be chased in text).
    expect(ins.get(broken.requestId)!.request.body!.text).toBe(WITHHELD);
    expect(ins.get(form.requestId)!.request.body!.text).toBe(WITHHELD);
    expect(ins.get(form.requestId)!.curl).toContain(`--data-binary '${WITHHELD}'`);
    expect(ins.get(control.requestId)!.request.headers).toEqual([
      { name: 'x-sandbox-control-token', value: REDACTED },
      { name: 'x-pacspace-csrf', value: REDACTED },
    ]);
    expect(ins.get(control.requestId)!.curl).toBe(`curl -X POST 'http://127.0.0.1:4011/__sandbox/reset' -H 'x-sandbox-control-token: '"$PACSPACE_CONTROL_TOKEN" -H 'x-pacspace-csrf: '"$PACSPACE_CSRF"`);
    expect(ins.get(csrfOne.requestId)!.request.headers).toEqual([{ name: 'x-pacspace-csrf', value: '1' }]);
    expect(ins.get(verify.requestId)!.summary.url).toBe(`/dashboard/auth/verify?token=${REDACTED}`);
    expect(ins.get(verify.requestId)!.curl).toBe(`curl 'http://127.0.0.1:4010/dashboard/auth/verify?token='"$PACSPACE_EMAIL_TOKEN"`);
    expect(ins.get(referred.requestId)!.request.headers).toEqual([{ name: 'referer', value: `http://127.0.0.1:4010/dashboard/auth/verify?token=${REDACTED}&x=1` }]);
    expect(JSON.parse(ins.get(outbox.requestId)!.response.body!.text).data[0]).toEqual({
      token: REDACTED,
      link: `http://127.0.0.1:4010/register?token=${REDACTED}`,
      text: `Create your account: http://x/?token=${REDACTED}`,
    });
    expect(JSON.parse(ins.get(webhook.requestId)!.response.body!.text).data).toEqual({ id: 'wh_1', secret: REDACTED });
  });

  it('keeps the start of a large body, redacted before it is cut, and says so', () => {
    const ins = inspector();
    const filler = 'x'.repeat(MAX_KEPT_BODY - 10);
    const body = `{"reason":"${filler}","password":"${PASSWORD.replace(/"/g, '\\"')}","more":"${'y'.repeat(100_000)}"}`;
    const ex = exchange({ method: 'POST', url: '/dashboard/auth/login', request: { headers: { 'content-type': 'application/json' }, body } });
    ins.observe(ex);
    const kept = ins.get(ex.requestId)!;
    expectNoSecret(kept);
    expect(kept.request.body).toEqual({ text: expect.any(String), bytes: Buffer.byteLength(body), truncated: true });
    // Too large to read again and naming a secret: withheld.
    expect(kept.request.body!.text).toBe(WITHHELD);
    expect(kept.curl.startsWith(`# the request body was ${Buffer.byteLength(body)} bytes;`)).toBe(true);
    // One that names none keeps its start.
    const plain = exchange({ method: 'POST', url: '/api/v1/balance/delta', request: { headers: { 'content-type': 'application/json' }, body: `{"reason":"${'x'.repeat(100_000)}"}` } });
    ins.observe(plain);
    expect(ins.get(plain.requestId)!.request.body!.text.length).toBe(MAX_KEPT_BODY);
  });

  it('finds a secret however the body spells it: escapes, a repeated member, a non-string value, JSON inside a string, an encoded form name, a large body', () => {
    const ins = inspector();
    const pw = 'HV3/mbtu1tISbbphhkKwa';
    const unicode = [...pw].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
    const bodies = [
      `{"email":"a@example.com","password":"${unicode}"}`,
      `{"email":"a@example.com","password":"${pw.replace('/', '\\/')}"}`,
      `{"password":"${pw}","password":"wrongwrong"}`,
      `{"email":"a@example.com","password":["${pw}"]}`,
      `{"email":"a@example.com","password":{"value":"${pw}"}}`,
      JSON.stringify({ note: JSON.stringify({ password: pw }), password: 'x' }),
      `email=a&pass%77ord=${pw}`,
      `{"email":"a@example.com","pass\\u0077ord":"${pw}","pad":"${'x'.repeat(70_000)}"}`,
    ];
    const sent = bodies.map((body) => exchange({ method: 'POST', url: '/dashboard/auth/login', request: { headers: { 'content-type': 'application/json' }, body } }));
    for (const ex of sent) ins.observe(ex);
    for (const ex of sent) {
      const text = JSON.stringify(ins.get(ex.requestId));
      for (const spelling of [pw, pw.replace('/', '\\/'), encodeURIComponent(pw), unicode]) expect(text, ex.request.body!.slice(0, 80)).not.toContain(spelling);
    }
    // A parsed body's secret is the shell variable in copy-as-curl.
    expect(ins.get(sent[0]!.requestId)!.curl).toContain(`"password":"'"$PACSPACE_PASSWORD"'"}'`);
    expect(ins.get(sent[3]!.requestId)!.curl).toContain(`"password":"'"$PACSPACE_PASSWORD"'"}'`);
  });
});

describe('the history', () => {
  const summaries = (list: KeptExchange[]) => list.map((r) => r.summary.requestId);

  it('keeps the last N, newest first, and forgets the oldest', () => {
    const ins = inspector(3);
    const all = Array.from({ length: 5 }, () => exchange({}));
    for (const ex of all) ins.observe(ex);
    expect(summaries(ins.list())).toEqual([all[4]!, all[3]!, all[2]!].map((e) => e.requestId));
    expect(ins.get(all[1]!.requestId)).toBeUndefined();
    expect(ins.get(all[2]!.requestId)).toBeDefined();
  });

  it('filters by operation, exact status, status class and key, together', () => {
    const ins = inspector();
    const a = exchange({ operationId: 'recordDelta', response: { status: 201, headers: {} }, auth: { kind: 'apiKey', keyId: 'key_aaaaaa', tenantId: 't', environment: 'test' } });
    const b = exchange({ operationId: 'recordDelta', response: { status: 422, headers: {} }, auth: { kind: 'apiKey', keyId: 'key_bbbbbb', tenantId: 't', environment: 'test' } });
    const c = exchange({ operationId: 'deriveBalance', response: { status: 404, headers: {} }, auth: { kind: 'refused', code: 'unauthenticated' } });
    for (const ex of [a, b, c]) ins.observe(ex);
    expect(summaries(ins.list({ operationId: 'recordDelta' }))).toEqual([b.requestId, a.requestId]);
    expect(summaries(ins.list({ status: '4xx' }))).toEqual([c.requestId, b.requestId]);
    expect(summaries(ins.list({ status: '4XX', operationId: 'recordDelta' }))).toEqual([b.requestId]);
    expect(summaries(ins.list({ status: '201' }))).toEqual([a.requestId]);
    expect(summaries(ins.list({ keyId: 'key_bbbbbb' }))).toEqual([b.requestId]);
    expect(summaries(ins.list({ status: '5xx' }))).toEqual([]);
  });

  it('keeps nothing of its own operations, its page, or the GETs the page polls with', () => {
    const ins = inspector();
    ins.observe(exchange({ surface: 'control', operationId: 'listInspectedRequests', url: '/__sandbox/requests' }));
    ins.observe(exchange({ surface: 'control', url: '/__sandbox/inspector/inspector.js' }));
    ins.observe(exchange({ surface: 'control', operationId: 'getClock', url: '/__sandbox/clock', request: { headers: { 'x-sandbox-inspector': 'page' } } }));
    expect(ins.size()).toBe(0);
    // The page's own advance is an action: kept.
    ins.observe(exchange({ surface: 'control', method: 'POST', operationId: 'advanceClock', url: '/__sandbox/clock/advance', request: { headers: { 'x-sandbox-inspector': 'page' } } }));
    expect(ins.size()).toBe(1);
  });

  it('shows each kept answer with its own X-Request-Id and headers, though equal answers are held once', () => {
    const ins = inspector();
    const answered = Array.from({ length: 3 }, () => exchange({ operationId: 'deriveBalance' }));
    for (const e of answered) {
      e.response.headers['x-request-id'] = e.requestId;
      e.request.headers['x-api-key'] = KEY;
      ins.observe(e);
    }
    for (const e of answered) {
      const kept = ins.get(e.requestId)!;
      expect(kept.response.headers).toEqual([
        { name: 'content-type', value: 'application/json' },
        { name: 'x-request-id', value: e.requestId },
      ]);
      expect(kept.request.headers).toEqual([{ name: 'x-api-key', value: `${KEY.slice(0, KEY.indexOf('.') + 1)}${REDACTED}` }]);
    }
  });

  it('never merges kept answers of one operation that differ, and puts the request id back in request fields too', () => {
    const ins = inspector();
    const bodies = ['{"balance":"1.00"}', '{"balance":"2.00"}', '{"balance":"2.00"}'];
    const answered = bodies.map((body) => exchange({ operationId: 'deriveBalance', response: { status: 200, headers: { 'content-type': 'application/json' }, body } }));
    for (const e of answered) {
      e.request.headers['x-correlation'] = e.requestId;
      ins.observe(e);
    }
    expect(answered.map((e) => ins.get(e.requestId)!.response.body!.text)).toEqual(bodies);
    for (const e of answered) expect(ins.get(e.requestId)!.request.headers).toEqual([{ name: 'x-correlation', value: e.requestId }]);
  });

  it('clears, and keeps nothing with capacity 0', () => {
    const ins = inspector();
    ins.observe(exchange({}));
    ins.observe(exchange({}));
    expect(ins.clear()).toBe(2);
    expect(ins.list()).toEqual([]);
    const off = inspector(0);
    off.observe(exchange({}));
    expect(off.size()).toBe(0);
  });

  /**
   * An exchange whose keeping fails (a `watched` inspector cannot name the production listener's
   * URL for its curl command): the inspector says so through onError, which shows when it was kept.
   */
  const unkeepable = (body?: string) => exchange({ environment: 'live', request: { headers: {}, ...(body === undefined ? {} : { body }) } });
  const watched = (capacity?: number) => {
    const notKept: string[] = [];
    const baseUrl = (environment: Exchange['environment']) => {
      if (environment === 'live') throw new TypeError('no production listener');
      return 'http://127.0.0.1:4011';
    };
    const ins = createInspector({ ...(capacity === undefined ? {} : { capacity }), baseUrl, onError: (m) => notKept.push(m) });
    return { ins, notKept };
  };

  it('never throws into the request path: an exchange it cannot read is not kept, and it says so', () => {
    const { ins, notKept } = watched();
    const unreadable = exchange({
      request: {
        get headers(): Record<string, string> {
          throw new TypeError('unreadable');
        },
      },
    });
    expect(() => ins.observe(unreadable)).not.toThrow();
    expect(notKept).toEqual([`request inspector: ${unreadable.requestId} not kept (TypeError)`]);
    const readable = exchange({});
    ins.observe(readable);
    expect(ins.list().map((r) => r.summary.requestId)).toEqual([readable.requestId]);
  });
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('keeps an answered exchange within KEEP_WITHIN_MS without being read, and at once when read', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { ins, notKept } = watched();
      const ex = unkeepable();
      ins.observe(ex);
      await turn();
      expect(notKept).toEqual([]);
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
      await turn();
      expect(notKept).toEqual([`request inspector: ${ex.requestId} not kept (TypeError)`]);
      // A read keeps what waits, in the same call.
      const read = exchange({});
      ins.observe(read);
      expect(ins.get(read.requestId)?.summary.requestId).toBe(read.requestId);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps in the next turn once the waiting bodies reach 4 Mi characters, whatever the time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { ins, notKept } = watched();
      ins.observe(unkeepable('x'.repeat(3 * 1024 * 1024)));
      await turn();
      expect(notKept).toHaveLength(0);
      ins.observe(unkeepable('y'.repeat(1024 * 1024)));
      await turn();
      expect(notKept).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('redacts only the newest N of what waits: older exchanges would be overwritten unread, and reads show the same N', async () => {
    const { ins, notKept } = watched(3);
    const first = Array.from({ length: 7 }, () => unkeepable());
    for (const ex of first) ins.observe(ex);
    const last = Array.from({ length: 3 }, () => exchange({}));
    for (const ex of last) ins.observe(ex);
    expect(summaries(ins.list())).toEqual(last.map((e) => e.requestId).reverse());
    // None of the seven older ones was worth redacting: three newer ones arrived before any read.
    expect(notKept).toEqual([]);
    // And a kept batch is kept a slice a turn, oldest first: a long history never stalls answers.
    const { ins: big, notKept: bigNotKept } = watched(200);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      for (let i = 0; i < 200; i++) big.observe(unkeepable());
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
    } finally {
      vi.useRealTimers();
    }
    expect(bigNotKept.length).toBe(0);
    await turn();
    expect(bigNotKept.length).toBe(64);
    await turn();
    expect(bigNotKept.length).toBe(128);
    expect(big.size()).toBe(0);
    expect(bigNotKept.length).toBe(200);
  });

  it('never keeps the rest of a batch at once when more exchanges are taken: they join it, and 64 are still kept a turn', async () => {
    const { ins, notKept } = watched(200);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      for (let i = 0; i < 200; i++) ins.observe(unkeepable());
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
      await turn();
      expect(notKept.length).toBe(64);
      // 136 of the batch left; 150 more answered, and their wait ends while the batch is being kept.
      for (let i = 0; i < 150; i++) ins.observe(unkeepable());
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
      expect(notKept.length).toBe(64);
      await turn();
      expect(notKept.length).toBe(128);
    } finally {
      vi.useRealTimers();
    }
    expect(ins.size()).toBe(0);
    // Of the 136 left, only the newest 50 were worth keeping: 150 newer ones fill the rest of the 200.
    expect(notKept.length).toBe(64 + 200);
  });

  it('shows the newest N, newest first, when exchanges arrive and are read while a batch is being kept', async () => {
    const ins = inspector(200);
    const all = Array.from({ length: 350 }, () => exchange({}));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      for (const ex of all.slice(0, 200)) ins.observe(ex);
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
      await turn();
      for (const ex of all.slice(200, 340)) ins.observe(ex);
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
      await turn();
      for (const ex of all.slice(340)) ins.observe(ex);
    } finally {
      vi.useRealTimers();
    }
    expect(summaries(ins.list())).toEqual(all.slice(150).map((e) => e.requestId).reverse());
    expect(ins.get(all[150]!.requestId)?.summary.requestId).toBe(all[150]!.requestId);
    expect(ins.get(all[149]!.requestId)).toBeUndefined();
  });

  it('counts an overwritten waiting exchange out of the bodies waiting (capacity 1)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const { ins, notKept } = watched(1);
      ins.observe(unkeepable('x'.repeat(3 * 1024 * 1024)));
      ins.observe(unkeepable('y'.repeat(3 * 1024 * 1024)));
      await turn();
      // 3 Mi characters wait, not 6 Mi: nothing kept before its time.
      expect(notKept).toHaveLength(0);
      vi.advanceTimersByTime(KEEP_WITHIN_MS);
      await turn();
      expect(notKept).toHaveLength(1);
      expect(ins.size()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a capacity that is not a whole number from 0 to the maximum', () => {
    expect(() => checkInspectHistory(-1)).toThrow(new RangeError(`inspectHistory must be a whole number from 0 to ${MAX_INSPECT_HISTORY}, got -1`));
    expect(() => inspector(1.5)).toThrow(RangeError);
    expect(() => inspector(MAX_INSPECT_HISTORY + 1)).toThrow(RangeError);
    expect(() => checkInspectHistory(MAX_INSPECT_HISTORY)).not.toThrow();
  });
});

describe('--inspect-history', () => {
  const optionsOf = (args: string[]) => {
    const command = parseCommandLine(args);
    if (command.kind !== 'start') throw new Error('not a start');
    return command.options;
  };

  it('defaults to 500 and takes 0 to 10000', () => {
    expect(optionsOf([]).inspectHistory).toBe(500);
    expect(optionsOf(['--inspect-history', '0']).inspectHistory).toBe(0);
    expect(optionsOf(['--inspect-history', '10000']).inspectHistory).toBe(10_000);
  });

  it('refuses anything else with one line', () => {
    expect(() => parseCommandLine(['--inspect-history', 'lots'])).toThrow(new UsageError('--inspect-history must be a whole number, got "lots"'));
    expect(() => parseCommandLine(['--inspect-history', '-1'])).toThrow(new UsageError('--inspect-history must be a whole number, got "-1"'));
    expect(() => parseCommandLine(['--inspect-history', '10001'])).toThrow(new UsageError('--inspect-history must be at most 10000, got "10001"'));
  });
});
