// Who may use the /__sandbox/ control surface over HTTP: the person running the sandbox, never
// a web page they happen to visit. Checked in mock/app.ts before the control request is routed
// (after the `Host` check, mock/http/host-check.ts, and only on the production listener):
//
// 1. Cross-site requests are refused (403 `cross_site_request`): an `Origin` other than the
//    sandbox's own (`http://` + the request's `Host`), `Origin: null`, or `Sec-Fetch-Site:
//    cross-site` / `same-site` (another port of 127.0.0.1 is the same site).
// 2. With a control token (`--control-token`), `X-Sandbox-Control-Token` must carry it (401
//    `unauthenticated`); compared in constant time, never logged or echoed.
// 3. An unsafe request (POST, PUT, PATCH, DELETE) with a body, or with any `Content-Type`, must
//    declare JSON (415 `unsupported_media_type`): a browser can send a form or text/plain
//    without asking first, but JSON only after a CORS preflight, which the sandbox never
//    answers (no `Access-Control-Allow-*` header is ever sent).
//
// Tools (curl, Node's fetch, the SDK, tests) send no `Origin` and no `Sec-Fetch-Site`.
import { createHash, timingSafeEqual } from 'node:crypto';
import { fail, type ProblemError } from '../http/problem.ts';

/** The header that carries the control token (`--control-token`). */
export const CONTROL_TOKEN_HEADER = 'x-sandbox-control-token';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** A control token as the sandbox accepts it: 1 to 256 visible ASCII characters (a header value, no spaces). */
export const isControlToken = (token: string) => /^[\x21-\x7e]{1,256}$/.test(token);

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export type ControlRequest = {
  method: string;
  /** Lower-cased header names, as mock/app.ts normalizes them. */
  headers: Record<string, string>;
  /** Whether the request carries a body (any bytes, or one too large to read). */
  hasBody: boolean;
};

/** The guard of a sandbox with this control token (undefined: none). */
export function createControlGuard(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return (req: ControlRequest): ProblemError | undefined => {
    const { headers } = req;
    const site = headers['sec-fetch-site']?.trim().toLowerCase();
    if (site === 'cross-site' || site === 'same-site') {
      return fail('cross_site_request', `The control surface refuses requests from other sites (Sec-Fetch-Site: ${site}); call it from a terminal, a test or a script.`);
    }
    const origin = headers.origin;
    if (origin !== undefined && !isOwnOrigin(origin, headers.host)) {
      return fail('cross_site_request', 'The control surface refuses requests whose Origin is not the sandbox itself; call it from a terminal, a test or a script.');
    }
    if (expected) {
      const given = headers[CONTROL_TOKEN_HEADER];
      // Both sides hashed: equal lengths for timingSafeEqual, and nothing about the token's length leaks.
      if (given === undefined || !timingSafeEqual(digest(given), expected)) {
        return fail('unauthenticated', 'This sandbox was started with a control token: send it in the X-Sandbox-Control-Token header.');
      }
    }
    const method = req.method.toUpperCase();
    if (UNSAFE.has(method) && (req.hasBody || headers['content-type'] !== undefined) && !isJson(headers['content-type'])) {
      return fail('unsupported_media_type', 'Control requests that send a body (or a Content-Type) must send application/json.');
    }
    return undefined;
  };
}

/** `Origin` names the origin the request was sent to: `http://` and the request's own `Host`. */
function isOwnOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const from = new URL(origin);
    const self = new URL(`http://${host}`);
    return from.protocol === 'http:' && from.origin === self.origin && origin.replace(/\/$/, '').toLowerCase() === from.origin;
  } catch {
    return false; // includes `Origin: null`
  }
}

function isJson(contentType: string | undefined): boolean {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}
