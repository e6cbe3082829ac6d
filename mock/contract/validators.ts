// Compiled request and response validators for Prism's pipeline (its `validateInput` and
// `validateOutput` components). Prism's own validators rebuild the same things on every
// request — the path template's matcher, lower-cased header maps, parameter objects, media
// type parses — through layers of fp-ts and lodash; with the router replaced
// (router.ts) they were most of a request's cost.
//
// These do Prism's checks in the same order, with the same building blocks (Prism's Ajv
// configuration and formats, its schema normalisation, its parameter deserialisation for
// primitive parameters, its media-type matching), compiled once per operation and schema.
// They only ever *accept*: whenever anything is wrong, or the operation uses a feature they
// do not handle (array/object/deprecated parameters, form bodies), they hand the request
// to Prism's own validator, so every diagnostic — message, path, code, severity — is
// Prism's, word for word. (One diagnostic is theirs: a path parameter that does not
// percent-decode, on which Prism's validator throws instead of answering.)
// `setShadowValidation(true)` runs Prism's validator beside them on every request and
// records any verdict they disagree on (the fuzz test asserts none).
import { compilePathTemplate } from '../../contract/path-template.ts';
import { createRequire } from 'node:module';
import type { IHttpRequest, IHttpResponse } from '@stoplight/prism-http';
import type { IHttpOperation } from '@stoplight/types';
import * as E from 'fp-ts/lib/Either.js';
import { prismValidators } from './prism.ts';

const prismRequire = createRequire(createRequire(import.meta.url).resolve('@stoplight/prism-http'));
/** Prism's own dependencies, resolved as Prism resolves them, loaded on first use (start-up time). */
const lazy = <T>(id: string, pick: (m: any) => T = (m) => m as T) => {
  let value: T | undefined;
  let loaded = false;
  return (): T => {
    if (!loaded) {
      value = pick(prismRequire(id));
      loaded = true;
    }
    return value as T;
  };
};

type ValidateFn = ((data: unknown) => boolean) & { errors?: unknown };
type AjvLike = { compile(schema: object): ValidateFn };
type AjvClass = new (options: object) => AjvLike;

const addFormats = lazy('ajv-formats', (m) => (m.default ?? m) as (ajv: AjvLike) => void);
const dateTime = lazy<any>('@stoplight/prism-http/dist/validator/validators/dateTime.js');
const mergeAllOf = lazy('@stoplight/json-schema-merge-allof', (m) => m as (schema: object, options: object) => object);
const requiredFilters = lazy<any>('@stoplight/prism-http/dist/utils/filterRequiredProperties.js');
const MIMEType = lazy('whatwg-mimetype', (m) => m as new (header: string) => { essence: string });
const contentType = lazy('content-type', (m) => m as { parse(header: string): { type: string; parameters: Record<string, string> } });
const isMatch = lazy('lodash', (m) => m.isMatch as (object: object, source: object) => boolean);
const wildcardMediaTypeMatch = lazy('@stoplight/prism-http/dist/validator/utils/wildcardMediaTypeMatch.js', (m) => m.wildcardMediaTypeMatch as (a: string, b: string) => boolean);
const findOperationResponse = lazy('@stoplight/prism-http/dist/validator/utils/spec.js', (m) => m.findOperationResponse as (responses: unknown[], status: number) => { _tag: string; value?: unknown });
const URITemplate = lazy('uri-template-lite', (m) => m.URI.Template as new (template: string) => { match(path: string): Record<string, unknown> | null });

// ---------------------------------------------------------------- Prism's Ajv set-up

/**
 * Prism's options (validator/validators/utils.js), except `allErrors`, which does not change a
 * verdict: these validators only give one, so they stop at the first error (a 1 MiB body of
 * unknown members is refused at its first, not after collecting a hundred thousand errors).
 */
const baseOptions = { allErrors: false, allowUnionTypes: true, allowMatchingProperties: true, strict: false, logger: false };

const ajvModule = (id: string): AjvClass => {
  const m = prismRequire(id);
  return (m.default ?? m) as AjvClass;
};

function instances(Ajv: AjvClass) {
  const make = (coerceTypes: boolean) => {
    // validateSchema: false skips compiling the JSON Schema meta-schema (a quarter of the first
    // request's time at start-up); it only decides whether Ajv throws on a malformed schema,
    // never a verdict, and the contract's schemas are linted and compiled by Prism as well.
    const ajv = new Ajv({ ...baseOptions, coerceTypes, validateSchema: false }) as AjvLike & { addFormat(name: string, format: object): void };
    addFormats()(ajv);
    const { fmtDef, date_time, compareDateTime } = dateTime();
    ajv.addFormat('date-time', fmtDef(date_time, compareDateTime));
    return ajv;
  };
  return { coerce: make(true), noCoerce: make(false) };
}

const AJV_MODULES = { default: 'ajv', draft2019_09: 'ajv/dist/2019', draft2020_12: 'ajv/dist/2020' } as const;
const ajvs: Partial<Record<keyof typeof AJV_MODULES, { coerce: AjvLike; noCoerce: AjvLike }>> = {};
function ajvFor($schema: unknown, coerce: boolean): AjvLike {
  const s = String($schema);
  const draft = /^https?:\/\/json-schema.org\/draft\/2019-09\/schema#?$/.test(s)
    ? 'draft2019_09'
    : /^https?:\/\/json-schema.org\/draft\/2020-12\/schema#?$/.test(s)
      ? 'draft2020_12'
      : 'default';
  // Made on first use: each costs start-up time, and the contract uses draft-07 only.
  return (ajvs[draft] ??= instances(ajvModule(AJV_MODULES[draft])))[coerce ? 'coerce' : 'noCoerce'];
}

const compiled = new WeakMap<object, { coerce?: (data: unknown) => boolean; noCoerce?: (data: unknown) => boolean }>();
/**
 * Prism compiles `{ ...schema, __bundled__ }` once per schema; so do we (lazily: start-up
 * stays fast). A schema that does not compile, or a validation that throws, is never
 * accepted here: Prism decides (it takes both for valid).
 */
function validatorOf(schema: object, coerce: boolean): (data: unknown) => boolean {
  let entry = compiled.get(schema);
  if (!entry) compiled.set(schema, (entry = {}));
  const key = coerce ? 'coerce' : 'noCoerce';
  return (entry[key] ??= (() => {
    let validate: ValidateFn;
    try {
      validate = ajvFor((schema as { $schema?: unknown }).$schema, coerce).compile({ ...schema, __bundled__: undefined });
    } catch {
      return () => false;
    }
    return (data: unknown) => {
      try {
        return validate(data) === true;
      } catch {
        return false;
      }
    };
  })());
}

// Prism's body-schema normalisation (validator/validators/body.js): allOf merged, then
// readOnly (requests) or writeOnly (responses) properties dropped from `required`.
type Context = 'input' | 'output';
const normalized = { input: new WeakMap<object, object | null>(), output: new WeakMap<object, object | null>() };
function normalize(schema: object, context: Context): object | null {
  const cache = normalized[context];
  if (cache.has(schema)) return cache.get(schema)!;
  let merged: object = schema;
  // Merging is the identity on a schema without allOf (validators.test.ts checks it for every
  // schema of both contracts), and the merger is slow to load: it runs only where there is one.
  if (JSON.stringify(schema).includes('"allOf"')) {
    try {
      merged = mergeAllOf()(schema, { deep: true, ignoreAdditionalProperties: true });
    } catch {
      merged = schema;
    }
  }
  const filters = requiredFilters();
  const option = (context === 'input' ? filters.stripReadOnlyProperties : filters.stripWriteOnlyProperties)(merged);
  const out = option._tag === 'Some' ? (option.value as object) : null;
  cache.set(schema, out);
  return out;
}

/** Pure functions of a header string, remembered (bounded: headers are client input). */
function memo<T>(fn: (key: string) => T, limit = 256): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined || cache.has(key)) return hit as T;
    const value = fn(key);
    if (cache.size < limit) cache.set(key, value);
    return value;
  };
}

// ---------------------------------------------------------------- parameters

type ParamSpec = { name: string; style?: string; explode?: boolean; required?: boolean; deprecated?: boolean; schema?: { type?: unknown } };
type Where = 'header' | 'query' | 'path';

/**
 * Prism's validateParams for primitive parameters: values picked by lower-cased name (form
 * style drops an empty value; every empty value is then dropped), validated as one object
 * by the coercing Ajv against the object schema Prism builds. `undefined` when the
 * parameters use something Prism deserialises differently (arrays, objects) or warns
 * about (deprecated): those requests always go to Prism.
 */
function compileParams(specs: ParamSpec[] | undefined, where: Where): ((target: Record<string, unknown>) => boolean) | undefined {
  if (!specs?.length) return () => true;
  const byName = new Map<string, ParamSpec>();
  for (const spec of specs) byName.set(spec.name.toLowerCase(), spec); // lodash keyBy: the last wins
  for (const spec of byName.values()) {
    const type = spec.schema?.type;
    if (spec.deprecated || type === 'array' || type === 'object') return undefined;
    const style = spec.style ?? (where === 'query' ? 'form' : 'simple');
    if (where === 'query' ? !['form', 'simple', 'unspecified'].includes(style) : style !== 'simple') return undefined;
  }
  // createJsonSchemaFromParams
  const properties: Record<string, unknown> = {};
  for (const spec of specs) if (spec.schema) properties[spec.name.toLocaleLowerCase()] = spec.schema;
  const schema = { type: 'object', properties, required: specs.filter((s) => s.required).map((s) => s.name.toLowerCase()) };
  const names = [...byName.keys()];
  const form = where === 'query';
  return (target) => {
    const values: Record<string, unknown> = {};
    for (const name of names) {
      const value = target[name];
      if (form && !value) continue;
      if (value) values[name] = value; // lodash pickBy: falsy values are dropped
    }
    return validatorOf(schema, true)(values);
  };
}

/** lodash mapKeys(target, k => k.toLowerCase()), copying only when some key is not lower case. */
function lowerKeys(target: Record<string, unknown>): Record<string, unknown> {
  for (const k in target) {
    if (k !== k.toLowerCase()) {
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(target)) out[key.toLowerCase()] = target[key];
      return out;
    }
  }
  return target;
}

// ---------------------------------------------------------------- bodies

type Content = { mediaType: string; schema?: object };

/**
 * Whether Prism would take the body for a form (type-is on application/x-www-form-urlencoded
 * or multipart/form-data). Both contain "form", and type-is only matches a media type whose
 * type and subtype are one of them; so this test says yes to everything it does, and more
 * (those requests go to Prism).
 */
const isForm = (mt: string) => /form|multipart/i.test(mt);

/** Prism's validateBody: the first content matching the media type (or the first), its normalised schema, no coercion. */
function compileBody(contents: Content[], context: Context): (body: unknown, mediaType: string | undefined) => boolean {
  const pick = memo((mediaType: string): Content | undefined => contents.find((c) => wildcardMediaTypeMatch()(mediaType, c.mediaType)) ?? contents[0]);
  return (body, mediaType) => {
    const content = mediaType == null ? contents[0] : pick(mediaType);
    const mt = mediaType == null || !content ? 'random' : mediaType;
    if (!content?.schema) return true;
    const schema = normalize(content.schema, context);
    if (!schema) return true;
    if (isForm(mt)) return false; // form bodies: Prism's own path
    return validatorOf(schema, false)(body);
  };
}

// ---------------------------------------------------------------- requests

type Operation = IHttpOperation & { request?: any; responses: any[] };

type InputCheck = (element: IHttpRequest) => boolean;

/** Prism's parseMIMEHeader: the media type's essence (whatwg-mimetype), or null where it throws. */
const mimeOf = memo((header: string): { mediaType: string } | null => {
  try {
    return { mediaType: new (MIMEType())(header).essence };
  } catch {
    return null;
  }
});

/** Operations whose schemas point into a shared bundle are always validated by Prism. */
const bundled = (resource: Operation) => '__bundled__' in resource && (resource as { __bundled__?: unknown }).__bundled__ !== undefined;

/** Whether Prism can parse this Content-Type (its validator throws on one it cannot). */
export const isMediaType = (header: string): boolean => mimeOf(header) !== null;

function compileInput(resource: Operation): InputCheck | undefined {
  if (bundled(resource)) return undefined;
  const request = resource.request;
  if (!request) return () => true;
  const headers = compileParams(request.headers, 'header');
  const query = compileParams(request.query, 'query');
  const path = compileParams(request.path, 'path');
  if (!headers || !query || !path) return undefined;
  const requestBody = request.body as { required?: boolean; contents?: Content[] } | undefined;
  const contents = requestBody?.contents ?? [];
  const supported = memo((mediaType: string) => contents.some((c) => !c.mediaType || wildcardMediaTypeMatch()(mediaType, c.mediaType)));
  const body = compileBody(contents, 'input');
  const template = request.path ? new (URITemplate())(resource.path) : undefined;

  return (element) => {
    const h = (element.headers ?? {}) as Record<string, string>;
    // checkRequiredBodyIsProvided
    if (requestBody?.required && !element.body) return false;
    const contentType = h['content-type'];
    const mime = contentType === undefined ? undefined : mimeOf(contentType);
    if (mime === null) return false; // Prism's parser throws on it: let Prism answer
    const mediaType = mime?.mediaType;
    if ((parseInt(h['content-length']!) || 0) !== 0) {
      if (!requestBody) return false;
      if (mediaType != null && !supported(mediaType)) return false;
    }
    if (requestBody && element.body != null && !body(element.body, mediaType)) return false;
    if (request.headers && !headers(lowerKeys(h))) return false;
    if (request.query && !query(lowerKeys((element.url.query ?? {}) as Record<string, unknown>))) return false;
    if (template && !path(lowerKeys(template.match(element.url.path) ?? {}))) return false;
    return true;
  };
}

// ---------------------------------------------------------------- responses

type OutputCheck = (element: IHttpResponse) => boolean;

function caselessGet(headers: Record<string, unknown>, name: string): string | undefined {
  if (name in headers) return headers[name] as string;
  for (const k of Object.keys(headers)) if (k.toLowerCase() === name) return headers[k] as string;
  return undefined;
}

function compileOutput(resource: Operation): OutputCheck | undefined {
  if (bundled(resource)) return undefined;
  const byStatus = new Map<number, ((element: IHttpResponse, mediaType: string | undefined) => boolean) | undefined | null>();
  const forStatus = (status: number) => {
    if (byStatus.has(status)) return byStatus.get(status);
    const found = findOperationResponse()(resource.responses, status);
    let check: ((element: IHttpResponse, mediaType: string | undefined) => boolean) | undefined | null = null;
    if (found._tag === 'Some') {
      const response = found.value as { contents?: Content[]; headers?: ParamSpec[] };
      const contents = response.contents ?? [];
      const headers = compileParams(response.headers, 'header');
      const body = compileBody(contents, 'output');
      // Prism's validateMediaType: a content whose type matches (wildcards, suffixes) with the same parameters.
      const mediaTypeOk = memo((mediaType: string) => {
        try {
          const parsed = contentType().parse(mediaType);
          return contents.some((c) => {
            const documented = contentType().parse(c.mediaType);
            return wildcardMediaTypeMatch()(parsed.type, documented.type) && isMatch()(parsed.parameters, documented.parameters);
          });
        } catch {
          return false;
        }
      });
      check = headers
        ? (element, mediaType) => {
            if (contents.length && (mediaType == null || !mediaTypeOk(mediaType))) return false;
            if (!body(element.body, mediaType)) return false;
            return headers(lowerKeys((element.headers ?? {}) as Record<string, unknown>));
          }
        : undefined;
    }
    if (byStatus.size < 64) byStatus.set(status, check);
    return check;
  };
  return (element) => {
    const check = forStatus(element.statusCode);
    if (!check) return false;
    return check(element, caselessGet((element.headers ?? {}) as Record<string, unknown>, 'content-type'));
  };
}

// ---------------------------------------------------------------- undecodable paths

type Diagnostic = { path: string[]; code: string; message: string; severity: number };

/** The path parameters of `template` whose raw value does not percent-decode. */
function compileUndecodable(template: string): (path: string) => Diagnostic[] {
  const compiled = compilePathTemplate(template);
  return (path) => {
    const raw = compiled.match(path);
    if (!raw) return [];
    const out: Diagnostic[] = [];
    for (const name of compiled.names) {
      try {
        decodeURIComponent(raw[name] ?? '');
      } catch {
        out.push({ path: ['path', name], code: 'encoding', message: `Request path parameter ${name} is not valid percent-encoded UTF-8`, severity: 0 });
      }
    }
    return out;
  };
}

// ---------------------------------------------------------------- the components

// PACSPACE_SHADOW_VALIDATION=1 shadows from the start and makes a disagreement throw (so
// any test run can be used to check the validators: `PACSPACE_SHADOW_VALIDATION=1 npx vitest run`).
const strictShadow = process.env.PACSPACE_SHADOW_VALIDATION === '1';
let shadow = strictShadow;
export type Disagreement = { kind: 'input' | 'output'; operation: string; compiled: boolean; prism: boolean };
/** Verdicts where the compiled validators and Prism's disagreed, while shadowing. */
export const disagreements: Disagreement[] = [];

/** Also run Prism's validators on every request and record disagreements (tests). */
export function setShadowValidation(on: boolean): void {
  shadow = on;
}

type Args<T> = { resource: IHttpOperation; element: T };

export function createCompiledValidators() {
  const inputs = new WeakMap<IHttpOperation, InputCheck>();
  const outputs = new WeakMap<IHttpOperation, OutputCheck>();
  // Whatever throws here (a malformed percent-encoding in a path parameter, say) is not
  // accepted: Prism's validator then decides, and fails, exactly as it would have.
  const guarded =
    <T>(check: ((element: T) => boolean) | undefined) =>
    (element: T) => {
      try {
        return check ? check(element) : false;
      } catch {
        return false;
      }
    };
  const inputCheck = (r: IHttpOperation) => {
    if (!inputs.has(r)) inputs.set(r, guarded(compileInput(r as Operation)));
    return inputs.get(r)!;
  };
  const outputCheck = (r: IHttpOperation) => {
    if (!outputs.has(r)) outputs.set(r, guarded(compileOutput(r as Operation)));
    return outputs.get(r)!;
  };

  const undecodable = new WeakMap<IHttpOperation, (path: string) => Diagnostic[]>();

  function validateInput(args: Args<IHttpRequest>) {
    const fast = inputCheck(args.resource)(args.element);
    if (!fast) {
      // Prism's validator throws on a path parameter that is not valid percent-encoded UTF-8
      // (a URIError from decodeURIComponent); that is a violation like any other.
      if (!undecodable.has(args.resource)) undecodable.set(args.resource, compileUndecodable(args.resource.path));
      const broken = undecodable.get(args.resource)!(args.element.url.path);
      if (broken.length) return E.left(broken as never);
    }
    if (shadow) record('input', args.resource, fast, E.isRight(prismValidators().validateInput(args as never)));
    return fast ? E.right(args.element) : prismValidators().validateInput(args as never);
  }

  function validateOutput(args: Args<IHttpResponse>) {
    const fast = outputCheck(args.resource)(args.element);
    if (shadow) record('output', args.resource, fast, E.isRight(prismValidators().validateOutput(args as never)));
    return fast ? E.right(args.element) : prismValidators().validateOutput(args as never);
  }

  type Prism = ReturnType<typeof prismValidators>;
  return {
    validateInput: validateInput as unknown as Prism['validateInput'],
    validateOutput: validateOutput as unknown as Prism['validateOutput'],
    /** The compiled verdicts alone (true: accepted without Prism), for tests. */
    accepts: {
      input: (args: Args<IHttpRequest>) => inputCheck(args.resource)(args.element),
      output: (args: Args<IHttpResponse>) => outputCheck(args.resource)(args.element),
    },
  };
}

function record(kind: 'input' | 'output', resource: IHttpOperation, compiled: boolean, prism: boolean) {
  // The compiled validators may be stricter (Prism then answers), never more lenient.
  if (compiled && !prism) {
    if (disagreements.length < 1000) disagreements.push({ kind, operation: resource.iid ?? resource.path, compiled, prism });
    if (strictShadow) throw new Error(`compiled ${kind} validator accepted what Prism rejects (${resource.iid ?? resource.path})`);
  }
}
