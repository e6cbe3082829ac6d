// Prism's HTTP core, configured as the sandbox's request pipeline: Prism routes (with our
// compiled router, router.ts, in place of Prism's scoring one), checks security, lets the
// engine `prepare` the request (the auth gate decides; a refused request is not validated at
// all), validates the request (with compiled validators, validators.ts, that accept what
// Prism's accept and leave every diagnostic to Prism's), hands the validated input to
// `produce` (the stateful engine, plugged in as Prism's proxy `forward` component) and
// validates the response.
// `produce` may decline an operation; Prism then answers with its own mock.
import type { IHttpConfig, IHttpRequest, IHttpResponse, PrismHttpComponents } from '@stoplight/prism-http';
import type { IHttpOperation } from '@stoplight/types';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { createLogger, factory, ProblemJsonError, prismMock, validateSecurity } from './prism.ts';
import { createRouter } from './router.ts';
import { createCompiledValidators } from './validators.ts';

/** Prism's HTTP instance (what its `createInstance` builds), from explicitly chosen components. */
const createInstance = (config: unknown, components: Partial<PrismHttpComponents> & Pick<PrismHttpComponents, 'validateInput' | 'validateOutput'>) =>
  factory<IHttpOperation, IHttpRequest, IHttpResponse, IHttpConfig>(config as IHttpConfig, {
    validateSecurity,
    mock: (opts) => prismMock()(opts),
    forward: () => () => async () => ({ _tag: 'Left', left: new Error('no forward component') }),
    ...components,
  } as PrismHttpComponents);

export type Diagnostic = { path?: string[]; code?: string | number; message: string; severity: number };

export type Produce = (
  input: IHttpRequest,
  operation: IHttpOperation,
  inputViolations: Diagnostic[],
) => Promise<IHttpResponse | 'not-implemented'>;

/**
 * Runs once a request is routed, before it is validated: `false` skips validating it (the
 * engine then refuses it without its violations: a request without valid credentials is
 * answered 401/403 before its body is looked at). `mode` says whether the engine (`forward`)
 * or Prism's mock (`Prefer`) will answer.
 */
export type Prepare = (input: IHttpRequest, operation: IHttpOperation, mode: 'engine' | 'mock') => boolean;

export type PipelineResult =
  | { kind: 'response'; response: IHttpResponse; violations: Diagnostic[] }
  | { kind: 'no-route'; status: 404 | 405 };

const NOT_IMPLEMENTED = { type: 'UPSTREAM_NOT_IMPLEMENTED', title: 'Served by the Prism mock', status: 501 };

export type MockOptions = { code?: number; exampleKey?: string; dynamic?: boolean };

export function createPipeline(operations: IHttpOperation[], produce: Produce, prepare?: Prepare) {
  const logger = createLogger('sandbox', { level: 'silent' });
  const config = {
    isProxy: true as const,
    // Never contacted: `forward` below is the engine, not an HTTP client.
    upstream: new URL('http://engine.invalid'),
    upstreamProxy: undefined,
    errors: true,
    checkSecurity: true,
    validateRequest: true,
    validateResponse: true,
    mock: { dynamic: false },
  };
  const route = createRouter(operations);
  const { validateInput: validateAll, validateOutput } = createCompiledValidators();
  const validateInputFor =
    (mode: 'engine' | 'mock'): PrismHttpComponents['validateInput'] =>
    (args) =>
      prepare && !prepare(args.element, args.resource, mode) ? E.right(args.element) : validateAll(args);
  // Prism's mock, with header values as strings, as they are on the wire: Prism's own output
  // validation drops falsy values, so a mocked `RateLimit-Remaining: 0` (a number) would be
  // reported missing from a response that is in fact correct.
  const stringHeaderMock: PrismHttpComponents['mock'] = (opts) => (mockLogger) =>
    E.map((response: IHttpResponse) => ({
      ...response,
      headers: Object.fromEntries(Object.entries(response.headers ?? {}).map(([k, v]) => [k, String(v)])),
    }))(prismMock()(opts)(mockLogger));
  const prism = createInstance(config, {
    logger,
    route,
    validateInput: validateInputFor('engine'),
    validateOutput,
    mock: stringHeaderMock,
    forward: ({ data, validations }, _baseUrl, _proxy, resource) => () => async () => {
      try {
        const out = await produce(data, resource as IHttpOperation, validations as Diagnostic[]);
        if (out === 'not-implemented') return { _tag: 'Left', left: ProblemJsonError.fromTemplate(NOT_IMPLEMENTED) };
        return { _tag: 'Right', right: out };
      } catch (error) {
        return { _tag: 'Left', left: error as Error };
      }
    },
  });
  const mockOnly = createInstance({ ...config, isProxy: false, errors: false } as never, { logger, route, validateInput: validateInputFor('mock'), validateOutput, mock: stringHeaderMock });

  async function run(input: IHttpRequest, mock?: MockOptions): Promise<PipelineResult> {
    const instance = mock ? mockOnly : prism;
    const cfg = mock ? ({ ...config, isProxy: false, errors: false, mock: { dynamic: false, ...mock } } as never) : undefined;
    const result = await TE.toUnion(instance.request(input, operations, cfg) as never)() as any;
    // A forced status or example the operation does not document cannot be produced: the
    // preference is ignored (RFC 7240) and the request is answered as usual.
    if (mock && result instanceof Error && result.name.endsWith('#NOT_FOUND')) return run(input);
    if (result instanceof Error) {
      if (result.name.endsWith('#NO_PATH_MATCHED_ERROR')) return { kind: 'no-route', status: 404 };
      if (result.name.endsWith('#NO_METHOD_MATCHED_ERROR')) return { kind: 'no-route', status: 405 };
      throw result;
    }
    const output = result.output as IHttpResponse;
    return { kind: 'response', response: output, violations: result.validations.output as Diagnostic[] };
  }

  return { run };
}
