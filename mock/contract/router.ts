// A compiled router for Prism's pipeline. Prism's own router scores and sorts every
// operation of the contract on every request, which made routing most of a request's cost;
// this one compiles each path template to a regular expression once, indexes them by
// method, and tries concrete templates before parameterised ones — the same answers
// (including 404 vs 405) at a fraction of the cost.
import type { IHttpRequest } from '@stoplight/prism-http';
import type { IHttpOperation } from '@stoplight/types';
import * as E from 'fp-ts/lib/Either.js';
import { compilePathTemplate, type PathTemplate } from '../../contract/path-template.ts';
import { NO_METHOD_MATCHED_ERROR, NO_PATH_MATCHED_ERROR, ProblemJsonError } from './prism.ts';

type Compiled = { operation: IHttpOperation; template: PathTemplate };

export function createRouter(operations: IHttpOperation[]) {
  const all: Compiled[] = operations
    .map((operation) => ({ operation, template: compilePathTemplate(operation.path) }))
    .sort((a, b) => a.template.parameters - b.template.parameters);
  const byMethod = new Map<string, Compiled[]>();
  for (const c of all) {
    const method = c.operation.method.toLowerCase();
    byMethod.set(method, [...(byMethod.get(method) ?? []), c]);
  }
  return ({ input }: { resources: IHttpOperation[]; input: IHttpRequest }): E.Either<Error, IHttpOperation> => {
    const path = input.url.path;
    const match = byMethod.get(input.method.toLowerCase())?.find((c) => c.template.test(path));
    if (match) return E.right(match.operation);
    const known = all.some((c) => c.template.test(path));
    return E.left(ProblemJsonError.fromTemplate(known ? NO_METHOD_MATCHED_ERROR : NO_PATH_MATCHED_ERROR));
  };
}
