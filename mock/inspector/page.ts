// The request inspector's web page, `GET /__sandbox/inspector/`: one HTML file, one script and
// one style sheet from mock/inspector/page/ (shipped in the package as dist/inspector/). The
// page itself holds nothing secret, so a browser may GET it like /docs/; everything it shows
// it fetches from the control surface, whose guard (cross-site, control token, JSON only)
// applies as to any other client. A strict Content-Security-Policy makes the browser refuse
// any request to another origin, any inline script and any framing.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspectorPageDir } from '../../contract/files.ts';
import type { OutgoingResponse } from '../app.ts';
import { fail, problemBody, statusOf } from '../http/problem.ts';
import { INSPECTOR_PAGE_PATH } from './history.ts';

/** The page's files: request path below INSPECTOR_PAGE_PATH → file and type. Nothing else is served. */
const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/inspector.js': { file: 'inspector.js', type: 'text/javascript; charset=utf-8' },
  '/inspector.css': { file: 'inspector.css', type: 'text/css; charset=utf-8' },
};

export const INSPECTOR_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export type InspectorPageOptions = { pageDir?: string };

/**
 * `(method, path, requestId)` → the page's answer, or undefined for a path that is not the
 * page's (the caller goes on routing it). The caller serves it on the production listener
 * only, and only while the control surface is on.
 */
export function createInspectorPage(options: InspectorPageOptions = {}) {
  const dir = options.pageDir ?? inspectorPageDir;
  const cache = new Map<string, string>();

  const problem = (code: 'not_found' | 'method_not_allowed', requestId: string, path: string, detail: string, headers: Record<string, string> = {}): OutgoingResponse => ({
    status: statusOf(code),
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, ...headers },
    body: JSON.stringify(problemBody(fail(code, detail), requestId, path)),
  });

  return async function serve(method: string, path: string, requestId: string): Promise<OutgoingResponse | undefined> {
    if (path !== INSPECTOR_PAGE_PATH && !path.startsWith(`${INSPECTOR_PAGE_PATH}/`)) return undefined;
    const verb = method.toUpperCase();
    if (verb !== 'GET' && verb !== 'HEAD') {
      return problem('method_not_allowed', requestId, path, `${verb} is not allowed here; use GET, HEAD.`, { allow: 'GET, HEAD' });
    }
    // Relative URLs in the page resolve against the folder: the bare path redirects to it.
    if (path === INSPECTOR_PAGE_PATH) return { status: 301, headers: { location: `${INSPECTOR_PAGE_PATH}/`, 'x-request-id': requestId }, body: undefined };
    const entry = FILES[path.slice(INSPECTOR_PAGE_PATH.length)];
    if (!entry) return problem('not_found', requestId, path, 'The inspector page has no file at this path.');
    let body = cache.get(entry.file);
    if (body === undefined) {
      body = await readFile(join(dir, entry.file), 'utf8');
      cache.set(entry.file, body);
    }
    return {
      status: 200,
      headers: {
        'content-type': entry.type,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': INSPECTOR_CONTENT_SECURITY_POLICY,
        'x-request-id': requestId,
      },
      body: verb === 'HEAD' ? undefined : body,
    };
  };
}
