// The sandbox's conveniences on the production listener, outside the public contract: the docs
// site built by `npm run docs` at /docs/ and the bundled contract at /openapi.json and
// /openapi.yaml. Answered before Prism's pipeline (mock/app.ts).
//
// Only files below docs/site/ with a known text type are served: the path is decoded once,
// and any segment that is empty, `.`, `..` or starts with a dot, any backslash or NUL, and any
// file whose real path (symlinks resolved) leaves the site folder is a 404. When the site is
// not built, /docs/ answers a 404 problem that says to run `npm run docs`: the sandbox never
// runs the build itself (it needs dev dependencies and several seconds, and a GET should not
// write to the work tree).
import { realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { docsSiteDir, generatedFile } from '../../contract/files.ts';
import { fail, problemBody, statusOf } from './problem.ts';

export const DOCS_SITE_DIR = docsSiteDir;
const GENERATED_DIR = generatedFile('.');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.yaml': 'application/yaml; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  // The pages' Markdown twins (RFC 7763); llms.txt and llms-full.txt are .txt.
  '.md': 'text/markdown; charset=utf-8',
};

/**
 * The site loads nothing from elsewhere; the policy makes a browser refuse it if it tried.
 * Redoc needs inline scripts and styles, data: and blob: URLs (downloads, icons).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' blob: data:",
  "worker-src 'self' blob:",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export type SiteResponse = { status: number; headers: Record<string, string>; body: string | undefined };

export type DocsSiteOptions = { siteDir?: string; generatedDir?: string };

export function createDocsSite(options: DocsSiteOptions = {}) {
  const siteDir = resolve(options.siteDir ?? DOCS_SITE_DIR);
  const generatedDir = resolve(options.generatedDir ?? GENERATED_DIR);

  function problem(code: 'not_found' | 'method_not_allowed', requestId: string, path: string, detail?: string, headers: Record<string, string> = {}): SiteResponse {
    return {
      status: statusOf(code),
      headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, ...headers },
      body: JSON.stringify(problemBody(fail(code, detail), requestId, path)),
    };
  }

  async function file(method: string, absolute: string, requestId: string): Promise<SiteResponse> {
    const type = TYPES[extname(absolute).toLowerCase()];
    const body = await readFile(absolute, 'utf8');
    const headers: Record<string, string> = {
      'content-type': type!,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'x-request-id': requestId,
    };
    if (absolute.endsWith('.html')) headers['content-security-policy'] = CONTENT_SECURITY_POLICY;
    return { status: 200, headers, body: method === 'HEAD' ? undefined : body };
  }

  /** The file below the site folder a /docs/ path names, or undefined when there is none (or it may not be served). */
  function siteFile(relative: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(relative);
    } catch {
      return undefined;
    }
    if (decoded === '' || decoded.endsWith('/')) decoded += 'index.html';
    if (/[\\\0]/.test(decoded)) return undefined;
    const segments = decoded.split('/');
    if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined;
    if (!TYPES[extname(decoded).toLowerCase()]) return undefined;
    const absolute = resolve(siteDir, ...segments);
    if (!absolute.startsWith(siteDir + sep)) return undefined;
    try {
      if (!statSync(absolute).isFile()) return undefined;
      const real = realpathSync(absolute);
      if (!real.startsWith(realpathSync(siteDir) + sep)) return undefined;
      return real;
    } catch {
      return undefined;
    }
  }

  /** Answers /docs, /docs/…, /openapi.json and /openapi.yaml; anything else is not ours (undefined). */
  return async function serve(method: string, path: string, requestId: string): Promise<SiteResponse | undefined> {
    const isBundle = path === '/openapi.json' || path === '/openapi.yaml';
    if (!isBundle && path !== '/docs' && !path.startsWith('/docs/')) return undefined;
    const verb = method.toUpperCase();
    if (verb !== 'GET' && verb !== 'HEAD') {
      return problem('method_not_allowed', requestId, path, `${verb} is not allowed here; use GET, HEAD.`, { allow: 'GET, HEAD' });
    }
    if (isBundle) return file(verb, resolve(generatedDir, path.slice(1)), requestId);
    if (path === '/docs') return { status: 301, headers: { location: '/docs/', 'x-request-id': requestId }, body: undefined };
    let built = false;
    try {
      built = statSync(resolve(siteDir, 'index.html')).isFile();
    } catch {
      built = false;
    }
    if (!built) {
      return problem('not_found', requestId, path, 'The docs site is not built. Run `npm run docs` in the contract kit, then reload this page.');
    }
    const absolute = siteFile(path.slice('/docs/'.length));
    if (!absolute) return problem('not_found', requestId, path, 'No page of the docs site is at this path.');
    return file(verb, absolute, requestId);
  };
}
