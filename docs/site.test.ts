// The published docs site in a real browser: builds it (`npm run docs`), serves it from a real
// sandbox at /docs/, and drives Debian's Chromium with playwright-core (no browser download:
// executablePath /usr/bin/chromium). It opens every guide and the API reference, finds every
// operation and webhook event of the contract with its code samples, follows every internal
// link to its page and anchor, and fails on any console error, page error, failed request or
// request to another origin. Screenshots go to reports/ (ignored by git).
//
// Without /usr/bin/chromium the file is skipped, with a message, on a developer machine; under
// CI (CI set) it fails instead: .ci/run installs Chromium before `npm test`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../mock/testing/test-sandbox.ts';
import { buildSite, type BuildResult } from './build/build.ts';
import { codeSamplesFor, LABELS } from './build/code-samples.ts';
import { listOperations, readBundle, referenceRoute, ROOT, slug } from './build/contract.ts';
import { GUIDES, markdownTwin, REFERENCE } from './build/layout.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REPORTS = join(ROOT, 'reports');
const inCi = !!process.env.CI;
const hasChromium = existsSync(CHROMIUM);
const skip = !hasChromium && !inCi;
if (skip) {
  console.warn(`docs/site.test.ts skipped: ${CHROMIUM} is not installed (apt-get install chromium). Under CI this test fails instead.`);
}

describe.skipIf(skip)(`the docs site in Chromium${skip ? ` (skipped: ${CHROMIUM} is not installed)` : ''}`, () => {
  let built: BuildResult;
  let sandbox: TestSandbox;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let userDataDir: string;
  const started = performance.now();
  const problems: string[] = [];
  const offsite: string[] = [];
  /** Routes of the reference (`#/tag/operation`) that some link points to, with where from. */
  const referenceLinks = new Map<string, string>();

  beforeAll(async () => {
    if (!hasChromium) {
      throw new Error(`${CHROMIUM} is missing. CI must install Debian's chromium before npm test (.ci/run does: apt-get install chromium).`);
    }
    built = await buildSite();
    sandbox = await startTestSandbox();
    base = `${sandbox.productionUrl}/docs/`;
    userDataDir = mkdtempSync(join(tmpdir(), 'pacspace-docs-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1400, height: 900 },
    });
    // Anything not from the sandbox's own origin is refused and remembered: the site must work offline.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(`${sandbox.productionUrl}/`)) return route.continue();
      offsite.push(url);
      return route.abort();
    });
    page = watch(context.pages()[0] ?? (await context.newPage()));
  }, 120_000);

  /** Records every console error, page error, failed request and error answer of a page. */
  function watch(p: Page): Page {
    p.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error on ${p.url()}: ${message.text()}`);
    });
    p.on('pageerror', (error) => problems.push(`page error on ${p.url()}: ${error.message}`));
    p.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
    p.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
    });
    return p;
  }

  afterAll(async () => {
    await context?.close();
    await sandbox?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    if (built) console.log(`docs site: built in ${built.ms} ms; browser test ${Math.round(performance.now() - started)} ms in all`);
  });

  it('serves the site at /docs/ and the contract at /openapi.json and /openapi.yaml', async () => {
    const redirect = await fetch(`${sandbox.productionUrl}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/docs/');
    const json = await fetch(`${sandbox.productionUrl}/openapi.json`);
    expect(json.status).toBe(200);
    expect(((await json.json()) as { openapi: string }).openapi).toBe('3.1.0');
    const yaml = await fetch(`${sandbox.productionUrl}/openapi.yaml`);
    expect(yaml.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(await yaml.text()).toMatch(/^openapi: 3\.1\.0/m);
    // Not on the sandbox listener, and never outside the site folder.
    expect((await fetch(`${sandbox.sandboxUrl}/docs/`)).status).toBe(404);
    expect((await fetch(`${base}..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('renders every guide in the shared layout, and every internal link reaches its page and anchor', async () => {
    const idsByPage = new Map<string, Set<string>>();
    const links: Array<{ from: string; href: string; url: URL }> = [];
    for (const guide of GUIDES) {
      const response = await page.goto(`${base}${guide.file}`, { waitUntil: 'load' });
      expect(response?.status(), guide.file).toBe(200);
      expect(await page.locator('main h1').count(), `${guide.file} has one title`).toBe(1);
      expect(await page.locator('.site-header .brand').count()).toBe(1);
      expect(await page.locator('.site-nav a[aria-current="page"]').innerText()).toBe(guide.label);
      expect(await page.locator('link[rel="alternate"][type="text/markdown"]').getAttribute('href'), guide.file).toBe(markdownTwin(guide.file));
      idsByPage.set(guide.file, new Set(await page.$$eval('[id]', (elements) => elements.map((e) => e.id))));
      const found = await page.$$eval('a[href]', (anchors) => anchors.map((a) => ({ href: a.getAttribute('href') ?? '', absolute: (a as unknown as { href: string }).href })));
      for (const link of found) links.push({ from: guide.file, href: link.href, url: new URL(link.absolute) });
    }
    // Every guide is reachable from the navigation of every page.
    for (const guide of GUIDES) expect(links.some((l) => l.url.pathname === `/docs/${guide.file}`), guide.file).toBe(true);

    const broken: string[] = [];
    let checked = 0;
    for (const { from, href, url } of links) {
      if (url.origin !== sandbox.productionUrl) continue; // external references (RFCs, …) are not followed
      checked++;
      const file = url.pathname.replace(/^\/docs\//, '');
      if (!url.pathname.startsWith('/docs/')) {
        broken.push(`${from}: ${href} leaves the site`);
      } else if (file === REFERENCE.file) {
        if (url.hash.startsWith('#/')) referenceLinks.set(url.hash, `${from}: ${href}`);
        else if (url.hash) broken.push(`${from}: ${href} is not a reference route`);
      } else if (idsByPage.has(file)) {
        const fragment = decodeURIComponent(url.hash.slice(1));
        if (fragment && !idsByPage.get(file)!.has(fragment)) broken.push(`${from}: ${href} (no element #${fragment} on ${file})`);
      } else {
        const response = await context.request.get(url.href);
        if (response.status() !== 200) broken.push(`${from}: ${href} answers ${response.status()}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  it('shows every operation and webhook event of the contract with its generated code samples', async () => {
    const operations = listOperations(readBundle());
    expect(built.operations.map((o) => o.operationId)).toEqual(operations.map((o) => o.operationId));
    const response = await page.goto(`${base}${REFERENCE.file}`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    await page.waitForSelector('#redoc [id="section/environments-and-routing"]', { timeout: 20_000 });
    // Redoc's own navigation: every route it links to resolves.
    const sidebar = await page.$$eval('#redoc a[href^="#/"]', (anchors) => anchors.map((a) => a.getAttribute('href') ?? ''));
    for (const href of sidebar) if (!href.slice(1).includes('#')) referenceLinks.set(href, `reference sidebar: ${href}`);

    const missing: string[] = [];
    // One tab: Chromium throttles the timers of background tabs, so more tabs are slower.
    for (const op of operations) {
      const id = referenceRoute(op).slice(2);
      referenceLinks.delete(`#/${id}`);
      const samples = codeSamplesFor(op);
      // The visible sample (curl by default; the samples in the description for a webhook).
      const needles =
        op.kind === 'webhook'
          ? ['openssl dgst -sha256 -hmac', 'verifyWebhook(Buffer.concat(chunks), req.headers, secret)', "createHmac('sha256', secret)"]
          : [/"([^"]+)"/.exec(samples[0]!.source)![1]!];
      const seen = await showRoute(page, id, needles);
      if (!seen.found) {
        missing.push(`${op.operationId}: no element #${id} at ${REFERENCE.file}#/${id}`);
        continue;
      }
      if (!seen.heading?.startsWith(op.summary)) missing.push(`${op.operationId}: heading "${seen.heading}" is not "${op.summary}"`);
      if (!seen.samplesShown) missing.push(`${op.operationId}: the generated sample is not shown (looked for ${needles.join(' | ')})`);
      if (op.kind === 'path') {
        // The sample switch of the operation lists exactly the languages it has samples for.
        const scope = page.locator(`[id="${id}"]`).locator('xpath=..');
        await scope.locator('button[aria-haspopup="menu"]', { hasText: LABELS.curl }).first().click();
        const languages = await page.getByRole('menuitem').allInnerTexts();
        await page.keyboard.press('Escape');
        for (const label of [LABELS.curl, LABELS.sdk, LABELS.fetch]) {
          if (!languages.map((l) => l.trim()).includes(label)) missing.push(`${op.operationId}: no ${label} sample (offered: ${languages.join(', ')})`);
        }
      }
    }
    expect(missing).toEqual([]);

    // Every tag and every other route a guide or the sidebar links to resolves too.
    const unresolved: string[] = [];
    for (const [hash, from] of referenceLinks) {
      const seen = await showRoute(page, hash.slice(2), hash === '#/' ? [readBundle().info.summary] : []);
      if (!seen.found || !seen.samplesShown) unresolved.push(from);
    }
    expect(unresolved).toEqual([]);
    for (const tag of readBundle().tags) expect(sidebar, tag.name).toContain(`#/${slug(tag.name)}`);

    mkdirSync(REPORTS, { recursive: true });
    await showRoute(page, 'balance/recorddelta', []);
    await page.screenshot({ path: join(REPORTS, 'docs-reference.png') });
    await page.goto(`${base}quick-start.html`, { waitUntil: 'load' });
    await page.screenshot({ path: join(REPORTS, 'docs-quick-start.png') });
  }, 180_000);

  it('publishes llms.txt, llms-full.txt and a Markdown twin of every page, served with their content types', async () => {
    const read = (file: string) => readFileSync(join(built.outDir, file), 'utf8');
    // llms.txt (llmstxt.org): an H1, a blockquote summary, then sections of "- [title](link): description".
    const llms = read('llms.txt');
    const lines = llms.split('\n');
    expect(lines[0]).toMatch(/^# \S/);
    expect(lines.find((l) => l.trim() !== '' && l !== lines[0])).toMatch(/^> \S/);
    const sections = new Map<string, Array<{ title: string; href: string; description: string }>>();
    let section = '';
    for (const line of lines) {
      if (line.startsWith('## ')) sections.set((section = line.slice(3)), []);
      else if (line.startsWith('- ')) {
        const link = /^- \[([^\]]+)\]\(([^)\s]+)\): (\S.*)$/.exec(line);
        expect(link, `llms.txt: ${line}`).not.toBeNull();
        expect(section, `llms.txt: ${line} is under a section`).not.toBe('');
        sections.get(section)!.push({ title: link![1]!, href: link![2]!, description: link![3]! });
      }
    }
    const links = [...sections.values()].flat();
    for (const { href } of links) expect(existsSync(join(built.outDir, href)), `llms.txt links ${href}`).toBe(true);
    expect(sections.get('Guides')!.map((l) => l.href)).toEqual(GUIDES.map((g) => markdownTwin(g.file)));
    expect(sections.get('Reference')!.map((l) => l.href)).toContain(markdownTwin(REFERENCE.file));
    expect(links.map((l) => l.href)).toContain('llms-full.txt');

    // Each twin carries every heading of its page; no link of a twin points at a missing file or an op: placeholder.
    const headingsOfHtml = (html: string) =>
      [...html.replace(/^[\s\S]*?<main[^>]*>|<\/main>[\s\S]*$/g, '').matchAll(/<h[1-6][^>]*>([\s\S]*?)<\/h[1-6]>/g)].map((m) =>
        m[1]!.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').trim(),
      );
    const headingsOfMarkdown = (markdown: string) =>
      markdown
        .replace(/^(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\s*$/gm, '')
        .split('\n')
        .filter((l) => /^#{1,6} /.test(l))
        .map((l) => l.replace(/^#+ /, '').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '').trim());
    const full = read('llms-full.txt');
    for (const file of [...GUIDES.map((g) => g.file), REFERENCE.file]) {
      const twin = read(markdownTwin(file));
      expect(full, `llms-full.txt has ${markdownTwin(file)}`).toContain(twin.trim());
      for (const [, href] of new MarkdownIt().render(twin).matchAll(/<a href="([^"]*)"/g)) {
        if (/^(https?:|mailto:)/.test(href!)) continue;
        expect(href, `${markdownTwin(file)}`).not.toMatch(/^op:/);
        const target = href!.split('#')[0]!;
        if (target) expect(existsSync(join(built.outDir, target)), `${markdownTwin(file)} links ${href}`).toBe(true);
      }
      if (file === REFERENCE.file) continue;
      const missing = headingsOfHtml(read(file)).filter((h) => !headingsOfMarkdown(twin).includes(h));
      expect(missing, `headings of ${file} missing from its twin`).toEqual([]);
    }
    const reference = read(markdownTwin(REFERENCE.file));
    const operations = listOperations(readBundle());
    for (const op of operations) {
      expect(reference, op.operationId).toContain(`\n### ${op.operationId}\n`);
      expect(reference, op.operationId).toContain(op.kind === 'webhook' ? `Event \`${op.path}\`` : `\`${op.method.toUpperCase()} ${op.path}\``);
    }
    for (const code of readBundle().components.schemas.ProblemCode.enum as string[]) expect(reference).toContain(`| \`${code}\` |`);

    // Served by the sandbox with their types.
    for (const [file, type] of [
      ['llms.txt', 'text/plain; charset=utf-8'],
      ['llms-full.txt', 'text/plain; charset=utf-8'],
      ['quick-start.md', 'text/markdown; charset=utf-8'],
      ['reference.md', 'text/markdown; charset=utf-8'],
      ['search-index.json', 'application/json; charset=utf-8'],
      ['assets/search.js', 'text/javascript; charset=utf-8'],
      ['assets/minisearch.js', 'text/javascript; charset=utf-8'],
    ]) {
      const response = await fetch(`${base}${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toBe(type);
      expect(await response.text(), file).toBe(read(file!));
    }
  });

  it('searches guides, operations and problem codes in the page, and a result leads to its anchor', async () => {
    const search = async (query: string) => {
      await page.locator('#site-search-input').fill(query);
      await page.locator('#site-search-results a').first().waitFor({ state: 'visible', timeout: 10_000 });
      return page.$$eval('#site-search-results a', (anchors) =>
        anchors.map((a) => ({ href: a.getAttribute('href') ?? '', kind: a.getAttribute('data-kind') ?? '', text: (a as unknown as { innerText: string }).innerText })),
      );
    };
    const at = () => page.evaluate(() => (globalThis as unknown as { location: { pathname: string; hash: string } }).location);
    /** The element the URL's fragment names is on the page and scrolled into view below the sticky header. */
    const targetInView = (id: string) =>
      page.evaluate((id) => {
        const { document, innerHeight } = globalThis as unknown as { document: { getElementById(id: string): { getBoundingClientRect(): { top: number } } | null }; innerHeight: number };
        const element = document.getElementById(id);
        const top = element?.getBoundingClientRect().top;
        return top !== undefined && top >= 0 && top < innerHeight;
      }, id);

    await page.goto(`${base}quick-start.html`, { waitUntil: 'load' });
    // An operation by its operationId: the first result is the operation, in the reference.
    let results = await search('recordDelta');
    expect(results[0]).toMatchObject({ kind: 'operation', href: `${base}${REFERENCE.file}#/balance/recorddelta` });
    expect(results[0]!.text).toContain('Record a delta');
    mkdirSync(REPORTS, { recursive: true });
    await page.screenshot({ path: join(REPORTS, 'docs-search.png') });
    await page.locator('#site-search-input').press('Enter');
    await page.waitForSelector('#redoc [id="balance/recorddelta"]', { timeout: 20_000 });
    expect(await at()).toMatchObject({ pathname: `/docs/${REFERENCE.file}`, hash: '#/balance/recorddelta' });

    // A problem code, from the reference page's header: its row of the errors table.
    results = await search('rate_limited');
    expect(results[0]).toMatchObject({ kind: 'problem code', href: `${base}errors.html#rate_limited` });
    await page.locator('#site-search-results a').first().click();
    await page.waitForURL(`${base}errors.html#rate_limited`);
    expect(await targetInView('rate_limited')).toBe(true);

    // A guide section by its heading, with ↓ and Enter; and a query with no match says so.
    results = await search('verifying signatures');
    expect(results[0]).toMatchObject({ kind: 'guide', href: `${base}webhooks.html#verifying-signatures` });
    await page.locator('#site-search-input').press('ArrowDown');
    await page.locator('#site-search-input').press('ArrowUp');
    await page.locator('#site-search-input').press('Enter');
    await page.waitForURL(`${base}webhooks.html#verifying-signatures`);
    expect(await targetInView('verifying-signatures')).toBe(true);
    await page.locator('#site-search-input').fill('zzqxvw');
    // (Not vitest's 1 s default: a browser on a loaded CI machine can take longer.)
    await expect.poll(() => page.locator('#site-search-status').innerText(), { timeout: 20_000 }).toBe('Nothing found for "zzqxvw".');
    expect(await page.locator('#site-search-results').isHidden()).toBe(true);
  });

  it('loads nothing from another origin and logs no error', () => {
    expect(offsite).toEqual([]);
    expect(problems).toEqual([]);
  });
});

/** Navigates the reference to `#/{id}` and waits for the element with that id (and the given texts near it). */
async function showRoute(page: Page, id: string, needles: string[]) {
  return page.evaluate(
    async ({ id, needles }) => {
      // Runs in the page (this project compiles without the DOM library).
      type Element = { parentElement: Element | null; innerText: string; querySelector(selector: string): { textContent: string | null } | null };
      const { document, location } = globalThis as unknown as { document: { getElementById(id: string): Element | null }; location: { hash: string } };
      const pause = () => new Promise((resolve) => setTimeout(resolve, 20));
      const started = performance.now();
      const late = () => performance.now() - started > 10_000;
      location.hash = `#/${id}`;
      // The root route is the API's introduction, which has no id of its own.
      const find = () => (id === '' ? document.getElementById('api-content') : document.getElementById(id));
      let element = find();
      while (!element) {
        if (late()) return { found: false as const };
        await pause();
        element = find();
      }
      const scope = element.parentElement ?? element;
      let samplesShown = needles.every((n) => scope.innerText.includes(n));
      while (!samplesShown && !late()) {
        await pause();
        samplesShown = needles.every((n) => scope.innerText.includes(n));
      }
      return { found: true as const, heading: element.querySelector('h1, h2')?.textContent ?? '', samplesShown };
    },
    { id, needles },
  );
}
