// Every request the suite makes goes through `exchange`, which records it: at the end of a
// run each recorded response is validated against the contract and scanned for secrets.
export type Exchange = {
  id: number;
  method: string;
  url: string;
  /** The request path without the base URL's own path prefix, for matching operations. */
  path: string;
  requestHeaders: Record<string, string>;
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  text: string;
  /** Parsed JSON body, or undefined. */
  body: any;
};

export type SendOptions = {
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string | Buffer;
  timeoutMs?: number;
};

export function createRecorder() {
  const exchanges: Exchange[] = [];

  async function exchange(method: string, baseUrl: string, path: string, options: SendOptions = {}): Promise<Exchange> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body: string | Buffer | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    } else if (options.raw !== undefined) {
      body = options.raw;
    }
    const url = `${baseUrl.replace(/\/$/, '')}${path}`;
    const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs ?? 15_000) });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    const record: Exchange = {
      id: exchanges.length + 1,
      method,
      url,
      path: path.split('?')[0]!,
      requestHeaders: headers,
      status: res.status,
      headers: Object.fromEntries([...res.headers].map(([k, v]) => [k.toLowerCase(), v])),
      setCookies: res.headers.getSetCookie(),
      text,
      body: parsed,
    };
    exchanges.push(record);
    return record;
  }

  return { exchanges, exchange };
}

export type Recorder = ReturnType<typeof createRecorder>;

/** A client bound to one base URL, with a cookie jar like curl's -b/-c. */
export function createClient(recorder: Recorder, baseUrl: string) {
  const jar = new Map<string, string>();
  const send = async (method: string, path: string, options: SendOptions & { noCookies?: boolean } = {}) => {
    const headers = { ...(options.headers ?? {}) };
    if (!options.noCookies && jar.size && !Object.keys(headers).some((h) => h.toLowerCase() === 'cookie')) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const ex = await recorder.exchange(method, baseUrl, path, { ...options, headers });
    for (const cookie of ex.setCookies) {
      const [pair, ...attrs] = cookie.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (!value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
    return ex;
  };
  return {
    baseUrl,
    jar,
    send,
    get: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('GET', path, o),
    post: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('POST', path, o),
    patch: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('PATCH', path, o),
    delete: (path: string, o?: SendOptions & { noCookies?: boolean }) => send('DELETE', path, o),
  };
}

export type Client = ReturnType<typeof createClient>;
