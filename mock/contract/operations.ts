// Builds the sandbox's routing table from the bundled contract at start-up (as stripe-mock
// does): Prism's operations for routing and validation, plus what the auth gate needs to
// know of each operation. Spec features the sandbox does not implement fail loudly here,
// not at request time.
import { readFileSync } from 'node:fs';
import type { IHttpOperation } from '@stoplight/types';
import { generatedFile } from '../../contract/files.ts';

export type AuthRequirement =
  | { kind: 'public' }
  | { kind: 'apiKey'; permissions: string[] }
  | { kind: 'session'; csrf: boolean }
  | { kind: 'refresh'; csrf: boolean };

export type OperationInfo = {
  operationId: string;
  method: string;
  path: string;
  auth: AuthRequirement;
  hasBody: boolean;
  /** The contract's `x-max-body-bytes` of the request body, if any: larger bodies are a 413, unparsed. */
  maxBodyBytes: number | undefined;
  /** Matches a request path and captures the path parameters by name. */
  pattern: RegExp;
  params: string[];
};

export type OperationTable = {
  prism: IHttpOperation[];
  byId: Map<string, OperationInfo>;
  /** Methods served at a concrete request path (for 405 Allow). */
  allowedMethods(path: string): string[];
  pathParams(op: OperationInfo, path: string): Record<string, string>;
};

export function readBundle(name: string): any {
  return JSON.parse(readFileSync(generatedFile(`${name}.json`), 'utf8'));
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
const KNOWN_SCHEMES: Record<string, { type: string; in: string }> = {
  ApiKeyAuth: { type: 'apiKey', in: 'header' },
  DashboardSession: { type: 'apiKey', in: 'cookie' },
  DashboardRefresh: { type: 'apiKey', in: 'cookie' },
  CsrfHeader: { type: 'apiKey', in: 'header' },
  SandboxControl: { type: 'apiKey', in: 'header' },
};

function authOf(id: string, security: Array<Record<string, string[]>>, documentSchemes: Record<string, any>): AuthRequirement {
  if (security.length === 0) return { kind: 'public' };
  if (security.length > 1) throw new Error(`${id}: alternative security requirements are not supported by the sandbox`);
  const requirement = security[0]!;
  for (const name of Object.keys(requirement)) {
    const known = KNOWN_SCHEMES[name];
    const scheme = documentSchemes[name];
    if (!known || !scheme || scheme.type !== known.type || scheme.in !== known.in) {
      throw new Error(`${id}: security scheme ${name} is not supported by the sandbox`);
    }
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
      return { kind: 'public' };
    default:
      throw new Error(`${id}: security combination ${names} is not supported by the sandbox`);
  }
}

/** `document` is a bundle of generated/; `prism` its Prism operations (generated/<name>.prism.json). */
function maxBodyBytesOf(op: any): number | undefined {
  const limit = op.requestBody?.['x-max-body-bytes'];
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new Error(`${op.operationId}: x-max-body-bytes must be a positive whole number, got ${limit}`);
  return limit;
}

export async function loadOperations(document: any, prism: IHttpOperation[]): Promise<OperationTable> {
  const byId = new Map<string, OperationInfo>();
  const schemes = document.components?.securitySchemes ?? {};
  for (const [path, item] of Object.entries<any>(document.paths ?? {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!op.operationId) throw new Error(`${method.toUpperCase()} ${path}: every operation needs an operationId`);
      const types = Object.keys(op.requestBody?.content ?? {});
      if (types.some((t) => t !== 'application/json')) {
        throw new Error(`${op.operationId}: request media types other than application/json are not supported (${types})`);
      }
      const params: string[] = [];
      const pattern = new RegExp(
        `^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{([^}]+)\\?\}/g, (_m, name: string) => {
          params.push(name);
          return '([^/]+)';
        })}$`,
      );
      byId.set(op.operationId, {
        operationId: op.operationId,
        method,
        path,
        auth: authOf(op.operationId, op.security ?? document.security ?? [], schemes),
        hasBody: types.length > 0,
        maxBodyBytes: maxBodyBytesOf(op),
        pattern,
        params,
      });
    }
  }
  for (const op of prism) {
    if (!op.iid || !byId.has(op.iid)) throw new Error(`Prism operation ${op.method} ${op.path} has no operationId`);
  }
  const all = [...byId.values()];
  return {
    prism,
    byId,
    allowedMethods: (path) => [...new Set(all.filter((o) => o.pattern.test(path)).map((o) => o.method.toUpperCase()))],
    pathParams(op, path) {
      const match = op.pattern.exec(path);
      return Object.fromEntries(op.params.map((name, i) => [name, decodeURIComponent(match?.[i + 1] ?? '')]));
    },
  };
}
