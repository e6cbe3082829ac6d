// What a mutant is: a server that breaks exactly one rule of the inventory (conformance/rules.ts),
// made by putting a layer at the HTTP boundary in front of the correct sandbox. The sandbox's own
// code never knows it is being mutated; the layer sees each exchange whole (request and response,
// bodies buffered) and each outbound webhook delivery, and may change, replace, repeat or drop it.
//
// A *variation* has the same shape but changes only what HTTP and the contract allow (reordered
// JSON members, a 429 with Retry-After, latency, extra fields, a late webhook): the suite must
// still pass under it.
import { loadContract } from '../../conformance/lib/contract.ts';

export type Listener = 'production' | 'sandbox';
export type HeaderMap = Record<string, string | string[]>;

/** A request as the client sent it: path with its query, headers lowercased, body buffered. */
export type ProxiedRequest = { listener: Listener; method: string; url: string; headers: HeaderMap; body: Buffer };
/** A response as the client will get it; `content-length` is recomputed on the way out. */
export type ProxiedResponse = { status: number; headers: HeaderMap; body: Buffer };
/** An outbound webhook delivery, addressed to the URL the client registered. */
export type Delivery = { url: string; headers: HeaderMap; body: Buffer };

export type MutantContext = {
  /** Scratch memory for one run (cleared whenever another mutant is put in place). */
  memory: Map<string, any>;
  /** Sends a request to the real server (the layer rewrites URLs both ways as for any request). */
  forward(req: ProxiedRequest): Promise<ProxiedResponse>;
};

export type Mutant = {
  /** kebab-case, unique. */
  id: string;
  /** The rule ids (R-…) this server breaks; the checks that enforce them must catch it. */
  rules: string[];
  /** What the server does wrong, in one sentence. */
  description: string;
  /** Wraps every API exchange: call `next` (maybe changed, maybe twice, maybe never). */
  exchange?(req: ProxiedRequest, next: (req: ProxiedRequest) => Promise<ProxiedResponse>, ctx: MutantContext): Promise<ProxiedResponse>;
  /** Wraps every webhook delivery: call `send` (maybe changed, maybe twice, maybe never); the sandbox sees the status returned. */
  delivery?(delivery: Delivery, send: (d: Delivery) => Promise<number>, ctx: MutantContext): Promise<number>;
};

/**
 * The mutant with `observe` run on every exchange it lets through, once the answer is back
 * (to remember what the server revealed: keys, secrets, endpoints), before the mutant sees it.
 */
export function observing(observe: (req: ProxiedRequest, res: ProxiedResponse, ctx: MutantContext) => void, m: Mutant): Mutant {
  return {
    ...m,
    async exchange(req, next, ctx) {
      const observed = async (r: ProxiedRequest) => {
        const res = await next(r);
        observe(r, res, ctx);
        return res;
      };
      return m.exchange ? m.exchange(req, observed, ctx) : observed(req);
    },
  };
}

/** A legal variation: same shape, no rules broken. */
export type Variation = Omit<Mutant, 'rules'>;

export const defineMutant = (m: Mutant) => m;
export const defineMutants = (ms: Mutant[]) => ms;

// ---------------------------------------------------------------------------------------------
// Matching requests to contract operations (the contract's own path templates).

const contract = loadContract();
const pathOf = (url: string) => url.split('?')[0]!;

/** The operationId of a request, or undefined for a path/method the contract does not have. */
export function operationOf(req: Pick<ProxiedRequest, 'method' | 'url'>): string | undefined {
  const path = pathOf(req.url);
  return contract.operations.find((o) => o.method === req.method && o.pattern.test(path))?.operation.operationId;
}

/** True when the request is one of these operationIds. */
export const isOperation = (req: Pick<ProxiedRequest, 'method' | 'url'>, ...ids: string[]) => ids.includes(operationOf(req) ?? '');

/** The contract's operations: `{ method, path, operationId, security, responses }` for generated mutants. */
export const contractOperations = contract.operations.map((o) => ({ method: o.method, path: o.path, operationId: o.operation.operationId as string, operation: o.operation }));
export const contractDocument = contract.doc;

/** The decoded query parameters of a request. */
export const queryOf = (req: Pick<ProxiedRequest, 'url'>) => new URL(req.url, 'http://x').searchParams;

// ---------------------------------------------------------------------------------------------
// Reading and changing messages.

/** The first value of a header (names are lowercase). */
export const header = (m: { headers: HeaderMap }, name: string): string | undefined => {
  const v = m.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/** Every Set-Cookie line of a response. */
export const setCookies = (m: { headers: HeaderMap }): string[] => {
  const v = m.headers['set-cookie'];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

export const withHeaders = <T extends { headers: HeaderMap }>(m: T, changes: Record<string, string | string[] | undefined>): T => {
  const headers: HeaderMap = { ...m.headers };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  return { ...m, headers };
};

/** The body as JSON, or undefined when it is not JSON. */
export function json(m: { body: Buffer }): any {
  if (!m.body.length) return undefined;
  try {
    return JSON.parse(m.body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The message with this JSON value as its body (content type kept, or application/json). */
export const withJson = <T extends { headers: HeaderMap; body: Buffer }>(m: T, value: unknown): T => ({
  ...m,
  headers: header(m, 'content-type') ? m.headers : { ...m.headers, 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(value)),
});

/** The message with its JSON body passed through `change` (which may mutate and return nothing). */
export function mapJson<T extends { headers: HeaderMap; body: Buffer }>(m: T, change: (value: any) => any): T {
  const value = json(m);
  if (value === undefined) return m;
  const changed = change(value);
  return withJson(m, changed === undefined ? value : changed);
}

/** A problem+json answer, as a server would build one. */
export const problem = (status: number, code: string, detail: string, extra: Record<string, string> = {}): ProxiedResponse => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...extra },
  body: Buffer.from(JSON.stringify({ type: `https://docs.pacspace.io/errors/${code}`, title: code, status, code, detail })),
});

/** A JSON success answer. */
export const answer = (status: number, value: unknown, headers: HeaderMap = {}): ProxiedResponse => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: Buffer.from(value === undefined ? '' : JSON.stringify(value)),
});

/** Visits every object inside a JSON value (depth first), e.g. to rewrite a member wherever it appears. */
export function eachObject(value: unknown, visit: (o: Record<string, any>) => void): void {
  if (Array.isArray(value)) for (const v of value) eachObject(v, visit);
  else if (value && typeof value === 'object') {
    visit(value as Record<string, any>);
    for (const v of Object.values(value)) eachObject(v, visit);
  }
}

/**
 * A mutant that changes only responses of some operations (the common case):
 * `onResponse('x', ['R-…'], 'what', ['getApiKey'], (res, req, ctx) => …)`.
 */
export function onResponse(
  id: string,
  rules: string[],
  description: string,
  operations: string[] | ((req: ProxiedRequest) => boolean),
  change: (res: ProxiedResponse, req: ProxiedRequest, ctx: MutantContext) => ProxiedResponse | Promise<ProxiedResponse>,
): Mutant {
  const applies = typeof operations === 'function' ? operations : (req: ProxiedRequest) => isOperation(req, ...operations);
  return { id, rules, description, async exchange(req, next, ctx) {
    const res = await next(req);
    return applies(req) ? change(res, req, ctx) : res;
  } };
}

/** A mutant that changes only requests of some operations before the server sees them. */
export function onRequest(
  id: string,
  rules: string[],
  description: string,
  operations: string[] | ((req: ProxiedRequest) => boolean),
  change: (req: ProxiedRequest, ctx: MutantContext) => ProxiedRequest | ProxiedResponse | Promise<ProxiedRequest | ProxiedResponse>,
): Mutant {
  const applies = typeof operations === 'function' ? operations : (req: ProxiedRequest) => isOperation(req, ...operations);
  return { id, rules, description, async exchange(req, next, ctx) {
    if (!applies(req)) return next(req);
    const changed = await change(req, ctx);
    return 'status' in changed ? changed : next(changed);
  } };
}
