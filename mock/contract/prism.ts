// The parts of Prism's HTTP core the sandbox uses, loaded one by one. The package's main entry
// also loads Prism's mocker (json-schema-faker with every Faker locale: about a second of
// start-up), which only `Prefer` forcing and operations without a handler need, so the
// mocker is loaded on first use. (CommonJS modules, required: Node and Vite disagree on
// their default exports.)
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const { factory } = require('@stoplight/prism-core') as typeof import('@stoplight/prism-core');
export const { createLogger } = require('@stoplight/prism-core') as typeof import('@stoplight/prism-core');
export const { validateSecurity } =
  require('@stoplight/prism-http/dist/validator/validators/security/index.js') as typeof import('@stoplight/prism-http/dist/validator/index.js');
// Prism's request and response validators (with the six Ajv instances they create on load)
// are needed only when a request or response fails the compiled validators (validators.ts):
// loaded on first use.
type Validators = typeof import('@stoplight/prism-http/dist/validator/index.js');
let validators: Validators | undefined;
export const prismValidators = (): Validators => (validators ??= require('@stoplight/prism-http/dist/validator/index.js') as Validators);
export const { ProblemJsonError } = require('@stoplight/prism-http/dist/types.js') as typeof import('@stoplight/prism-http/dist/types.js');
export const { NO_METHOD_MATCHED_ERROR, NO_PATH_MATCHED_ERROR } =
  require('@stoplight/prism-http/dist/router/errors.js') as typeof import('@stoplight/prism-http/dist/router/errors.js');

type Mocker = typeof import('@stoplight/prism-http/dist/mocker/index.js').default;
let mocker: Mocker | undefined;
export const prismMock = (): Mocker =>
  (mocker ??= (require('@stoplight/prism-http/dist/mocker/index.js') as typeof import('@stoplight/prism-http/dist/mocker/index.js')).default);

/** Prism's transformation of a contract into its operations (used by scripts/generate.ts). */
export const getHttpOperationsFromSpec = (document: unknown) =>
  (require('@stoplight/prism-http/dist/utils/operations.js') as typeof import('@stoplight/prism-http/dist/utils/operations.js')).getHttpOperationsFromSpec(
    document as never,
  );
