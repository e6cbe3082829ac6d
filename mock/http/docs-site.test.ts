// /docs/, /openapi.json and /openapi.yaml: served on the production listener only, never
// anything outside the site folder, and a clear problem when the site is not built.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../testing/test-sandbox.ts';
import { createDocsSite } from './docs-site.ts';

const root = mkdtempSync(join(tmpdir(), 'pacspace-docs-site-'));
const site = join(root, 'site');
const generated = join(root, 'generated');
mkdirSync(join(site, 'assets'), { recursive: true });
mkdirSync(generated);
writeFileSync(join(site, 'index.html'), '<!DOCTYPE html><title>home</title>');
writeFileSync(join(site, 'guide.html'), '<!DOCTYPE html><title>guide</title>');
writeFileSync(join(site, 'assets', 'site.css'), 'body{}');
writeFileSync(join(site, '.hidden.html'), 'hidden');
writeFileSync(join(site, 'notes.exe'), 'binary');
writeFileSync(join(root, 'secret.txt'), 'outside the site');
writeFileSync(join(root, 'secret.html'), 'outside the site');
symlinkSync(join(root, 'secret.html'), join(site, 'link.html'));
writeFileSync(join(generated, 'openapi.json'), '{"openapi":"3.1.0"}');
writeFileSync(join(generated, 'openapi.yaml'), 'openapi: 3.1.0\n');

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the docs site routes', () => {
  const serve = createDocsSite({ siteDir: site, generatedDir: generated });
  const get = (path: string, method = 'GET') => serve(method, path, 'req_test1234');

  it('serves the site, its index for folders, and the bundled contract', async () => {
    const home = await get('/docs/');
    expect(home?.status).toBe(200);
    expect(home?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(home?.headers['content-security-policy']).toContain("default-src 'self'");
    expect(home?.body).toContain('home');
    expect((await get('/docs/guide.html'))?.body).toContain('guide');
    expect((await get('/docs/assets/site.css'))?.headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get('/docs'))?.status).toBe(301);
    expect((await get('/docs'))?.headers.location).toBe('/docs/');
    expect((await get('/openapi.json'))?.body).toBe('{"openapi":"3.1.0"}');
    expect((await get('/openapi.yaml'))?.headers['content-type']).toBe('application/yaml; charset=utf-8');
    const head = await get('/docs/guide.html', 'HEAD');
    expect(head?.status).toBe(200);
    expect(head?.body).toBeUndefined();
  });

  it('leaves every other path to the API', async () => {
    for (const path of ['/', '/api/v1/balance/delta', '/docsx', '/dashboard/docs', '/openapi.yml']) expect(await get(path), path).toBeUndefined();
  });

  it('never serves anything outside the site folder, hidden files or unknown types', async () => {
    const attempts = [
      '/docs/../secret.txt',
      '/docs/%2e%2e/secret.txt',
      '/docs/..%2Fsecret.txt',
      '/docs/assets/..%2F..%2Fsecret.html',
      '/docs/assets/%2E%2E/%2E%2E/secret.html',
      '/docs/..\\secret.html',
      '/docs/%5C..%5Csecret.html',
      '/docs//etc/passwd',
      `/docs/${encodeURIComponent(join(root, 'secret.html'))}`,
      '/docs/guide.html%00.css',
      '/docs/%E0%A4%A',
      '/docs/.hidden.html',
      '/docs/notes.exe',
      '/docs/link.html',
      '/docs/missing.html',
      '/docs/assets',
    ];
    for (const path of attempts) {
      const answer = await get(path);
      expect(answer?.status, path).toBe(404);
      expect(answer?.headers['content-type'], path).toBe('application/problem+json');
      expect(answer?.body, path).not.toContain('outside the site');
    }
  });

  it('allows only GET and HEAD', async () => {
    const answer = await get('/docs/', 'POST');
    expect(answer?.status).toBe(405);
    expect(answer?.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(answer!.body!).code).toBe('method_not_allowed');
  });

  it('says to run `npm run docs` when the site is not built', async () => {
    const unbuilt = createDocsSite({ siteDir: join(root, 'nothing-here'), generatedDir: generated });
    const answer = await unbuilt('GET', '/docs/', 'req_test1234');
    expect(answer?.status).toBe(404);
    const problem = JSON.parse(answer!.body!);
    expect(problem).toMatchObject({ status: 404, code: 'not_found', requestId: 'req_test1234', instance: '/docs/' });
    expect(problem.detail).toContain('npm run docs');
  });
});

describe('the routes in a running sandbox', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await startTestSandbox();
  });
  afterAll(() => sandbox?.close());

  it('serves the bundled contract on the production listener only', async () => {
    const json = await sandbox.dashboard.get('/openapi.json');
    expect(json.status).toBe(200);
    expect(json.text).toBe(readFileSync(new URL('../../generated/openapi.json', import.meta.url), 'utf8'));
    const yaml = await sandbox.dashboard.get('/openapi.yaml');
    expect(yaml.text).toBe(readFileSync(new URL('../../generated/openapi.yaml', import.meta.url), 'utf8'));
    expect(yaml.headers.get('x-request-id')).toMatch(/^req_/);
    for (const path of ['/openapi.json', '/docs/']) {
      const other = await sandbox.sandboxApi.get(path);
      expect(other.status, path).toBe(404);
      expect(other.headers.get('content-type')).toBe('application/problem+json');
    }
  });

  it('answers /docs/ with the site, or with a problem saying how to build it', async () => {
    const answer = await sandbox.dashboard.get('/docs/');
    if (answer.status === 200) expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    else expect((answer.body as { detail: string }).detail).toContain('npm run docs');
  });
});
