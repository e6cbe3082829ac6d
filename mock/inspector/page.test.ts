// The request inspector's page in a real browser, set up as the docs site's test is (Debian's
// /usr/bin/chromium through playwright-core, never a downloaded browser): against a sandbox
// with a control token, the page asks for the token; API requests sent meanwhile appear live;
// one is expanded (its exchange, its webhook delivery with the signature) and copied as curl;
// the clock is advanced; an outbox link is followed. Hostile input is shown as text. No request
// leaves the page's origin and, once the token is given, no console error, page error or
// failed request happens. Screenshots go to reports/ (ignored by git).
//
// Without /usr/bin/chromium the file is skipped, with a message, on a developer machine; under
// CI (CI set) it fails instead: .ci/run installs Chromium before `npm test`.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginDemo } from '../testing/accounts.ts';
import { CSRF, startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const REPORTS = fileURLToPath(new URL('../../reports/', import.meta.url));
const TOKEN = 'tok_PageTestControlToken7';
/** For expect.poll, whose default (1 s) a browser on a loaded CI machine misses. */
const POLL = { timeout: 20_000 };
const inCi = !!process.env.CI;
const hasChromium = existsSync(CHROMIUM);
const skip = !hasChromium && !inCi;
if (skip) console.warn(`mock/inspector/page.test.ts skipped: ${CHROMIUM} is not installed (apt-get install chromium). Under CI this test fails instead.`);

describe.skipIf(skip)(`the inspector page in Chromium${skip ? ` (skipped: ${CHROMIUM} is not installed)` : ''}`, () => {
  let sb: TestSandbox;
  let receiver: Server;
  let context: BrowserContext;
  let page: Page;
  let userDataDir: string;
  let origin: string;
  const problems: string[] = [];
  const offsite: string[] = [];
  let leaving = false;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing. CI must install Debian's chromium before npm test (.ci/run does: apt-get install chromium).`);
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sb = await startTestSandbox({ transport: 'loopback', controlToken: TOKEN });
    origin = sb.productionUrl;
    mkdirSync(REPORTS, { recursive: true });
    userDataDir = mkdtempSync(join(tmpdir(), 'pacspace-inspector-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1500, height: 1000 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    // Anything not from the sandbox's own origin is refused and remembered.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${origin}/`)) return route.continue();
      offsite.push(url);
      return route.abort();
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('requestfailed', (request) => {
      // Leaving the page (following an outbox link) cancels the polls in flight: not a failure.
      if (leaving && request.failure()?.errorText === 'net::ERR_ABORTED') return;
      problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await sb?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('asks for the control token, then shows requests live, one expanded and copied as curl, the clock advanced and an outbox link followed', async () => {
    await page.goto(`${origin}/__sandbox/inspector/`, { waitUntil: 'load' });
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    await expect.poll(() => page.locator('#status').innerText(), POLL).toBe('This sandbox needs its control token.');
    // (The poll has settled, and the page polls no more until it has the token.)
    // Once the first poll has settled, the only problems so far: the control surface's 401s that made it ask.
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.every((p) => /401/.test(p))).toBe(true);
    problems.length = 0;
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button');
    await page.locator('#token-panel').waitFor({ state: 'hidden' });
    expect(page.url()).toBe(`${origin}/__sandbox/inspector/`);

    // API requests sent from elsewhere appear live.
    await loginDemo(sb);
    const endpoint = await sb.dashboard.post('/dashboard/webhooks', { headers: CSRF, json: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, events: ['delta.recorded'] } });
    expect(endpoint.status).toBe(201);
    const delta = await sb.sandboxApi.post('/api/v1/balance/delta', { headers: { 'X-Api-Key': sb.demo!.apiKey }, json: { customerId: 'customer_001', delta: '7.00', reason: 'page' } });
    expect(delta.status).toBe(201);
    const deltaId = delta.headers.get('x-request-id')!;
    // A path no browser would send: node:http sends it as is.
    const hostile = '/api/v1/<img/src=x/onerror=alert(1)>';
    const hostileStatus = await new Promise<number>((resolve, reject) => {
      const url = new URL(sb.sandboxUrl);
      request({ host: url.hostname, port: url.port, path: hostile }, (res) => resolve(res.resume().statusCode!)).on('error', reject).end();
    });
    expect(hostileStatus).toBe(404);
    const row = page.locator(`tr.request[data-request-id="${deltaId}"]`);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await page.locator('#requests td.path', { hasText: hostile }).first().waitFor({ timeout: 20_000 });
    expect(await page.locator('#requests img').count()).toBe(0);

    // Expanded: the exchange, the delivery it caused with its signature, and copy as curl.
    await row.click();
    const detail = row.locator('xpath=following-sibling::tr[1]');
    await detail.locator('.delivery .attempt').first().waitFor({ timeout: 20_000 });
    await detail.locator('.delivery .attempt summary').first().click();
    await expect.poll(() => detail.locator('dl.headers dd').allInnerTexts(), POLL).toContainEqual(expect.stringMatching(/^v1=[0-9a-f]{64}$/));
    expect(await detail.innerText()).toContain(`${sb.demo!.apiKey.slice(0, sb.demo!.apiKey.indexOf('.') + 1)}[redacted]`);
    await detail.locator('button.copy-curl').click();
    const copied = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(copied).toMatch(/^curl -X POST 'http:\/\/127\.0\.0\.1:\d+\/api\/v1\/balance\/delta' -H 'x-api-key: '"\$PACSPACE_API_KEY"/);
    expect(copied).not.toContain(sb.demo!.apiKey.slice(sb.demo!.apiKey.indexOf('.')));
    await page.screenshot({ path: join(REPORTS, 'inspector-requests.png'), fullPage: true });

    // The webhook endpoint with its delivery attempt.
    const hook = page.locator('details.endpoint').first();
    await hook.locator(':scope > summary').click();
    await hook.locator('details.attempt > summary').first().click();
    await expect.poll(() => hook.locator('dl.headers dd').allInnerTexts(), POLL).toContainEqual(expect.stringMatching(/^v1=[0-9a-f]{64}$/));
    expect(await hook.innerText()).toContain('delta.recorded');
    await page.locator('#webhooks-section').screenshot({ path: join(REPORTS, 'inspector-webhooks.png') });

    // The clock, advanced from the page.
    const offset = sb.services.clock.offset();
    await page.fill('#advance-seconds', '3600');
    await page.click('#clock-form button');
    await expect.poll(() => sb.services.clock.offset(), POLL).toBe(offset + 3_600_000);
    await expect.poll(() => page.locator('#clock-now').innerText(), POLL).toContain(`ahead of real time by ${(offset + 3_600_000) / 1000} s`);
    await expect.poll(() => page.locator('#chaos').innerText(), POLL).toBe('no chaos');

    // An outbox link, followed: a new account's verification link verifies it.
    const email = 'page-inspector@example.com';
    await sb.newDashboardClient().post('/dashboard/auth/request-access', {
      json: { name: 'Jane Doe', email, organization: 'Acme Inc', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'Record usage before invoices go out.' },
    });
    const access = [...sb.services.store.state.outbox].find((m) => m.to === email && m.kind === 'access')!;
    const registered = await sb.newDashboardClient().post('/dashboard/auth/register', { json: { accessToken: access.token, email, password: 'a page test passphrase', name: 'Jane Doe' } });
    expect(registered.status).toBe(201);
    const verifyLink = page.locator('#outbox a', { hasText: '/dashboard/auth/verify?token=' });
    await verifyLink.waitFor({ timeout: 20_000 });
    // The live token is not shown, only followed.
    const verification = [...sb.services.store.state.outbox].find((m) => m.to === email && m.kind === 'verify')!;
    expect(verification.token).toBeTruthy();
    expect(await page.locator('#outbox').innerText()).not.toContain(verification.token);
    expect(await verifyLink.innerText()).toContain('/dashboard/auth/verify?token=••••••••');
    await page.screenshot({ path: join(REPORTS, 'inspector-outbox-clock.png'), fullPage: true });
    leaving = true;
    await verifyLink.click();
    await page.waitForURL(/\/dashboard\/auth\/verify\?token=/);
    leaving = false;
    expect(JSON.parse(await page.locator('body').innerText())).toMatchObject({ statusCode: 200 });
    expect(sb.services.store.state.usersByEmail.get(email)).toBeDefined();
    await page.goBack();
    const verified = page.locator('tr.request', { hasText: '/dashboard/auth/verify?token=[redacted]' });
    await verified.first().waitFor({ timeout: 20_000 });

    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);
});
