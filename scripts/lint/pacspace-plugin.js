// Redocly plugin with the PacSpace conventions that configurable `rule/…` assertions cannot
// express because they need the operation a (possibly $ref'd) schema is used from.
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const COMPOSITES = ['allOf', 'oneOf', 'anyOf', 'prefixItems'];

/**
 * reveal-once: secrets that are shown once must (a) carry `x-reveal-once: true` wherever a
 * property of a configured name holds them, and (b) appear only in the 2xx responses of the
 * operations allowed to reveal them: never in requests, other responses or webhook payloads.
 */
function RevealOnce(opts) {
  const fields = new Set(opts.fields ?? ['secretKey', 'fullKey', 'secret']);
  const allowed = new Set(opts.allowedOperations ?? []);
  return {
    Root: {
      enter(root, ctx) {
        const seen = new Set();
        const deref = (node, location) => {
          if (node && typeof node === 'object' && typeof node.$ref === 'string') {
            const r = ctx.resolve(node, location.source.absoluteRef);
            return r.node ? { node: r.node, location: r.location } : { node: undefined, location };
          }
          return { node, location };
        };
        const walkSchema = (raw, location, where, mayReveal) => {
          const { node, location: loc } = deref(raw, location);
          if (!node || typeof node !== 'object') return;
          const key = `${loc.absolutePointer}|${mayReveal}|${where}`;
          if (seen.has(key)) return;
          seen.add(key);
          if (node['x-reveal-once'] === true && !mayReveal) {
            ctx.report({
              message: `Reveal-once schema used in ${where}: secrets may appear only in the 2xx responses of ${[...allowed].join(', ')}.`,
              location,
            });
          }
          for (const [name, prop] of Object.entries(node.properties ?? {})) {
            const propLoc = loc.child(['properties', name]);
            if (fields.has(name)) {
              const resolved = deref(prop, propLoc).node;
              if (!resolved || resolved['x-reveal-once'] !== true) {
                ctx.report({ message: `Property "${name}" holds a secret and must be marked x-reveal-once: true.`, location: propLoc });
              }
            }
            walkSchema(prop, propLoc, where, mayReveal);
          }
          for (const k of COMPOSITES) {
            (node[k] ?? []).forEach((s, i) => walkSchema(s, loc.child([k, i]), where, mayReveal));
          }
          for (const k of ['items', 'additionalProperties', 'not', 'if', 'then', 'else']) {
            if (node[k] && typeof node[k] === 'object') walkSchema(node[k], loc.child(k), where, mayReveal);
          }
        };
        const walkContent = (content, location, where, mayReveal) => {
          for (const [mt, media] of Object.entries(content ?? {})) {
            const m = deref(media, location.child(mt));
            if (m.node?.schema) walkSchema(m.node.schema, m.location.child('schema'), where, mayReveal);
          }
        };
        const walkOperation = (op, location, name, isWebhook) => {
          const id = op.operationId ?? name;
          for (const [i, p] of (op.parameters ?? []).entries()) {
            const param = deref(p, location.child(['parameters', i]));
            if (param.node?.schema) walkSchema(param.node.schema, param.location.child('schema'), `a parameter of ${id}`, false);
          }
          if (op.requestBody) {
            const body = deref(op.requestBody, location.child('requestBody'));
            walkContent(body.node?.content, body.location.child('content'), isWebhook ? `the payload of webhook ${name}` : `the request body of ${id}`, false);
          }
          for (const [code, r] of Object.entries(op.responses ?? {})) {
            const res = deref(r, location.child(['responses', code]));
            const mayReveal = !isWebhook && allowed.has(op.operationId) && /^2/.test(code);
            walkContent(res.node?.content, res.location.child('content'), `the ${code} response of ${id}`, mayReveal);
            for (const [h, header] of Object.entries(res.node?.headers ?? {})) {
              const hd = deref(header, res.location.child(['headers', h]));
              if (hd.node?.schema) walkSchema(hd.node.schema, hd.location.child('schema'), `header ${h} of ${id}`, false);
            }
          }
        };
        const walkPathItems = (items, base, isWebhook) => {
          for (const [name, raw] of Object.entries(items ?? {})) {
            const item = deref(raw, base.child(name));
            for (const m of METHODS) {
              if (item.node?.[m]) walkOperation(item.node[m], item.location.child(m), name, isWebhook);
            }
          }
        };
        walkPathItems(root.paths, ctx.location.child('paths'), false);
        walkPathItems(root.webhooks, ctx.location.child('webhooks'), true);
      },
    },
  };
}

const UNSAFE = new Set(['post', 'put', 'patch', 'delete']);

/** Calls visit(operation, location, "METHOD /path") for every operation under `paths`. */
function forEachOperation(root, ctx, visit) {
  for (const [path, rawItem] of Object.entries(root.paths ?? {})) {
    const itemLoc = ctx.location.child(['paths', path]);
    const r = rawItem.$ref ? ctx.resolve(rawItem, itemLoc.source.absoluteRef) : { node: rawItem, location: itemLoc };
    if (!r.node) continue;
    for (const m of METHODS) {
      if (r.node[m]) visit(r.node[m], r.location.child(m), `${m.toUpperCase()} ${path}`, m, path);
    }
  }
}

/**
 * problem-json-errors: every 4xx and 5xx answer of the API (not of webhook receivers) is
 * RFC 9457 problem+json with the shared Problem schema, and nothing else.
 */
function ProblemJsonErrors() {
  return {
    Root: {
      enter(root, ctx) {
        forEachOperation(root, ctx, (op, loc, label) => {
          for (const [code, raw] of Object.entries(op.responses ?? {})) {
            if (!/^[45]/.test(code)) continue;
            const res = raw.$ref ? ctx.resolve(raw, loc.source.absoluteRef) : { node: raw, location: loc.child(['responses', code]) };
            const types = Object.keys(res.node?.content ?? {});
            const schema = res.node?.content?.['application/problem+json']?.schema;
            if (types.join() !== 'application/problem+json' || !schema?.$ref?.endsWith('Problem.yaml')) {
              ctx.report({
                message: `${label}: response ${code} must be application/problem+json (only) with the Problem schema.`,
                location: res.location,
              });
            }
          }
        });
      },
    },
  };
}

/**
 * auth-conventions: the security rules of the brief, checked per operation.
 * - Balance API (/api/v1, except the public verify): X-Api-Key with the permission as scope,
 *   and 401, 403 and 429 documented.
 * - Dashboard API: exactly the public routes have `security: []`; all others use a session
 *   cookie, unsafe methods together with the CSRF header (and document 403), safe ones without.
 * - Every response of the API carries X-Request-Id.
 */
function AuthConventions(opts) {
  const publicPaths = new Set(opts.publicPaths ?? []);
  const permissions = new Set(opts.permissions ?? ['balance:read', 'balance:write']);
  return {
    Root: {
      enter(root, ctx) {
        forEachOperation(root, ctx, (op, loc, label, m, path) => {
          const fail = (message) => ctx.report({ message: `${label}: ${message}`, location: loc });
          const security = op.security;
          const codes = Object.keys(op.responses ?? {});
          const needs = (list) => list.filter((c) => !codes.includes(c));
          if (!Array.isArray(security)) { fail('security must be declared on the operation.'); return; }
          const isPublic = security.length === 0;
          if (path.startsWith('/api/v1/')) {
            if (path.startsWith('/api/v1/verify/')) {
              if (!isPublic) fail('verify is public: security must be [].');
            } else {
              const ok = security.length === 1 && Object.keys(security[0]).join() === 'ApiKeyAuth' &&
                security[0].ApiKeyAuth.length > 0 && security[0].ApiKeyAuth.every((s) => permissions.has(s));
              if (!ok) fail(`Balance API operations require exactly ApiKeyAuth with their permission (${[...permissions].join(', ')}) as scope.`);
              if (needs(['401', '403', '429']).length) fail(`must document ${needs(['401', '403', '429']).join(', ')}.`);
            }
          } else if (path.startsWith('/dashboard/')) {
            if (publicPaths.has(path)) {
              if (!isPublic) fail('this is a public dashboard route: security must be [].');
            } else if (isPublic) {
              fail('only the documented public dashboard routes may have security [].');
            } else {
              for (const req of security) {
                const names = Object.keys(req);
                if (!names.includes('DashboardSession') && !names.includes('DashboardRefresh')) fail('dashboard operations authenticate with a session cookie.');
                if (UNSAFE.has(m) && !names.includes('CsrfHeader')) fail('unsafe cookie-authenticated methods require CsrfHeader in the same requirement.');
                if (!UNSAFE.has(m) && names.includes('CsrfHeader')) fail('safe methods must not require the CSRF header.');
              }
              if (UNSAFE.has(m) && needs(['403']).length) fail('unsafe cookie-authenticated methods must document 403 (csrf_required).');
            }
          }
          for (const [code, raw] of Object.entries(op.responses ?? {})) {
            const res = raw.$ref ? ctx.resolve(raw, loc.source.absoluteRef).node : raw;
            if (res && !res.headers?.['X-Request-Id']) fail(`response ${code} must document the X-Request-Id header.`);
          }
        });
      },
    },
  };
}

export default function pacspacePlugin() {
  return {
    id: 'pacspace',
    rules: {
      oas3: {
        'reveal-once': RevealOnce,
        'auth-conventions': AuthConventions,
        'problem-json-errors': ProblemJsonErrors,
      },
    },
  };
}
