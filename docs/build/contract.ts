// Reading the bundled contract (generated/openapi.json) for the docs build: the operations in
// document order (paths, then the top-level webhooks), their tag, parameters, example values and
// how they authenticate. Everything the code samples and the reference checks need comes from here.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deref as sharedDeref } from '../../contract/document.ts';
import { authOf } from '../../contract/operations.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_JSON = `${ROOT}generated/openapi.json`;

// The bundle is plain JSON: a loose type keeps the walking code readable.
export type Json = any;

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export type Auth =
  /** `X-Api-Key` (Balance API). */
  | 'api-key'
  /** No credentials on the Balance API (`GET /api/v1/verify/{proofRoot}`). */
  | 'public-balance'
  /** No credentials on the Dashboard API (request-access, login, register, …). */
  | 'public-dashboard'
  /** httpOnly session cookies (Dashboard API). */
  | 'session'
  /** A webhook event PacSpace sends to you. */
  | 'webhook';

export type Operation = {
  operationId: string;
  summary: string;
  tag: string;
  method: string;
  /** The path (`/api/v1/...`) or, for a webhook, the event name (`delta.recorded`). */
  path: string;
  kind: 'path' | 'webhook';
  auth: Auth;
  /** Unsafe cookie-authenticated operation: sends `X-Pacspace-CSRF: 1`. */
  csrf: boolean;
  /** The operation object of the bundle (mutable: the build adds `x-codeSamples` to it). */
  object: Json;
  pathParams: Array<{ name: string; value: unknown }>;
  queryParams: Array<{ name: string; value: unknown; required: boolean }>;
  headerParams: Array<{ name: string; value: unknown; required: boolean }>;
  /** The first named example of the JSON request body, if the operation has a body. */
  body: { value: Json; required: boolean } | undefined;
};

export function readBundle(file = BUNDLE_JSON): Json {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Follows local `$ref`s of the bundle (the shared contract module's resolution). */
export const deref = sharedDeref;

/** An example value for a parameter: `example`, the first of `examples`, the schema's example or default. */
function exampleOf(spec: Json, parameter: Json): unknown {
  if (parameter.example !== undefined) return parameter.example;
  const named = parameter.examples && Object.values(parameter.examples)[0];
  if (named) return deref(spec, named).value;
  const schema = deref(spec, parameter.schema ?? {});
  if (schema.example !== undefined) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  return schema.default;
}

export function listOperations(spec: Json): Operation[] {
  const out: Operation[] = [];
  const sections: Array<['path' | 'webhook', Record<string, Json>]> = [
    ['path', spec.paths ?? {}],
    ['webhook', spec.webhooks ?? {}],
  ];
  for (const [kind, items] of sections) {
    for (const [path, rawItem] of Object.entries(items)) {
      const item = deref(spec, rawItem);
      for (const method of METHODS) {
        const object = item[method];
        if (!object) continue;
        const parameters = [...(item.parameters ?? []), ...(object.parameters ?? [])].map((p: Json) => deref(spec, p));
        const value = (p: Json) => {
          const v = exampleOf(spec, p);
          if (v === undefined && (p.required || p.in === 'path')) throw new Error(`${object.operationId}: parameter ${p.name} has no example`);
          return v;
        };
        // The shared classification (contract/operations.ts), in the docs' terms.
        const requirement = kind === 'webhook' ? undefined : authOf(object.operationId, object.security ?? spec.security ?? [], spec.components?.securitySchemes ?? {});
        const auth: Auth =
          requirement === undefined
            ? 'webhook'
            : requirement.kind === 'apiKey'
              ? 'api-key'
              : requirement.kind === 'session' || requirement.kind === 'refresh'
                ? 'session'
                : path.startsWith('/dashboard/')
                  ? 'public-dashboard'
                  : 'public-balance';
        const requestBody = object.requestBody ? deref(spec, object.requestBody) : undefined;
        const media = requestBody?.content?.['application/json'];
        const firstExample = media?.examples ? deref(spec, Object.values(media.examples)[0]).value : media?.example;
        if (requestBody && firstExample === undefined) throw new Error(`${object.operationId}: the request body has no example`);
        out.push({
          operationId: object.operationId,
          summary: object.summary,
          tag: object.tags?.[0] ?? '',
          method,
          path,
          kind,
          auth,
          csrf: requirement !== undefined && 'csrf' in requirement && requirement.csrf,
          object,
          pathParams: parameters.filter((p) => p.in === 'path').map((p) => ({ name: p.name, value: value(p) })),
          queryParams: parameters
            .filter((p) => p.in === 'query')
            .map((p) => ({ name: p.name, value: value(p), required: !!p.required }))
            .filter((p) => p.value !== undefined),
          headerParams: parameters
            .filter((p) => p.in === 'header')
            .map((p) => ({ name: p.name, value: value(p), required: !!p.required }))
            .filter((p) => p.value !== undefined),
          body: requestBody ? { value: firstExample, required: !!requestBody.required } : undefined,
        });
      }
    }
  }
  const ids = new Set<string>();
  for (const op of out) {
    if (!op.operationId) throw new Error(`${op.method.toUpperCase()} ${op.path} has no operationId`);
    if (ids.has(op.operationId)) throw new Error(`duplicate operationId ${op.operationId}`);
    ids.add(op.operationId);
  }
  return out;
}

/** The URL-safe slug Redoc uses for tags in its routes ("Dashboard auth" → "dashboard-auth"). */
export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Where Redoc (hash routing) shows an operation on the reference page: `#/{tag}/{operationid}`. */
export function referenceRoute(op: Pick<Operation, 'tag' | 'operationId'>): string {
  return `#/${slug(op.tag)}/${op.operationId.toLowerCase()}`;
}
