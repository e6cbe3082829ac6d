// The per-operation table, derived from the contract (generated/openapi.json) and nothing else:
// each operation's auth class (from its security requirements), the permissions it needs, its
// one documented success status and response, and how to fill its path parameters, query and
// body. An operation added to the contract joins every table-driven check automatically.
import { randomBytes } from 'node:crypto';
import { deref as derefIn } from '../../../contract/document.ts';
import { authOf } from '../../../contract/operations.ts';
import { loadContract } from '../../lib/contract.ts';

export type AuthKind = 'public' | 'api key' | 'session' | 'session + CSRF' | 'refresh cookie + CSRF' | 'unknown';

export type Operation = {
  operationId: string;
  method: string;
  /** The contract's path template, e.g. `/dashboard/webhooks/{id}`. */
  path: string;
  tags: string[];
  auth: AuthKind;
  /** The API key permissions (scopes) it requires. */
  permissions: string[];
  /** The one documented 2xx status. */
  success: number;
  /** The documented success response (dereferenced): `content`, `headers`. */
  successResponse: any;
  /** Documented statuses. */
  statuses: number[];
  /** Dereferenced parameters. */
  parameters: any[];
  /** The first example of the JSON request body, if the contract gives one. */
  exampleBody: unknown;
  /** True for the Dashboard surface (cookies), false for the Balance API base URL. */
  dashboard: boolean;
};

let contract: ReturnType<typeof loadContract> | undefined;
/** The contract, loaded once per process (compiling its schemas is the costly part). */
export const theContract = () => (contract ??= loadContract());

let table: Operation[] | undefined;

/** Every contract operation, in the contract's order. */
export function operations(): Operation[] {
  if (table) return table;
  const c = theContract();
  const doc = c.doc;
  const deref = (node: any): any => derefIn(doc, node);
  table = c.operations.map(({ method, path, operation }) => {
    const security: Array<Record<string, string[]>> = operation.security ?? doc.security ?? [];
    const statuses = Object.keys(operation.responses ?? {}).filter((s) => /^\d{3}$/.test(s)).map(Number);
    const success = statuses.find((s) => s >= 200 && s < 300) ?? 0;
    const media = deref(operation.requestBody)?.content?.['application/json'];
    const examples = media?.examples ? Object.values<any>(media.examples).map((e) => deref(e)?.value) : [];
    return {
      operationId: operation.operationId,
      method,
      path,
      tags: operation.tags ?? [],
      auth: authKind(operation.operationId, security, doc.components?.securitySchemes ?? {}),
      permissions: security.flatMap((r) => r.ApiKeyAuth ?? []),
      success,
      successResponse: deref(operation.responses?.[String(success)]) ?? {},
      statuses,
      parameters: (operation.parameters ?? []).map(deref),
      exampleBody: media?.example ?? examples[0],
      dashboard: path.startsWith('/dashboard/'),
    };
  });
  return table;
}

/** The auth class of an operation, as the shared contract module reads it; one it cannot read is `unknown` (the checks say so). */
function authKind(id: string, security: Array<Record<string, string[]>>, schemes: Record<string, unknown>): AuthKind {
  try {
    const a = authOf(id, security, schemes);
    if (a.kind === 'public') return 'public';
    if (a.kind === 'apiKey') return 'api key';
    if (a.kind === 'session') return a.csrf ? 'session + CSRF' : 'session';
    return a.csrf ? 'refresh cookie + CSRF' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Every permission an API key can have, as the contract's operations require them. */
export const allPermissions = () => [...new Set(operations().flatMap((o) => o.permissions))].sort();

/** The operation's documented success media type (the essence), e.g. application/json. */
export const successMediaType = (op: Operation) => Object.keys(op.successResponse.content ?? {})[0];

/** A well-formed e-mailed token that no deployment issued (32 base64url characters). */
export const unknownToken = () => randomBytes(24).toString('base64url');

/** Values for path parameters: by name, or `segment/name` for a generic name like `id` (`api-keys/id`). */
export type PathValues = Record<string, string | undefined>;

/** The concrete path of an operation, or the name of the path parameter no value is known for. */
export function fillPath(op: Operation, values: PathValues): { path: string } | { missing: string } {
  const segments = op.path.split('/');
  let missing: string | undefined;
  const filled = segments.map((segment, i) => {
    const name = /^\{(.+)\}$/.exec(segment)?.[1];
    if (!name) return segment;
    const value = values[`${segments[i - 1]}/${name}`] ?? values[name];
    if (value === undefined) missing ??= name;
    return encodeURIComponent(value ?? '');
  });
  return missing ? { missing } : { path: filled.join('/') };
}

/** The query of a request: `page=1&limit=N` for paged lists, the required parameters from `values`. */
export function queryFor(op: Operation, values: PathValues, limit = 2): string {
  const query = new URLSearchParams();
  for (const p of op.parameters) {
    if (p?.in !== 'query') continue;
    if (p.name === 'page') query.set('page', '1');
    else if (p.name === 'limit') query.set('limit', String(limit));
    else if (p.required && values[p.name] !== undefined) query.set(p.name, values[p.name]!);
  }
  const s = query.toString();
  return s ? `?${s}` : '';
}

/** The schema of a paged list's `data`, when the success body is the list envelope. */
export function pageSchemaOf(op: Operation): { limitMax?: number } | undefined {
  const doc = theContract().doc;
  const deref = (n: any): any => derefIn(doc, n);
  const schema = deref(op.successResponse.content?.[successMediaType(op) ?? '']?.schema);
  const data = deref(schema?.properties?.data);
  const props = data?.properties ?? {};
  return ['items', 'total', 'page', 'limit'].every((k) => k in props) ? {} : undefined;
}

/** The success envelope's required members and their constant values, from the contract. */
export function envelopeOf(op: Operation): { required: string[]; consts: Record<string, unknown> } {
  const doc = theContract().doc;
  const deref = (n: any): any => derefIn(doc, n);
  const schema = deref(op.successResponse.content?.[successMediaType(op) ?? '']?.schema) ?? {};
  const consts: Record<string, unknown> = {};
  for (const [k, v] of Object.entries<any>(schema.properties ?? {})) if (v && 'const' in v) consts[k] = v.const;
  return { required: schema.required ?? [], consts };
}

export const kebab = (id: string) => id.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
