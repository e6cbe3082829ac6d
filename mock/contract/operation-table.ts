// One surface's routing table, compiled from its bundled contract at start-up (as stripe-mock
// does): every operation with its compiled path template, auth class, body limits and its
// compiled request and response checks, indexed by method, concrete templates before
// parameterised ones. Read through the shared contract module (contract/), which fails loudly
// on spec features the sandbox does not implement; so does this table (validation.ts).
import type { Json } from '../../contract/document.ts';
import { isDecodable } from '../../contract/path-template.ts';
import { allowedMethods, listOperations, type AuthRequirement, type ContractOperation } from '../../contract/operations.ts';
import { compileRequestCheck, compileResponseCheck, parametersOf, type RequestCheck, type RequestToCheck, type ResponseCheck } from './validation.ts';
import { createPrism, type PrismForContract } from './prism.ts';

export type { AuthRequirement };

export type TableOperation = ContractOperation & {
  /**
   * What the contract refuses and Prism's validator would not word, worded here: a path
   * parameter that does not percent-decode (Prism's validator throws on it), an empty header
   * whose schema needs a character (Prism takes it for an absent one), a number parameter that
   * reads as Infinity (`1e309`: Prism takes it for a number). None: the same empty list.
   */
  ownViolations(request: Pick<RequestToCheck, 'headers' | 'query' | 'pathParams'>): OwnViolation[];
  checkRequest: RequestCheck;
  checkResponse: ResponseCheck;
  /** Prism for the operation's contract (its validator's wording, its mocker), loaded on first use. */
  prism: PrismForContract;
};

export type Route =
  | { kind: 'operation'; operation: TableOperation; rawParams: Record<string, string> }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allowed: string[] };

export type OperationTable = {
  document: Json;
  operations: TableOperation[];
  byId: Map<string, TableOperation>;
  route(method: string, path: string): Route;
  prism: PrismForContract;
};

/** `document`: a bundled contract (generated/openapi.json, generated/sandbox-control.json), never changed here. */
export function compileOperationTable(document: Json): OperationTable {
  const prism = createPrism(document);
  const operations: TableOperation[] = listOperations(document).map((op) => {
    const types = Object.keys(op.operation.requestBody?.content ?? {});
    if (types.some((t) => t !== 'application/json')) throw new Error(`${op.operationId}: request media types other than application/json are not supported (${types})`);
    const ownViolations = compileOwnViolations(document, op);
    const check = compileRequestCheck(document, op);
    // The compiled check accepts only what needs no wording.
    const checkRequest: RequestCheck = (request) => ownViolations(request).length === 0 && check(request);
    return { ...op, ownViolations, checkRequest, checkResponse: compileResponseCheck(document, op), prism };
  });
  const byMethod = new Map<string, TableOperation[]>();
  for (const op of [...operations].sort((a, b) => a.template.parameters - b.template.parameters)) {
    byMethod.set(op.method, [...(byMethod.get(op.method) ?? []), op]);
  }
  return {
    document,
    operations,
    byId: new Map(operations.map((op) => [op.operationId, op])),
    prism,
    route(method, path) {
      for (const op of byMethod.get(method.toLowerCase()) ?? []) {
        const rawParams = op.template.match(path);
        if (rawParams) return { kind: 'operation', operation: op, rawParams };
      }
      const allowed = allowedMethods(operations, path);
      return allowed.length ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
    },
  };
}

export type OwnViolation = { location: string[]; severity: 'Error'; code: string; message: string };
const NONE: OwnViolation[] = [];

function compileOwnViolations(document: Json, op: ContractOperation): TableOperation['ownViolations'] {
  const params = parametersOf(document, op);
  const nonEmptyHeaders = params.filter((p) => p.in === 'header' && (p.schema?.minLength ?? 0) >= 1).map((p) => p.name.toLowerCase());
  const numeric = params
    .filter((p) => p.schema?.type === 'integer' || p.schema?.type === 'number')
    .map((p) => ({ where: p.in as 'path' | 'query' | 'header', name: p.in === 'header' ? p.name.toLowerCase() : p.name }));
  const pathNames = op.template.names;
  if (!pathNames.length && !nonEmptyHeaders.length && !numeric.length) return () => NONE;
  return (request) => {
    let out = NONE;
    for (const name of pathNames) {
      if (!isDecodable(request.pathParams[name] ?? '')) out = [...out, { location: ['path', name], severity: 'Error', code: 'encoding', message: `Request path parameter ${name} is not valid percent-encoded UTF-8` }];
    }
    // A path that does not decode is all the answer says: its other checks read decoded values.
    if (out.length) return out;
    for (const name of nonEmptyHeaders) {
      if (request.headers[name] === '') out = [...out, { location: ['header', name], severity: 'Error', code: 'minLength', message: `Request header ${name} must not be empty` }];
    }
    for (const { where, name } of numeric) {
      const value = where === 'path' ? request.pathParams[name] : where === 'query' ? request.query[name] : request.headers[name];
      if (typeof value === 'string' && value.trim() !== '' && Math.abs(Number(value)) === Infinity) {
        out = [...out, { location: [where, name], severity: 'Error', code: 'type', message: `Request ${where} parameter ${name} must be a finite number` }];
      }
    }
    return out;
  };
}
