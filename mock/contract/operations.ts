// Builds the sandbox's routing table from the bundled contract at start-up (as stripe-mock
// does): Prism's operations for routing and validation, plus what the auth gate needs to
// know of each operation — read through the shared contract module (contract/), which fails
// loudly on spec features the sandbox does not implement.
import type { IHttpOperation } from '@stoplight/types';
import { readBundle } from '../../contract/document.ts';
import { allowedMethods, listOperations, type AuthRequirement, type ContractOperation } from '../../contract/operations.ts';

export type { AuthRequirement };

export type OperationInfo = ContractOperation;

export type OperationTable = {
  prism: IHttpOperation[];
  byId: Map<string, OperationInfo>;
  /** Methods served at a concrete request path (for 405 Allow). */
  allowedMethods(path: string): string[];
  pathParams(op: OperationInfo, path: string): Record<string, string>;
};

export { readBundle };

/** `document` is a bundle of generated/; `prism` its Prism operations (generated/<name>.prism.json). */
export async function loadOperations(document: any, prism: IHttpOperation[]): Promise<OperationTable> {
  const all = listOperations(document);
  for (const op of all) {
    const types = Object.keys(op.operation.requestBody?.content ?? {});
    if (types.some((t) => t !== 'application/json')) throw new Error(`${op.operationId}: request media types other than application/json are not supported (${types})`);
  }
  const byId = new Map(all.map((op) => [op.operationId, op]));
  for (const op of prism) {
    if (!op.iid || !byId.has(op.iid)) throw new Error(`Prism operation ${op.method} ${op.path} has no operationId`);
  }
  return {
    prism,
    byId,
    allowedMethods: (path) => allowedMethods(all, path),
    pathParams(op, path) {
      const raw = op.template.match(path) ?? {};
      return Object.fromEntries(op.template.names.map((name) => [name, decodeURIComponent(raw[name] ?? '')]));
    },
  };
}
