// The sandbox's one request path, read top to bottom: a plain request in, a plain response out.
// Listeners (http/listener.ts) and in-process tests both call `handle`.
//
//   1. parse        Host, surface (docs site, control surface, public API), client limits, size
//   2. route        the surface's compiled operation table (contract/operation-table.ts): 404, 405
//   3. chaos        what the integrator asked to break (public API only; an injected policy)
//   4. authenticate the auth gate (gate/authenticate.ts): 401/403/429 before the body is read
//   5. validate     the body parsed as JSON (http/json-body.ts), then the compiled checks; a
//                   request they do not accept goes to Prism's validator, which decides and
//                   words the 422 (contract/prism.ts)
//   6. handle       the operation's domain handler (domain/, control/), or Prism's mock for an
//                   operation without one and for `Prefer`; answered once its events are durable
//   7. check        the response against the contract; a mismatch is flagged in `sl-violations`
//   8. answer       headers, cookies, JSON; the exchange is handed to the observer (inspector)
import { chaosAnswer } from './chaos/answer.ts';
import { compileOperationTable, type OperationTable, type TableOperation } from './contract/operation-table.ts';
import type { PrismRequest, MockPreferences, Diagnostic } from './contract/prism.ts';
import { authenticate, rateLimited, type Caller } from './gate/authenticate.ts';
import { parseCookies } from './http/cookies.ts';
import { createDocsSite } from './http/docs-site.ts';
import { createInspectorPage } from './inspector/page.ts';
import type { AuthVerdict, ChaosDecision, ChaosPolicy, Exchange, ExchangeObserver } from './http/exchange.ts';
import { createHostCheck } from './http/host-check.ts';
import { parseJsonBody, type ParsedBody } from './http/json-body.ts';
import { createControlGuard } from './control/guard.ts';
import { fail, MAX_VIOLATIONS, problemBody, ProblemError, statusOf } from './http/problem.ts';
import { createTurns, LARGE_BODY_BYTES } from './http/large-bodies.ts';
import { randomId } from './security/secrets.ts';
import type { Services } from './services.ts';
import { recordKeyUse } from './domain/api-key-use.ts';
import type { Handlers, Reply } from './domain/handler.ts';
import type { KeyEnvironment, SandboxEvent } from './state/events.ts';
import { StorageUnavailableError } from './state/storage.ts';
import type { Store } from './state/store.ts';
import { loadBundle } from '../contract/document.ts';
import { parseMediaType } from '../contract/media-type.ts';
import { isDecodable } from '../contract/path-template.ts';
import type { Logger } from './logger.ts';

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

export type OutgoingResponse = {
  status: number;
  headers: Record<string, string | string[]>;
  body: string | undefined;
  /** Chaos only: reset the connection, or never answer, instead of writing this response. */
  abort?: 'reset' | 'hang';
};

export type AppOptions = {
  /** Told of every exchange once answered (the request inspector). */
  observe?: ExchangeObserver;
  /** Chaos for the public API (mock/chaos/). */
  chaos?: ChaosPolicy;
  /** Where a request that failed inside (a bug) is reported: its id and the error's name only. Default: stderr. */
  log?: Pick<Logger, 'error'>;
};

export const MAX_BODY_BYTES = 1024 * 1024;

type Surface = { name: 'api' | 'control'; table: OperationTable; handlers: Handlers };

/** Where a request stands as it goes down the path: what the inspector is told at the end. */
type Trace = { surface: Exchange['surface']; operationId?: string; auth?: AuthVerdict; violations: Exchange['violations']; problemCode?: string; chaos?: string };

export async function createApp(services: Services, handlers: { api: Handlers; control: Handlers }, options: AppOptions = {}) {
  const surfaceOf = (name: Surface['name'], bundle: string, surfaceHandlers: Handlers): Surface => {
    const table = compileOperationTable(loadBundle(bundle));
    for (const id of Object.keys(surfaceHandlers)) {
      if (!table.byId.has(id)) throw new Error(`handler ${id} has no operation in generated/${bundle}.json`);
    }
    return { name, table, handlers: surfaceHandlers };
  };
  const api = surfaceOf('api', 'openapi', handlers.api);
  const control = services.config.control ? surfaceOf('control', 'sandbox-control', handlers.control) : undefined;
  const docsSite = createDocsSite();
  const inspectorPage = createInspectorPage();
  const hostServed = createHostCheck(services.config.host ?? '127.0.0.1', services.config.allowedHosts);
  const controlGuard = createControlGuard(services.config.controlToken);
  const largeBodies = createTurns();
  /** The port of a listener as its URL says (for in-process requests, which bring no socket). */
  const listenerPort = (environment: KeyEnvironment) => Number(/:(\d+)$/.exec(environment === 'live' ? services.config.productionUrl : services.config.sandboxUrl)?.[1]);

  async function handle(req: IncomingRequest): Promise<OutgoingResponse> {
    const started = performance.now();
    const arrivedAt = services.clock.now();
    const requestId = randomId('req_', 16);
    const headers = normalizeHeaders(req.headers);
    const trace: Trace = { surface: 'none', violations: [] };
    let response: OutgoingResponse;
    try {
      response = await answer(req, headers, requestId, trace);
    } catch (error) {
      // A bug, never an expected answer: keep serving and say nothing internal.
      const line = `${requestId} failed: ${(error as Error)?.name ?? 'Error'}`;
      if (options.log) options.log.error(line);
      else process.stderr.write(`[sandbox] error: ${line}\n`);
      response = internalError(requestId);
    }
    if (options.observe) options.observe(exchangeOf(req, requestId, arrivedAt, performance.now() - started, headers, trace, response));
    return response;
  }

  async function answer(req: IncomingRequest, headers: Record<string, string>, requestId: string, trace: Trace): Promise<OutgoingResponse> {
    const { path, query } = splitUrl(req.url);

    // 1. Parse. Only the Host values this sandbox serves (DNS rebinding), on every path of both
    // listeners, before anything else: 421 (http/host-check.ts).
    if (!hostServed(headers.host, req.localPort ?? listenerPort(req.environment))) return problemAnswer(requestId, path, trace, fail('misdirected_request'));
    // /docs/, /openapi.json, /openapi.yaml: the built docs site, production listener only.
    const site = req.environment === 'live' ? await docsSite(req.method, path, requestId) : undefined;
    if (site) {
      trace.surface = 'docs';
      return site;
    }
    // The request inspector's page (inspector/page.ts), with the control surface: a browser GETs it
    // before the guard (without the token); every fetch it makes goes through the guard.
    const page = req.environment === 'live' && control ? await inspectorPage(req.method, path, requestId) : undefined;
    if (page) {
      trace.surface = 'control';
      return page;
    }
    const isControl = path.startsWith('/__sandbox/');
    // The control surface lives on the production listener only; so does the Dashboard API.
    const surface = isControl ? (req.environment === 'live' ? control : undefined) : api;
    if (!surface || (req.environment === 'test' && path.startsWith('/dashboard/'))) return problemAnswer(requestId, path, trace, fail('not_found'));
    trace.surface = surface.name;
    if (isControl) {
      // Cross-site, control token, JSON only (control/guard.ts); judged on the headers as sent.
      const refused = controlGuard({ method: req.method, headers, hasBody: req.body === 'too-large' || !!req.body?.length });
      if (refused) return problemAnswer(requestId, path, trace, refused);
    } else {
      const decision = services.limits.client.take(req.clientAddress);
      if (!decision.allowed) return problemAnswer(requestId, path, trace, rateLimited(decision));
    }
    if (req.body === 'too-large' || (req.body && req.body.length > MAX_BODY_BYTES)) return problemAnswer(requestId, path, trace, fail('payload_too_large'));

    // 2. Route.
    const route = surface.table.route(req.method, path);
    if (route.kind === 'not-found') return problemAnswer(requestId, path, trace, fail('not_found'));
    if (route.kind === 'method-not-allowed') {
      return problemAnswer(requestId, path, trace, fail('method_not_allowed', `${req.method.toUpperCase()} is not allowed here; use ${route.allowed.join(', ')}.`, { allowedMethods: route.allowed }), {
        allow: route.allowed.join(', '),
      });
    }
    const op = route.operation;
    trace.operationId = op.operationId;

    // 3. Chaos: a delay, then perhaps a fault instead of the real answer (nothing is changed).
    const chaos = surface.name === 'api' ? options.chaos?.({ operationId: op.operationId, environment: req.environment, method: req.method }) : undefined;
    if (chaos) {
      trace.chaos = chaos.description;
      const faulted = await applyChaos(chaos, { requestId, instance: path }, trace);
      if (faulted) return faulted;
    }

    // `Prefer: code=…, example=…` (control surface on): Prism's mock answers a valid request;
    // it authenticates nobody. A status or example the operation does not document cannot be
    // produced: the preference is then ignored (RFC 7240) and the request answered as usual.
    const preferences = headers.prefer && services.config.control && surface.name === 'api' && isDecodable(path) ? preferredMock(headers.prefer) : undefined;
    if (preferences) {
      const checked = await readAndValidate(req, op, { path, query, headers, rawParams: route.rawParams }, requestId, trace);
      if ('status' in checked) return checked;
      const mocked = await op.prism.mock(op.operationId, toPrismRequest(req.method, path, query, headers, checked.body), preferences);
      if (mocked) return write({ status: mocked.statusCode, headers: mocked.headers, body: mocked.body }, requestId);
    }

    // 4. Authenticate: a request without valid credentials is refused before its body is read.
    let caller: Caller;
    try {
      caller = authenticate(op.auth, { headers, cookies: parseCookies(headers.cookie), environment: req.environment }, services);
    } catch (error) {
      if (!(error instanceof ProblemError)) throw error;
      trace.auth = { kind: 'refused', code: error.code };
      return problemAnswer(requestId, path, trace, error);
    }
    trace.auth = verdictOf(caller);

    // 5. Validate: in this turn when the compiled checks accept the request as it is (most do).
    const at = { path, query, headers, rawParams: route.rawParams };
    let parsed = acceptedAsIs(req, op, at);
    if (!parsed) {
      const checked = await readAndValidate(req, op, at, requestId, trace);
      if ('status' in checked) return checked;
      parsed = checked;
    }

    // 6. Handle.
    const handler = surface.handlers[op.operationId];
    let reply: Reply;
    if (!handler) {
      const mocked = (await op.prism.mock(op.operationId, toPrismRequest(req.method, path, query, headers, parsed.body)))!;
      reply = { status: mocked.statusCode, headers: mocked.headers, body: mocked.body };
    } else {
      const tracked = new CommitTracking(services);
      try {
        const replied = handler({
          services: tracked.services,
          caller,
          environment: req.environment,
          params: Object.fromEntries(op.template.names.map((name) => [name, decodeURIComponent(route.rawParams[name] ?? '')])),
          query,
          headers,
          body: parsed.body,
          rawBody: parsed.raw,
          requestId,
        });
        // A handler that answered at once is not waited for a turn.
        reply = replied instanceof Promise ? await replied : replied;
        const unsettled = tracked.unsettled();
        if (unsettled) await unsettled;
      } catch (error) {
        if (error instanceof StorageUnavailableError) return problemAnswer(requestId, path, trace, storageUnavailable(error));
        if (!(error instanceof ProblemError)) throw error;
        try {
          await tracked.settled();
        } catch (failure) {
          if (failure instanceof StorageUnavailableError) return problemAnswer(requestId, path, trace, storageUnavailable(failure));
          throw failure;
        }
        return problemAnswer(requestId, path, trace, error);
      }
      // An API key's use is an event, recorded for requests that succeeded only.
      if (caller.kind === 'apiKey' && reply.status < 400) recordKeyUse(services, caller.key.id);
    }
    if (reply.status >= 400) trace.problemCode = (reply.body as { code?: string } | undefined)?.code;

    // 7. Check the response against the contract, and 8. answer.
    // The compiled check judges the body the handler gave (an object, not yet read back from the
    // JSON written): for the plain values handlers give, what it accepts serialises to a body it
    // accepts too (a Date, a NaN or an undefined member fails it); whatever it does not accept is
    // judged again on the JSON as written, and by Prism.
    const out = write(reply, requestId);
    if (shadowValidation || !op.checkResponse({ status: out.status, headers: hasArrayValue(out.headers) ? joinedHeaders(out.headers) : out.headers, body: reply.body })) {
      const violations = await responseViolations(op, out, { method: req.method, path, query, headers, body: parsed.body });
      if (violations.length) out.headers['sl-violations'] = JSON.stringify(violations.map(({ path: p, message }) => ({ path: p, message })));
    }
    return out;
  }

  /**
   * readAndValidate's answer when it is known in this turn: a request (with a body small enough
   * to parse now) that the compiled checks accept as it is. Undefined otherwise, and
   * readAndValidate decides, and words any refusal.
   */
  function acceptedAsIs(req: IncomingRequest, op: TableOperation, at: { query: Record<string, string | string[]>; headers: Record<string, string>; rawParams: Record<string, string> }): ParsedBody | undefined {
    if (shadowValidation) return undefined;
    const raw = req.body as Buffer | undefined;
    if (raw && raw.length > LARGE_BODY_BYTES) return undefined;
    const parsed = parseBody(raw, op, at.headers['content-type']);
    if (parsed instanceof ProblemError) return undefined;
    return op.checkRequest({ headers: at.headers, query: at.query, pathParams: at.rawParams, body: parsed.body }) ? parsed : undefined;
  }

  /** The body as the operation takes it: none, a refusal (too large, not JSON), or its JSON. */
  function parseBody(raw: Buffer | undefined, op: TableOperation, contentType: string | undefined): ParsedBody | ProblemError {
    if (!op.hasBody || !raw?.length) return { body: undefined, raw: undefined };
    if (op.maxBodyBytes !== undefined && raw.length > op.maxBodyBytes) {
      return fail('payload_too_large', `This operation accepts request bodies of at most ${op.maxBodyBytes} bytes.`);
    }
    return parseJsonBody(raw, contentType);
  }

  /**
   * The body parsed as JSON and the request checked against the operation: the parsed body, or
   * the refusal. Content sent to an operation that takes none has no meaning (RFC 9110 §9.3.1)
   * and is ignored. A body over 64 KiB is parsed and validated in its turn (large-bodies.ts).
   */
  async function readAndValidate(
    req: IncomingRequest,
    op: TableOperation,
    at: { path: string; query: Record<string, string | string[]>; headers: Record<string, string>; rawParams: Record<string, string> },
    requestId: string,
    trace: Trace,
  ): Promise<{ body: unknown; raw: string | undefined } | OutgoingResponse> {
    const raw = req.body as Buffer | undefined;
    const release = raw && raw.length > LARGE_BODY_BYTES ? await largeBodies.take() : undefined;
    try {
      const parsed = parseBody(raw, op, at.headers['content-type']);
      if (parsed instanceof ProblemError) return problemAnswer(requestId, at.path, trace, parsed);
      const violations = await requestViolations(op, { method: req.method, ...at, body: parsed.body });
      if (!violations.length) return parsed;
      trace.violations = violations.map(({ location, code, message }) => ({ location, code, message }));
      return problemAnswer(
        requestId,
        at.path,
        trace,
        fail('validation_failed', undefined, {
          validation: violations.slice(0, MAX_VIOLATIONS),
          ...(violations.length > MAX_VIOLATIONS ? { violationsOmitted: violations.length - MAX_VIOLATIONS } : {}),
        }),
      );
    } finally {
      release?.();
    }
  }

  /**
   * Violations of the request, as the 422 lists them. The compiled check accepts almost every
   * valid request on its own; what it does not accept, Prism judges and words — except what the
   * table words itself (ownViolations: an undecodable path parameter, an empty header, Infinity).
   */
  async function requestViolations(
    op: TableOperation,
    request: { method: string; path: string; query: Record<string, string | string[]>; headers: Record<string, string>; rawParams: Record<string, string>; body: unknown },
  ) {
    const own = op.ownViolations({ headers: request.headers, query: request.query, pathParams: request.rawParams });
    if (own.length) return own;
    const accepted = op.checkRequest({ headers: request.headers, query: request.query, pathParams: request.rawParams, body: request.body });
    if (accepted && !shadowValidation) return [];
    const judged = await op.prism.requestViolations(op.operationId, toPrismRequest(request.method, request.path, request.query, request.headers, request.body));
    // Prism's 415 on content sent to an operation that takes none: that content is ignored (see above).
    const errors = judged.filter((v) => !(v.code === 415 && !op.hasBody));
    if (accepted) {
      if (errors.length) shadowDisagreements.push({ kind: 'request', operationId: op.operationId });
      return [];
    }
    return errors.map((v) => ({ location: v.path ?? [], severity: 'Error' as const, code: String(v.code ?? 'invalid'), message: v.message }));
  }

  /** Violations of the response as written (its JSON read back), as the compiled check and Prism judge them. */
  async function responseViolations(
    op: TableOperation,
    out: OutgoingResponse,
    request: { method: string; path: string; query: Record<string, string | string[]>; headers: Record<string, string>; body: unknown },
  ): Promise<Diagnostic[]> {
    const response = { status: out.status, headers: joinedHeaders(out.headers), body: out.body === undefined ? undefined : JSON.parse(out.body) };
    const accepted = op.checkResponse(response);
    if (accepted && !shadowValidation) return [];
    const judged = await op.prism.responseViolations(op.operationId, toPrismRequest(request.method, request.path, request.query, request.headers, request.body), {
      statusCode: response.status,
      headers: response.headers,
      body: response.body,
    });
    if (accepted) {
      if (judged.length) shadowDisagreements.push({ kind: 'response', operationId: op.operationId });
      return [];
    }
    return judged;
  }

  /** Chaos's delay, then its fault as the answer (mock/chaos/answer.ts), without running the handler. */
  async function applyChaos(chaos: ChaosDecision, at: { requestId: string; instance: string }, trace: Trace): Promise<OutgoingResponse | undefined> {
    if (chaos.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, chaos.delayMs));
    const fault = chaos.fault;
    if (!fault) return undefined;
    if (fault.kind === 'hang' || fault.kind === 'reset') return { status: 0, headers: {}, body: undefined, abort: fault.kind };
    const answered = chaosAnswer(fault, { ...at, rateLimit: services.limits.client.settings().capacity });
    trace.problemCode = answered.body.code as string;
    return write({ status: answered.status, headers: answered.headers, body: answered.body }, at.requestId);
  }

  /** Prism loaded ahead of need (a long-running server calls it once it is idle after start). */
  const warmUp = () => Promise.all([api.table.prism.warmUp(), control?.table.prism.warmUp()]).then(() => undefined);

  return { handle, warmUp, api: api.table, control: control?.table };
}

// ---------------------------------------------------------------- commits

/**
 * The services a handler gets, noting whether it committed. A request that committed is
 * answered once its events are durable (and with them everything applied before). One that
 * only read waits until what it may have read is durable: with --data, writes are applied
 * before their sync, and a read must never show one that is then undone. (A class, not
 * closures and Object.create per request: this is on every request's path.)
 */
class CommitTracking {
  committed = false;
  readonly services: Services;

  constructor(services: Services) {
    this.services = { ...services, store: new TrackedStore(services.store, this) };
  }

  /** Resolves once what the handler may have read is durable (at once when it committed: its commit waited). */
  async settled(): Promise<void> {
    await this.unsettled();
  }

  /** What settled() waits for: nothing when the handler committed or everything is durable already. */
  unsettled(): Promise<void> | undefined {
    return this.committed ? undefined : this.services.store.settled();
  }
}

/** The store as one handler sees it: the same state, its commits noted. */
class TrackedStore implements Store {
  constructor(
    private readonly store: Store,
    private readonly tracking: CommitTracking,
  ) {}

  get state() {
    return this.store.state;
  }
  get eventCount() {
    return this.store.eventCount;
  }
  commit(...events: SandboxEvent[]): Promise<void> {
    this.tracking.committed = true;
    return this.store.commit(...events);
  }
  settled() {
    return this.store.settled();
  }
  reset(events?: SandboxEvent[]) {
    return this.store.reset(events);
  }
  close() {
    return this.store.close();
  }
}

// ---------------------------------------------------------------- shadow validation (tests)

// PACSPACE_SHADOW_VALIDATION=1 (or setShadowValidation) also runs Prism on every request and
// response the compiled checks accept, and records where Prism would have refused: the
// compiled checks may be stricter than Prism (Prism then decides), never more lenient.
let shadowValidation = process.env.PACSPACE_SHADOW_VALIDATION === '1';
export const shadowDisagreements: Array<{ kind: 'request' | 'response'; operationId: string }> = [];
export function setShadowValidation(on: boolean): void {
  shadowValidation = on;
}

// ---------------------------------------------------------------- helpers

/** What the gate decided, as the inspector shows it: ids, never a secret. */
function verdictOf(caller: Caller): AuthVerdict {
  switch (caller.kind) {
    case 'apiKey':
      return { kind: 'apiKey', keyId: caller.key.id, tenantId: caller.key.tenantId, environment: caller.key.environment };
    case 'session':
    case 'refresh':
      return { kind: 'session', userId: caller.user.id, tenantId: caller.user.tenantId };
    default:
      return { kind: 'public' };
  }
}

/** A refusal as written: the problem's status and body; its code noted for the inspector. */
function problemAnswer(requestId: string, path: string, trace: Trace, error: ProblemError, extraHeaders?: Record<string, string>): OutgoingResponse {
  trace.problemCode = error.code;
  return write({ status: statusOf(error.code), body: problemBody(error, requestId, path), headers: { ...error.headers, ...extraHeaders } }, requestId);
}

/** The exchange as the observer (the request inspector) is told it. */
function exchangeOf(req: IncomingRequest, requestId: string, at: number, durationMs: number, headers: Record<string, string>, trace: Trace, response: OutgoingResponse): Exchange {
  const request: Exchange['request'] = { headers };
  if (req.body instanceof Buffer) request.body = req.body.toString('utf8');
  const answered: Exchange['response'] = { status: response.status, headers: response.headers };
  if (response.body !== undefined) answered.body = response.body;
  const exchange: Exchange = { requestId, at, durationMs, environment: req.environment, surface: trace.surface, method: req.method, url: req.url, violations: trace.violations, request, response: answered };
  if (trace.operationId) exchange.operationId = trace.operationId;
  if (trace.auth) exchange.auth = trace.auth;
  if (trace.problemCode) exchange.problemCode = trace.problemCode;
  if (trace.chaos) exchange.chaos = trace.chaos;
  return exchange;
}

/** The response as written: content type, request id, cookies, JSON body. */
function write(reply: Reply, requestId: string): OutgoingResponse {
  const headers: Record<string, string | string[]> = { 'content-type': reply.status >= 400 ? 'application/problem+json' : 'application/json' };
  // A later field of the same name replaces an earlier one in place (as a spread would).
  if (reply.headers) for (const name of Object.keys(reply.headers)) headers[name.toLowerCase()] = reply.headers[name]!;
  headers['x-request-id'] = requestId;
  if (reply.cookies?.length) headers['set-cookie'] = reply.cookies;
  return { status: reply.status, headers, body: reply.body === undefined ? undefined : JSON.stringify(reply.body) };
}

function internalError(requestId: string): OutgoingResponse {
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

/** `503 storage_unavailable`: the change was not stored (disk full, I/O error), nothing changed. */
function storageUnavailable(error: StorageUnavailableError): ProblemError {
  return fail(
    'storage_unavailable',
    `The sandbox could not store this change (${error.reason}), so nothing was changed; retry after the Retry-After delay.`,
    {},
    { 'Retry-After': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
  );
}

/** The request as Prism reads it. A Content-Type that is not a media type at all makes Prism's validator throw: left out. */
function toPrismRequest(method: string, path: string, query: Record<string, string | string[]>, headers: Record<string, string>, body: unknown): PrismRequest {
  const contentType = headers['content-type'];
  return {
    method: method.toLowerCase(),
    url: { path, query },
    headers: contentType === undefined || parseMediaType(contentType) ? headers : withoutHeader(headers, 'content-type'),
    body,
  };
}

/** `Prefer: code=404, example=name, dynamic=true`, as Prism reads it. */
function preferredMock(prefer: string | undefined): MockPreferences | undefined {
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

function splitUrl(url: string): { path: string; query: Record<string, string | string[]> } {
  const i = url.indexOf('?');
  const rawPath = i < 0 ? url : url.slice(0, i);
  const query: Record<string, string | string[]> = {};
  if (i >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(i + 1))) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return { path: rawPath || '/', query };
}

const withoutHeader = (headers: Record<string, string>, name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));

function normalizeHeaders(headers: IncomingRequest['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const hasArrayValue = (h: Record<string, string | string[]>) => {
  for (const key in h) if (Array.isArray(h[key])) return true;
  return false;
};

/** Header values as one string each (Set-Cookie's fields joined), as Prism's checks read them. */
const joinedHeaders = (h: Record<string, string | string[]>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));


