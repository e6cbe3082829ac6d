// Prism where it is the product, through its public API only (`@stoplight/prism-http`'s
// `createInstance` and `getHttpOperationsFromSpec`): its validator's verdict and wording for
// a request or response the compiled checks (validation.ts) did not accept, and its mocker
// for `Prefer` answers and operations without a handler. Prism is loaded, and the contract
// turned into its operations, on first use: most requests never need it.
import { createRequire } from 'node:module';
import type { IHttpOperation } from '@stoplight/types';
import type { Json } from '../../contract/document.ts';

const require = createRequire(import.meta.url);
type PrismHttp = typeof import('@stoplight/prism-http');
type PrismCore = typeof import('@stoplight/prism-core');
let modules: { http: PrismHttp; core: PrismCore } | undefined;
const prism = () => (modules ??= { http: require('@stoplight/prism-http') as PrismHttp, core: require('@stoplight/prism-core') as PrismCore });

/** A request as Prism reads it: lower-case method, path and query apart, headers lower-case, body parsed. */
export type PrismRequest = {
  method: string;
  url: { path: string; query: Record<string, string | string[]> };
  headers: Record<string, string>;
  body: unknown;
};
export type PrismResponse = { statusCode: number; headers: Record<string, string>; body: unknown };
/** One of Prism's diagnostics; severity 0 is an error. */
export type Diagnostic = { path?: string[]; code?: string | number; message: string; severity: number };
export type MockPreferences = { code?: number; exampleKey?: string; dynamic?: boolean };

const right = <T>(value: T) => ({ _tag: 'Right' as const, right: value });
const PLACEHOLDER: PrismResponse = { statusCode: 200, headers: {}, body: undefined };

export type PrismForContract = ReturnType<typeof createPrism>;

/** Prism for one bundled contract (`document`: a bundle of generated/, never changed by Prism). */
export function createPrism(document: Json) {
  let operations: Promise<Map<string, IHttpOperation>> | undefined;
  const operation = async (operationId: string) => {
    operations ??= prism()
      .http.getHttpOperationsFromSpec(structuredClone(document))
      .then((ops) => new Map(ops.map((op) => [op.iid!, op])));
    const found = (await operations).get(operationId);
    if (!found) throw new Error(`Prism has no operation ${operationId}`);
    return found;
  };
  let logger: ReturnType<PrismCore['createLogger']> | undefined;
  const config = { checkSecurity: false, validateRequest: true, validateResponse: true, errors: false, mock: { dynamic: false } };

  /**
   * Runs Prism on one request for one operation: the request path has routed it already, so
   * Prism's router is given that operation alone; `produce` is Prism's mock, or (to have a
   * response judged) the response itself.
   */
  async function run(
    operationId: string,
    request: PrismRequest,
    options: { respond?: PrismResponse; mock?: MockPreferences; validateRequest?: boolean; validateResponse?: boolean },
  ): Promise<{ error: Error } | { output: PrismResponse; validations: { input: Diagnostic[]; output: Diagnostic[] } }> {
    const resource = await operation(operationId);
    logger ??= prism().core.createLogger('sandbox', { level: 'silent' });
    const components: Record<string, unknown> = { logger, route: () => right(resource) };
    if (options.respond) components.mock = () => () => right(options.respond);
    const instance = prism().http.createInstance(config as never, components as never);
    const run = instance.request(request as never, [resource], {
      ...config,
      validateRequest: options.validateRequest ?? true,
      validateResponse: options.validateResponse ?? true,
      mock: { dynamic: false, ...options.mock },
    } as never);
    const result = (await run()) as { _tag: 'Left'; left: Error } | { _tag: 'Right'; right: { output: PrismResponse; validations: { input: Diagnostic[]; output: Diagnostic[] } } };
    if (result._tag === 'Left') return { error: result.left };
    return { output: result.right.output, validations: result.right.validations };
  }

  return {
    /** Loads Prism and its view of the contract now, so the first refusal does not wait for them. */
    async warmUp(): Promise<void> {
      prism();
      operations ??= prism()
        .http.getHttpOperationsFromSpec(structuredClone(document))
        .then((ops) => new Map(ops.map((op) => [op.iid!, op])));
      await operations;
    },
    /** Prism's verdict on a request, worded as Prism words it (errors only; warnings dropped). */
    async requestViolations(operationId: string, request: PrismRequest): Promise<Diagnostic[]> {
      const result = await run(operationId, request, { respond: PLACEHOLDER, validateResponse: false });
      if ('error' in result) throw result.error;
      return result.validations.input.filter((d) => d.severity === 0);
    },
    /** Prism's verdict on a response to a request (errors only). */
    async responseViolations(operationId: string, request: PrismRequest, response: PrismResponse): Promise<Diagnostic[]> {
      const result = await run(operationId, request, { respond: response, validateRequest: false });
      if ('error' in result) throw result.error;
      return result.validations.output.filter((d) => d.severity === 0);
    },
    /**
     * Prism's mocked answer (an example of the contract, or generated with `dynamic`), or
     * undefined when the preference names a status or example the operation does not document.
     */
    async mock(operationId: string, request: PrismRequest, preferences: MockPreferences = {}): Promise<PrismResponse | undefined> {
      const result = await run(operationId, request, { mock: preferences, validateRequest: false, validateResponse: false });
      if ('error' in result) {
        if (result.error.name?.endsWith('#NOT_FOUND')) return undefined;
        throw result.error;
      }
      // Header values as strings, as they are on the wire (Prism's mock gives numbers for numeric headers).
      const headers = Object.fromEntries(Object.entries(result.output.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
      return { ...result.output, headers };
    },
  };
}
