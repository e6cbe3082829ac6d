// A small HTTP client for tests against a running sandbox: real requests over loopback,
// a cookie jar like curl's -b/-c, and strict contract checking — any response the sandbox
// flagged with `sl-violations` (Prism's response validation) fails the test at once.
export type TestResponse = {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body (undefined when there is none). */
  body: any;
  setCookies: string[];
};

export type RequestOptions = {
  headers?: Record<string, string>;
  /** Sent as JSON with content-type application/json. */
  json?: unknown;
  /** Sent as is (for malformed-body tests). */
  raw?: string | Buffer;
  /** Do not send the cookie jar. */
  noCookies?: boolean;
};

export function createHttpClient(baseUrl: string) {
  const jar = new Map<string, string>();

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    if (!options.noCookies && jar.size && !('cookie' in headers)) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const setCookies = res.headers.getSetCookie();
    for (const cookie of setCookies) {
      const [pair, ...attrs] = cookie.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const violations = res.headers.get('sl-violations');
    if (violations) {
      throw new Error(`${method} ${path} → ${res.status} violates the contract: ${violations}\n${text}`);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, text, body: parsed, setCookies };
  }

  return {
    baseUrl,
    jar,
    request,
    get: (path: string, o?: RequestOptions) => request('GET', path, o),
    post: (path: string, o?: RequestOptions) => request('POST', path, o),
    patch: (path: string, o?: RequestOptions) => request('PATCH', path, o),
    delete: (path: string, o?: RequestOptions) => request('DELETE', path, o),
  };
}

export type HttpClient = ReturnType<typeof createHttpClient>;
