// Request and response checks compiled once per operation from the contract itself (Ajv over
// the operation's own parameter and body schemas). They only ever *accept*: a request or
// response they do not accept is handed to Prism's validator (prism.ts), which decides and
// words every violation. So they must never accept what Prism rejects — they apply Prism's
// rules (its Ajv options and draft, parameter deserialisation for primitive parameters,
// empty values dropped, required body, media types) and are stricter wherever in doubt. The
// fuzz test runs Prism beside them on every request and fails on a disagreement.
import { createRequire } from 'node:module';
import { deref, inlineRefs, type Json } from '../../contract/document.ts';
import type { ContractOperation } from '../../contract/operations.ts';
import { parseMediaType, type MediaType } from '../../contract/media-type.ts';

// Ajv is CommonJS with a default export that Node and Vite read differently: required.
const require = createRequire(import.meta.url);
type ValidateFn = ((data: unknown) => boolean) & { errors?: unknown };
type Ajv = { compile(schema: object): ValidateFn; addFormat(name: string, format: object): void };
const AjvClass = ((m) => m.default ?? m)(require('ajv')) as new (options: object) => Ajv;
const addFormats = ((m) => m.default ?? m)(require('ajv-formats')) as (ajv: Ajv) => void;

/**
 * Prism's Ajv options (draft-07, the draft its operations declare), except `allErrors`: only a
 * verdict is needed here, so validation stops at the first error (a 1 MiB body of unknown
 * members is refused at its first). `validateSchema: false`: the contract is linted already.
 * `strictNumbers`: NaN and ±Infinity are no numbers (`strict: false` would let them pass even an
 * integer check): the response check judges a handler's object before its JSON, where they are null.
 */
function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new AjvClass({ allErrors: false, allowUnionTypes: true, allowMatchingProperties: true, strict: false, strictNumbers: true, logger: false, coerceTypes, validateSchema: false });
  addFormats(ajv);
  // RFC 3339 with every field in range and no leap second: at least as strict as both
  // ajv-formats' date-time and Prism's own.
  ajv.addFormat('date-time', { type: 'string', validate: isStrictDateTime });
  return ajv;
}
let ajvs: { coerce: Ajv; exact: Ajv } | undefined;
const ajv = (coerce: boolean) => (ajvs ??= { coerce: makeAjv(true), exact: makeAjv(false) })[coerce ? 'coerce' : 'exact'];

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** The last two values accepted: a response repeats the same instants (a receipt's time in several places, every read). */
let acceptedA: string | undefined;
let acceptedB: string | undefined;
function isStrictDateTime(value: string): boolean {
  if (value === acceptedA || value === acceptedB) return true;
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  const day = Number(m[3]);
  const zoneOk = m[8] === 'Z' || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
  const ok = days !== undefined && day >= 1 && day <= days && Number(m[4]) <= 23 && Number(m[5]) <= 59 && Number(m[6]) <= 59 && zoneOk;
  if (ok) {
    acceptedB = acceptedA;
    acceptedA = value;
  }
  return ok;
}

/** A schema's verdict, compiled on first use (start-up stays fast); a schema that throws accepts nothing. */
function lazyValidator(schema: object, coerce: boolean): (data: unknown) => boolean {
  let validate: ((data: unknown) => boolean) | undefined;
  return (data) => {
    validate ??= (() => {
      try {
        const compiled = ajv(coerce).compile(schema);
        return (value: unknown) => compiled(value) === true;
      } catch {
        return () => false;
      }
    })();
    try {
      return validate(data);
    } catch {
      return false;
    }
  };
}

/**
 * A Content-Type value parsed once: the same few values arrive on every request and response.
 * Bounded (a client may send endless values); the parsed objects are only ever read.
 */
const mediaTypes = new Map<string, MediaType | undefined>();
function mediaTypeOf(value: string): MediaType | undefined {
  const known = mediaTypes.get(value);
  if (known !== undefined || mediaTypes.has(value)) return known;
  const parsed = parseMediaType(value);
  if (mediaTypes.size < 256) mediaTypes.set(value, parsed);
  return parsed;
}

// ---------------------------------------------------------------- parameters

type Location = 'path' | 'query' | 'header';
export type Parameter = { name: string; in: string; required?: boolean; style?: string; explode?: boolean; deprecated?: boolean; schema?: Json; content?: Json };

/** The operation's parameters (path item's, then the operation's overriding them), `$ref`s resolved. */
export function parametersOf(document: Json, op: ContractOperation, pathItem: Json = document.paths[op.path]): Parameter[] {
  const byKey = new Map<string, Parameter>();
  for (const p of [...(pathItem.parameters ?? []), ...(op.operation.parameters ?? [])]) {
    const param = deref(document, p) as Parameter;
    byKey.set(`${param.in}:${param.name}`, { ...param, schema: inlineRefs(document, param.schema) });
  }
  return [...byKey.values()];
}

/**
 * What the request path does not support fails loudly at start-up (as stripe-mock does), not
 * at request time: parameters that are not primitive, not in their default style, or sent in
 * cookies.
 */
function assertSupported(op: ContractOperation, params: Parameter[]): void {
  for (const p of params) {
    const type = p.schema?.type;
    const where = `${op.operationId}: parameter ${p.in} ${p.name}`;
    if (!['path', 'query', 'header'].includes(p.in)) throw new Error(`${where}: only path, query and header parameters are supported`);
    if (p.content || !p.schema) throw new Error(`${where}: parameters need a schema (content is not supported)`);
    if (type === 'array' || type === 'object' || (Array.isArray(type) && type.some((t) => t === 'array' || t === 'object'))) throw new Error(`${where}: only primitive parameters are supported`);
    if (p.style && p.style !== (p.in === 'query' ? 'form' : 'simple')) throw new Error(`${where}: style ${p.style} is not supported`);
  }
}

type ParamCheck = (values: Record<string, unknown>) => boolean;

/** Prism's parameter check: values picked by lower-cased name, empty ones dropped, one object validated with coercion. */
function compileParams(params: Parameter[], where: Location): ParamCheck {
  const mine = params.filter((p) => p.in === where);
  if (!mine.length) return () => true;
  const properties: Record<string, unknown> = {};
  for (const p of mine) properties[p.name.toLowerCase()] = p.schema;
  const validate = lazyValidator({ type: 'object', properties, required: mine.filter((p) => p.required).map((p) => p.name.toLowerCase()) }, true);
  const names = [...new Set(mine.map((p) => p.name.toLowerCase()))];
  return (values) => {
    const picked: Record<string, unknown> = {};
    for (const name of names) {
      const value = values[name];
      // A repeated query parameter is an array, which no primitive accepts: Prism decides.
      if (Array.isArray(value)) return false;
      if (value) picked[name] = value;
    }
    return validate(picked);
  };
}

// ---------------------------------------------------------------- bodies

/**
 * A body schema as Prism validates it: `required` stripped of readOnly (requests) or writeOnly
 * (responses) members. Without any such member this is the schema itself; a schema using
 * `allOf` around them is left as it is (Ajv applies allOf at least as strictly as Prism's merge).
 */
function bodySchema(document: Json, schema: Json, context: 'request' | 'response'): object {
  const resolved = deref(document, schema);
  const hidden = context === 'request' ? 'readOnly' : 'writeOnly';
  if (!resolved?.properties || !Array.isArray(resolved.required)) return resolved;
  const drop = new Set(Object.entries<Json>(resolved.properties).filter(([, s]) => deref(document, s)?.[hidden]).map(([name]) => name));
  return drop.size ? { ...resolved, required: resolved.required.filter((name: string) => !drop.has(name)) } : resolved;
}

// ---------------------------------------------------------------- requests

export type RequestToCheck = {
  headers: Record<string, string>;
  query: Record<string, string | string[]>;
  /** Raw (still percent-encoded) path parameters, by name. */
  pathParams: Record<string, string>;
  /** The parsed JSON body, or undefined when none was sent. */
  body: unknown;
};

export type RequestCheck = (request: RequestToCheck) => boolean;

export function compileRequestCheck(document: Json, op: ContractOperation): RequestCheck {
  const pathItem = document.paths[op.path];
  const params = parametersOf(document, op, pathItem);
  assertSupported(op, params);
  const headers = compileParams(params, 'header');
  const query = compileParams(params, 'query');
  const path = compileParams(params, 'path');
  const requestBody = op.operation.requestBody ? deref(document, op.operation.requestBody) : undefined;
  const jsonSchema = requestBody?.content?.['application/json']?.schema;
  const body = jsonSchema ? lazyValidator(inlineRefs(document, bodySchema(document, jsonSchema, 'request')), false) : () => true;
  return (request) => {
    if (requestBody?.required && !request.body) return false;
    const contentType = request.headers['content-type'];
    if (contentType !== undefined && !mediaTypeOf(contentType)) return false;
    if ((parseInt(request.headers['content-length']!) || 0) !== 0 && !requestBody) return false;
    if (request.body !== undefined && !body(request.body)) return false;
    if (!headers(request.headers)) return false;
    if (!query(lowerKeys(request.query))) return false;
    const decoded: Record<string, string> = {};
    for (const [name, raw] of Object.entries(request.pathParams)) decoded[name.toLowerCase()] = decodeURIComponent(raw);
    return path(decoded);
  };
}

// ---------------------------------------------------------------- responses

export type ResponseToCheck = { status: number; headers: Record<string, string | string[]>; body: unknown };
export type ResponseCheck = (response: ResponseToCheck) => boolean;

/** The documented response for a status as Prism picks it: the exact code, then `4XX`, then `default`. */
function documentedResponse(responses: Record<string, Json>, status: number): Json | undefined {
  return responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses[`${String(status)[0]}xx`] ?? responses.default;
}

export function compileResponseCheck(document: Json, op: ContractOperation): ResponseCheck {
  const byStatus = new Map<number, ResponseCheck | undefined>();
  const compileFor = (status: number): ResponseCheck | undefined => {
    const documented = documentedResponse(op.operation.responses ?? {}, status);
    if (!documented) return undefined;
    const response = deref(document, documented);
    const contents = Object.entries<Json>(response.content ?? {}).map(([mediaType, c]) => ({
      mediaType: parseMediaType(mediaType),
      validate: c.schema ? lazyValidator(inlineRefs(document, bodySchema(document, c.schema, 'response')), false) : () => true,
    }));
    const headerParams: Parameter[] = Object.entries<Json>(response.headers ?? {}).map(([name, h]) => {
      const header = deref(document, h);
      return { ...header, name, in: 'header', schema: inlineRefs(document, header.schema) };
    });
    assertSupported(op, headerParams);
    const headers = compileParams(headerParams, 'header');
    return (res) => {
      if (contents.length) {
        const sent = typeof res.headers['content-type'] === 'string' ? mediaTypeOf(res.headers['content-type']) : undefined;
        if (!sent) return false;
        // The same type, and exactly the parameters the contract names (none, here): Prism's rule.
        let content: (typeof contents)[number] | undefined;
        for (const c of contents) {
          if (c.mediaType?.essence === sent.essence && sameParameters(c.mediaType.parameters, sent.parameters)) {
            content = c;
            break;
          }
        }
        if (!content || !content.validate(res.body)) return false;
      } else if (res.body !== undefined) {
        return false;
      }
      return headers(res.headers as Record<string, unknown>);
    };
  };
  return (res) => {
    if (!byStatus.has(res.status) && byStatus.size < 64) byStatus.set(res.status, compileFor(res.status));
    const check = byStatus.has(res.status) ? byStatus.get(res.status) : compileFor(res.status);
    return check ? check(res) : false;
  };
}

function sameParameters(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (b[k] !== a[k]) return false;
  return true;
}

function lowerKeys<T>(target: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(target)) out[key.toLowerCase()] = target[key]!;
  return out;
}
