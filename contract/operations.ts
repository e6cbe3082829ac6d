// The operations of a bundle, each with what every reader needs: method, path template (compiled),
// JSON pointer, its auth class, whether it takes a body and the body limit. Security features
// the PacSpace contract does not use fail loudly here, at load, not at request time.
import { escapePointerToken, type Json } from './document.ts';
import { compilePathTemplate, type PathTemplate } from './path-template.ts';

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** Who may call an operation. */
export type AuthRequirement =
  | { kind: 'public' }
  /** `X-Api-Key` with these permissions (scopes of ApiKeyAuth). */
  | { kind: 'apiKey'; permissions: string[] }
  /** The access cookie; `csrf`: also `X-Pacspace-CSRF: 1`. */
  | { kind: 'session'; csrf: boolean }
  /** The refresh cookie; `csrf`: also `X-Pacspace-CSRF: 1`. */
  | { kind: 'refresh'; csrf: boolean };

export type ContractOperation = {
  operationId: string;
  /** Lowercase, as in the document. */
  method: string;
  path: string;
  template: PathTemplate;
  /** `#/paths/~1api~1v1~1…/get` */
  pointer: string;
  auth: AuthRequirement;
  hasBody: boolean;
  /** `x-max-body-bytes` of the request body, if any. */
  maxBodyBytes: number | undefined;
  /** The operation object itself. */
  operation: Json;
};

const KNOWN_SCHEMES: Record<string, { type: string; in: string }> = {
  ApiKeyAuth: { type: 'apiKey', in: 'header' },
  DashboardSession: { type: 'apiKey', in: 'cookie' },
  DashboardRefresh: { type: 'apiKey', in: 'cookie' },
  CsrfHeader: { type: 'apiKey', in: 'header' },
  SandboxControl: { type: 'apiKey', in: 'header' },
};

export function authOf(id: string, security: Array<Record<string, string[]>>, documentSchemes: Record<string, Json>): AuthRequirement {
  if (security.length === 0) return { kind: 'public' };
  if (security.length > 1) throw new Error(`${id}: alternative security requirements are not supported`);
  const requirement = security[0]!;
  for (const name of Object.keys(requirement)) {
    const known = KNOWN_SCHEMES[name];
    const scheme = documentSchemes[name];
    if (!known || !scheme || scheme.type !== known.type || scheme.in !== known.in) throw new Error(`${id}: security scheme ${name} is not supported`);
  }
  const names = Object.keys(requirement).sort().join('+');
  switch (names) {
    case 'ApiKeyAuth':
      return { kind: 'apiKey', permissions: requirement.ApiKeyAuth ?? [] };
    case 'DashboardSession':
      return { kind: 'session', csrf: false };
    case 'CsrfHeader+DashboardSession':
      return { kind: 'session', csrf: true };
    case 'CsrfHeader+DashboardRefresh':
      return { kind: 'refresh', csrf: true };
    case 'SandboxControl':
      // The control token is optional (only with --control-token) and checked by the control surface itself.
      return { kind: 'public' };
    default:
      throw new Error(`${id}: security combination ${names} is not supported`);
  }
}

function maxBodyBytesOf(op: Json): number | undefined {
  const limit = op.requestBody?.['x-max-body-bytes'];
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new Error(`${op.operationId}: x-max-body-bytes must be a positive whole number, got ${limit}`);
  return limit;
}

const cache = new WeakMap<object, ContractOperation[]>();

/** Every operation of the document's `paths`, in document order (computed once per document). */
export function listOperations(doc: Json): ContractOperation[] {
  const cached = cache.get(doc);
  if (cached) return cached;
  const schemes = doc.components?.securitySchemes ?? {};
  const out: ContractOperation[] = [];
  for (const [path, item] of Object.entries<Json>(doc.paths ?? {})) {
    const template = compilePathTemplate(path);
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${path}: every operation needs an operationId`);
      out.push({
        operationId: op.operationId,
        method,
        path,
        template,
        pointer: `#/paths/${escapePointerToken(path)}/${method}`,
        auth: authOf(op.operationId, op.security ?? doc.security ?? [], schemes),
        hasBody: Object.keys(op.requestBody?.content ?? {}).length > 0,
        maxBodyBytes: maxBodyBytesOf(op),
        operation: op,
      });
    }
  }
  cache.set(doc, out);
  return out;
}

/** The operation a request (method, path without query) goes to; concrete templates win over parameterised ones. */
export function findOperation(operations: ContractOperation[], method: string, path: string): ContractOperation | undefined {
  const m = method.toLowerCase();
  let best: ContractOperation | undefined;
  for (const op of operations) if (op.method === m && op.template.test(path) && (!best || op.template.parameters < best.template.parameters)) best = op;
  return best;
}

/** The methods (uppercase) the contract documents at a concrete request path, for 405 + Allow. */
export function allowedMethods(operations: ContractOperation[], path: string): string[] {
  return [...new Set(operations.filter((o) => o.template.test(path)).map((o) => o.method.toUpperCase()))];
}
