// The in-process sandbox: takes a plain request, runs it through Prism's pipeline with the
// stateful engine as the response producer, and returns a plain response. Listeners
// (http/listener.ts) and in-process tests both call `handle`.
import type { IHttpRequest, IHttpResponse } from '@stoplight/prism-http';
import type { IHttpOperation } from '@stoplight/types';
import { loadOperations, readBundle, type OperationTable } from './contract/operations.ts';
import { createPipeline, type Diagnostic, type MockOptions } from './contract/prism-pipeline.ts';
import { isMediaType } from './contract/validators.ts';
import { authenticate, rateLimited, type Caller } from './gate/authenticate.ts';
import { parseCookies } from './http/cookies.ts';
import { createDocsSite } from './http/docs-site.ts';
import { createHostCheck } from './http/host-check.ts';
import { createControlGuard } from './control/guard.ts';
import { fail, MAX_VIOLATIONS, problemBody, ProblemError, statusOf } from './http/problem.ts';
import { createTurns, LARGE_BODY_BYTES } from './http/large-bodies.ts';
import { randomBase62 } from './security/secrets.ts';
import type { Services } from './services.ts';
import { recordKeyUse } from './domain/api-key-use.ts';
import type { Handlers, Reply } from './domain/handler.ts';
import type { KeyEnvironment, SandboxEvent } from './state/events.ts';
import { StorageUnavailableError } from './state/storage.ts';
import type { Store } from './state/store.ts';

export type IncomingRequest = {
  method: string;
  /** Path and query string as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, or 'too-large' past MAX_BODY_BYTES (the rest was discarded unread). */
  body: Buffer | 'too-large' | undefined;
  environment: KeyEnvironment;
  clientAddress: string;
  /** The port the request came in on (the listener's); in-process callers may leave it out. */
  localPort?: number;
};

export type OutgoingResponse = { status: number; headers: Record<string, string | string[]>; body: string | undefined };

type Surface = { table: OperationTable; handlers: Handlers; pipeline: ReturnType<typeof createPipeline> };

type RequestState = {
  requestId: string;
  environment: KeyEnvironment;
  cookies: Record<string, string>;
  bodyError?: ProblemError;
  rawBody?: string;
  /** The body as received and its Content-Type, parsed only once the request is let in (prepare). */
  unparsed?: { raw: Buffer | undefined; contentType: string | undefined };
  /** The auth gate's verdict, decided before the request is validated (prepare). */
  gate?: { caller: Caller } | { refused: ProblemError };
};

export const MAX_BODY_BYTES = 1024 * 1024;

export async function createApp(services: Services, handlers: { api: Handlers; control: Handlers }) {
  const requests = new WeakMap<IHttpRequest, RequestState>();
  const largeBodies = createTurns();
  const setCookies = new WeakMap<IHttpResponse, string[]>();

  function toResponse(reply: Reply, state: RequestState): IHttpResponse {
    const isProblem = reply.status >= 400;
    const response: IHttpResponse = {
      statusCode: reply.status,
      headers: {
        'content-type': isProblem ? 'application/problem+json' : 'application/json',
        'x-request-id': state.requestId,
        ...lowercaseKeys(reply.headers ?? {}),
      },
      body: reply.body,
    };
    if (reply.cookies?.length) {
      setCookies.set(response, reply.cookies);
      response.headers!['set-cookie'] = reply.cookies.join(', ');
    }
    return response;
  }

  function problemReply(error: ProblemError, state: RequestState, instance: string): Reply {
    return { status: statusOf(error.code), body: problemBody(error, state.requestId, instance), headers: error.headers };
  }

  async function buildSurface(bundle: string, surfaceHandlers: Handlers): Promise<Surface> {
    const table = await loadOperations(readBundle(bundle), readBundle(`${bundle}.prism`));
    for (const id of Object.keys(surfaceHandlers)) {
      if (!table.byId.has(id)) throw new Error(`handler ${id} has no operation in generated/${bundle}.json`);
    }
    const surface = { table, handlers: surfaceHandlers } as Surface;
    surface.pipeline = createPipeline(
      table.prism,
      (input, operation, violations) => produce(surface, input, operation, violations),
      (input, operation, mode) => prepare(surface, input, operation, mode),
    );
    return surface;
  }

  /**
   * Once routed, before validation: the auth gate decides first, so a request without valid
   * credentials is refused (401/403) without its body being parsed or validated — a 1 MiB body
   * sent without a key costs its reading only. Otherwise the body is parsed here (400/415 and
   * the I-JSON rules are kept for `produce`) and Prism validates it. Public operations, and
   * `Prefer` answers (Prism's mock, which authenticates nobody), are parsed and validated as
   * before.
   */
  function prepare(surface: Surface, input: IHttpRequest, operation: IHttpOperation, mode: 'engine' | 'mock'): boolean {
    const state = requests.get(input)!;
    const info = surface.table.byId.get(operation.iid!)!;
    if (mode === 'engine' && !state.gate) {
      try {
        state.gate = { caller: authenticate(info.auth, gateRequest(input, state), services) };
      } catch (error) {
        if (!(error instanceof ProblemError)) throw error;
        state.gate = { refused: error };
      }
    }
    if (state.gate && 'refused' in state.gate) return false;
    if (state.unparsed) {
      // Content sent to an operation that takes none is ignored (see produce): never parsed.
      const size = state.unparsed.raw?.length ?? 0;
      if (info.hasBody && info.maxBodyBytes !== undefined && size > info.maxBodyBytes) {
        // The operation's own, smaller limit (x-max-body-bytes): refused before any parsing, so
        // a flood of huge bodies to a public operation costs their reading only.
        state.bodyError = fail('payload_too_large', `This operation accepts request bodies of at most ${info.maxBodyBytes} bytes.`);
      } else if (info.hasBody) input.body = parseBody(state.unparsed.raw, state.unparsed.contentType, state);
      state.unparsed = undefined;
    }
    return true;
  }

  const gateRequest = (input: IHttpRequest, state: RequestState) => ({
    headers: input.headers ?? {},
    cookies: state.cookies,
    environment: state.environment,
  });

  async function produce(surface: Surface, input: IHttpRequest, operation: IHttpOperation, violations: Diagnostic[]) {
    const state = requests.get(input)!;
    const info = surface.table.byId.get(operation.iid!)!;
    const tracked = trackCommits();
    try {
      // (The gate decided in prepare, before validation; a refusal wins over any violation.)
      const gate = state.gate ?? { caller: authenticate(info.auth, gateRequest(input, state), services) };
      if ('refused' in gate) throw gate.refused;
      const { caller } = gate;
      if (info.hasBody && state.bodyError) throw state.bodyError;
      // Prism's own security check only sees that a credential is present; the gate decided.
      // Content sent to an operation that takes none has no meaning (RFC 9110 §9.3.1) and is
      // ignored, rather than answered with a status the operation does not document.
      const invalid = violations.filter((v) => v.severity === 0 && v.code !== 401 && !(v.code === 415 && !info.hasBody));
      if (invalid.length) {
        // The first MAX_VIOLATIONS, and how many more (problemBody bounds each one's size).
        throw fail('validation_failed', undefined, {
          validation: invalid.slice(0, MAX_VIOLATIONS).map((v) => ({
            location: v.path ?? [],
            severity: 'Error' as const,
            code: String(v.code ?? 'invalid'),
            message: v.message,
          })),
          ...(invalid.length > MAX_VIOLATIONS ? { violationsOmitted: invalid.length - MAX_VIOLATIONS } : {}),
        });
      }
      const handler = surface.handlers[info.operationId];
      if (!handler) return 'not-implemented' as const;
      const reply = await handler({
        services: tracked.services,
        caller,
        environment: state.environment,
        params: surface.table.pathParams(info, input.url.path),
        query: (input.url.query ?? {}) as Record<string, string | string[]>,
        headers: input.headers ?? {},
        body: input.body,
        rawBody: state.rawBody,
        requestId: state.requestId,
      });
      await tracked.settled();
      // An API key's use is an event, recorded for requests that succeeded only (an error emits none).
      if (caller.kind === 'apiKey' && reply.status < 400) recordKeyUse(services, caller.key.id);
      return toResponse(reply, state);
    } catch (error) {
      try {
        if (error instanceof ProblemError) {
          await tracked.settled();
          return toResponse(problemReply(error, state, input.url.path), state);
        }
        throw error;
      } catch (failure) {
        if (failure instanceof StorageUnavailableError) return toResponse(problemReply(storageUnavailable(failure), state, input.url.path), state);
        throw failure;
      }
    }
  }

  /**
   * The services a handler gets, noting whether it committed. A request that committed is
   * answered once its events are durable (and with them everything applied before). One that
   * only read waits until what it may have read is durable: with --data, writes are applied
   * before their sync, and a read must never show one that is then undone.
   */
  function trackCommits() {
    const store = services.store;
    let committed = false;
    const view: Store = Object.create(store, {
      commit: {
        value: (...events: SandboxEvent[]) => {
          committed = true;
          return store.commit(...events);
        },
      },
    });
    return {
      services: Object.create(services, { store: { value: view } }) as Services,
      settled: async () => {
        if (!committed) await store.settled();
      },
    };
  }

  const api = await buildSurface('openapi', handlers.api);
  const docsSite = createDocsSite();
  const control = services.config.control ? await buildSurface('sandbox-control', handlers.control) : undefined;
  const hostServed = createHostCheck(services.config.host ?? '127.0.0.1', services.config.allowedHosts);
  const controlGuard = createControlGuard(services.config.controlToken);
  /** The port of a listener as its URL says (for in-process requests, which bring no socket). */
  const listenerPort = (environment: KeyEnvironment) => Number(/:(\d+)$/.exec(environment === 'live' ? services.config.productionUrl : services.config.sandboxUrl)?.[1]);

  async function handle(req: IncomingRequest): Promise<OutgoingResponse> {
    const requestId = `req_${randomBase62(16)}`;
    const headers = normalizeHeaders(req.headers);
    const { path, query } = splitUrl(req.url);
    const state: RequestState = { requestId, environment: req.environment, cookies: parseCookies(headers.cookie) };
    const finish = (response: IHttpResponse, violations: Diagnostic[] = []): OutgoingResponse => {
      // Prism's mock writes header names as the contract spells them; HTTP names are case-insensitive.
      const out: Record<string, string | string[]> = lowercaseKeys(response.headers ?? {});
      out['x-request-id'] = requestId;
      const cookies = setCookies.get(response);
      if (cookies) out['set-cookie'] = cookies;
      if (violations.length) out['sl-violations'] = JSON.stringify(violations.map(({ path: p, message }) => ({ path: p, message })));
      if (response.body !== undefined && !out['content-type']) out['content-type'] = 'application/json';
      return { status: response.statusCode, headers: out, body: response.body === undefined ? undefined : JSON.stringify(response.body) };
    };
    // Answers decided before an operation is known (no route, body too large, client limit).
    const bare = (error: ProblemError, extraHeaders: Record<string, string> = {}) => {
      const response = toResponse(problemReply(error, state, path), state);
      response.headers = { ...response.headers, ...extraHeaders };
      return finish(response);
    };

    try {
      // Only the Host values this sandbox serves (DNS rebinding), before anything else, on every
      // path of both listeners: 421 (mock/http/host-check.ts).
      if (!hostServed(headers.host, req.localPort ?? listenerPort(req.environment))) return bare(fail('misdirected_request'));
      // /docs/ (the built docs site), /openapi.json and /openapi.yaml: not part of the public
      // contract, production listener only (mock/http/docs-site.ts).
      const site = req.environment === 'live' ? await docsSite(req.method, path, requestId) : undefined;
      if (site) return site;
      const isControl = path.startsWith('/__sandbox/');
      // The control surface lives on the production listener only (on the other: an unknown path).
      const surface = isControl ? (req.environment === 'live' ? control : undefined) : api;
      // The Dashboard API lives on the production listener only.
      if (!surface || (req.environment === 'test' && path.startsWith('/dashboard/'))) return bare(fail('not_found'));
      if (isControl) {
        // Cross-site, control token, JSON only (mock/control/guard.ts); judged on the headers as sent.
        const refused = controlGuard({ method: req.method, headers: normalizeHeaders(req.headers), hasBody: req.body === 'too-large' || !!req.body?.length });
        if (refused) return bare(refused);
      }
      if (!isControl) {
        const decision = services.limits.client.take(req.clientAddress);
        if (!decision.allowed) return bare(rateLimited(decision));
      }
      if (req.body === 'too-large' || (req.body && req.body.length > MAX_BODY_BYTES)) return bare(fail('payload_too_large'));
      const input: IHttpRequest = {
        method: req.method.toLowerCase() as IHttpRequest['method'],
        url: { path, query },
        // A Content-Type that is not a media type at all makes Prism's validator throw: the
        // body was already refused for it (415, parseBody), so Prism does not see it.
        headers: headers['content-type'] === undefined || isMediaType(headers['content-type']) ? headers : withoutContentType(headers),
        // Parsed in prepare, once the operation is known and the gate let the request in.
        body: undefined,
      };
      state.unparsed = { raw: req.body as Buffer | undefined, contentType: headers['content-type'] };
      requests.set(input, state);
      // (A path that does not percent-decode is a 422 on its parameter, never mocked.)
      // A body over 64 KiB is parsed and validated in its turn, never beside another (large-bodies.ts).
      const release = req.body instanceof Buffer && req.body.length > LARGE_BODY_BYTES ? await largeBodies.take() : undefined;
      let result: Awaited<ReturnType<typeof surface.pipeline.run>>;
      try {
        result = await surface.pipeline.run(input, services.config.control && !isControl && isDecodable(path) ? preferredMock(headers.prefer) : undefined);
      } finally {
        release?.();
      }
      if (result.kind === 'no-route') {
        if (result.status === 404) return bare(fail('not_found'));
        const allowed = surface.table.allowedMethods(path);
        return bare(
          fail('method_not_allowed', `${req.method.toUpperCase()} is not allowed here; use ${allowed.join(', ')}.`, { allowedMethods: allowed }),
          { allow: allowed.join(', ') },
        );
      }
      return finish(result.response, result.violations);
    } catch (error) {
      // A bug, never an expected answer: keep serving and say nothing internal.
      console.error(`[sandbox] ${requestId} failed: ${(error as Error)?.name ?? 'Error'}`);
      return {
        status: 500,
        headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
        body: JSON.stringify({
          type: 'https://docs.pacspace.io/errors/internal_error',
          title: 'Internal error',
          status: 500,
          detail: 'The sandbox failed to handle this request.',
          code: 'internal_error',
          requestId,
        }),
      };
    }
  }

  return { handle, api, control };
}

/** `503 storage_unavailable`: the change was not stored (disk full, I/O error), nothing changed. */
function storageUnavailable(error: StorageUnavailableError): ProblemError {
  return fail(
    'storage_unavailable',
    `The sandbox could not store this change (${error.reason}), so nothing was changed; retry after the Retry-After delay.`,
    {},
    { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
  );
}

function parseBody(raw: Buffer | undefined, contentType: string | undefined, state: RequestState): unknown {
  if (!raw || raw.length === 0) return undefined;
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (media !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(media)) {
    state.bodyError = fail('unsupported_media_type');
    return undefined;
  }
  let body: unknown;
  try {
    state.rawBody = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    body = JSON.parse(state.rawBody);
  } catch (error) {
    // Never quote the parser's message: it echoes parts of the body, which may hold a secret.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    state.bodyError = fail('invalid_json', `The request body is not valid JSON${position ? ` (at position ${position})` : ''}.`);
    return undefined;
  }
  // (Both refused only where the operation takes a body; see produce.)
  // `null` is a body, not the absence of one: Prism would skip validating it.
  if (body === null) {
    state.bodyError = fail('validation_failed', 'The request body is null; send an object, or no body where it is optional.', {
      validation: [{ location: ['body'], severity: 'Error', code: 'type', message: 'must be object' }],
    });
  }
  // I-JSON (RFC 7493): no lone surrogate in any string. Well-formed UTF-8 carries none, so
  // only a \uD800-\uDFFF escape can make one: without such an escape there is nothing to walk.
  if (/\\u[dD][89a-fA-F]/.test(state.rawBody)) {
    const { validation, omitted } = loneSurrogates(body);
    if (validation.length) {
      state.bodyError = fail('validation_failed', 'A string in the request body holds a lone UTF-16 surrogate, which I-JSON forbids.', {
        validation,
        ...(omitted ? { violationsOmitted: omitted } : {}),
      });
    }
  }
  return body;
}

type Violation = { location: string[]; severity: 'Error'; code: string; message: string };

/**
 * Where strings hold a lone surrogate (a member name: at its object): the first
 * MAX_VIOLATIONS, and how many more. Iterative, with the path built only for a listed find: a
 * 1 MiB body may nest half a million levels deep.
 */
function loneSurrogates(body: unknown): { validation: Violation[]; omitted: number } {
  type At = { key: string; parent: At } | undefined;
  const locationOf = (at: At) => {
    const keys: string[] = [];
    for (let a = at; a; a = a.parent) keys.push(a.key);
    return ['body', ...keys.reverse()];
  };
  const lone = /\p{Cs}/u; // with the u flag a surrogate pair is one code point, never Cs
  const found: Violation[] = [];
  let omitted = 0;
  const add = (at: At, message: string) => {
    if (found.length < MAX_VIOLATIONS) found.push({ location: locationOf(at), severity: 'Error', code: 'i-json', message });
    else omitted++;
  };
  const stack: Array<[unknown, At]> = [[body, undefined]];
  while (stack.length) {
    const [node, at] = stack.pop()!;
    if (typeof node === 'string') {
      if (lone.test(node)) add(at, 'must not contain a lone UTF-16 surrogate');
    } else if (node && typeof node === 'object') {
      const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, value] = entries[i]!;
        if (!Array.isArray(node) && lone.test(key)) {
          add(at, 'must not have a member name with a lone UTF-16 surrogate');
        } else if ((value !== null && typeof value === 'object') || typeof value === 'string') {
          stack.push([value, { key, parent: at }]);
        }
      }
    }
  }
  return { validation: found, omitted };
}

/** `Prefer: code=404, example=name, dynamic=true`, as Prism reads it. */
function preferredMock(prefer: string | undefined): MockOptions | undefined {
  if (!prefer) return undefined;
  const pairs = Object.fromEntries(
    prefer.split(/[,;]/).map((p) => p.trim().split('=').map((s) => s.trim())).filter((p) => p.length === 2),
  ) as Record<string, string>;
  if (!pairs.code && !pairs.example && !pairs.dynamic) return undefined;
  return {
    ...(pairs.code && /^\d{3}$/.test(pairs.code) ? { code: Number(pairs.code) } : {}),
    ...(pairs.example ? { exampleKey: pairs.example } : {}),
    ...(pairs.dynamic ? { dynamic: pairs.dynamic === 'true' } : {}),
  };
}

function isDecodable(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

function splitUrl(url: string): { path: string; query: Record<string, string | string[]> } {
  const i = url.indexOf('?');
  const rawPath = i < 0 ? url : url.slice(0, i);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(i < 0 ? '' : url.slice(i + 1))) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { path: rawPath || '/', query };
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  const { 'content-type': _dropped, ...rest } = headers;
  return rest;
}

function normalizeHeaders(headers: IncomingRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

const lowercaseKeys = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
