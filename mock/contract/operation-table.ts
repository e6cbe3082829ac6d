// One surface's routing table, compiled from its bundled contract at start-up (as stripe-mock
// does): every operation with its compiled path template, auth class, body limits and its
// compiled request and response checks, indexed by method, concrete templates before
// parameterised ones. Read through the shared contract module (contract/), which fails loudly
// on spec features the sandbox does not implement; so does this table (validation.ts).
import type { Json } from '../../contract/document.ts';
import { allowedMethods, listOperations, type AuthRequirement, type ContractOperation } from '../../contract/operations.ts';
import { compileRequestCheck, compileResponseCheck, parametersOf, type RequestCheck, type ResponseCheck } from './validation.ts';
import { createPrism, type PrismForContract } from './prism.ts';

export type { AuthRequirement };

export type TableOperation = ContractOperation & {
  /**
   * Header parameters (lower-cased) whose schema needs at least one character. Prism's validator
   * takes an empty header for an absent one; the contract does not, so the path refuses it.
   */
  nonEmptyHeaders: string[];
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
    const nonEmptyHeaders = parametersOf(document, op)
      .filter((p) => p.in === 'header' && (p.schema?.minLength ?? 0) >= 1)
      .map((p) => p.name.toLowerCase());
    const check = compileRequestCheck(document, op);
    // The compiled check accepts only what needs no wording: an empty such header is refused.
    const checkRequest: RequestCheck = nonEmptyHeaders.length ? (request) => nonEmptyHeaders.every((name) => request.headers[name] !== '') && check(request) : check;
    return { ...op, nonEmptyHeaders, checkRequest, checkResponse: compileResponseCheck(document, op), prism };
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
