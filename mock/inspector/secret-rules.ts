// What counts as a secret in an exchange, read from the two contracts rather than listed by
// hand wherever the contract says it:
//  - JSON members and query parameters whose schema is marked `x-reveal-once` (secretKey,
//    fullKey, the webhook signing `secret`) or `writeOnly` (passwords), or is an email token
//    (`EmailToken`: approval, verification and reset tokens, in requests and in the outbox);
//  - the `pattern` of every `x-reveal-once` schema (`sk_…`, `pk_….sk_…`, `whsec_…`), matched
//    anywhere in any text, so a key pasted into a path or an unparsable body is masked too;
//  - the header and cookie names of the contract's security schemes (`X-Api-Key`,
//    `pacspace_access`, `pacspace_refresh`, `X-Pacspace-CSRF`).
// By hand, because no contract names them: the control token's header (its one definition,
// mock/control/guard.ts), `Authorization` (superseded, never documented) and every cookie.
import { deref, loadBundle, type Json } from '../../contract/document.ts';
import { CONTROL_TOKEN_HEADER } from '../control/guard.ts';

/** Schemas that are secret by what they are rather than by a marker (the contract has no keyword for "a credential in a response"). */
const SECRET_SCHEMA_NAMES = ['EmailToken'];

export type SecretRules = {
  /** JSON member names whose value is a secret, in any body. */
  members: Set<string>;
  /** Query parameter names whose value is a secret. */
  queryParameters: Set<string>;
  /** Secret-shaped text, matched anywhere (global regexes). */
  patterns: RegExp[];
  /** Lower-case header names carrying an API key (`pk_…` part kept). */
  apiKeyHeaders: Set<string>;
  /** Lower-case header names whose whole value is secret. */
  secretHeaders: Set<string>;
  /** Lower-case CSRF header names: their documented constant `1` is no secret, anything else is redacted. */
  csrfHeaders: Set<string>;
};

function isSecretSchema(doc: Json, node: Json): boolean {
  if (!node || typeof node !== 'object') return false;
  if (typeof node.$ref === 'string' && SECRET_SCHEMA_NAMES.some((name) => node.$ref === `#/components/schemas/${name}`)) return true;
  const schema = deref(doc, node);
  return schema?.['x-reveal-once'] === true || schema?.writeOnly === true || node.writeOnly === true;
}

/** Every object in the document (schemas, parameters, …), depth first. */
function* objects(node: Json): Generator<Json> {
  const stack = [node];
  while (stack.length) {
    const current = stack.pop();
    if (!current || typeof current !== 'object') continue;
    yield current;
    for (const value of Object.values(current)) if (value && typeof value === 'object') stack.push(value);
  }
}

/** The pattern of a reveal-once schema as a global regex that matches it anywhere. */
function anywhere(pattern: string): RegExp {
  return new RegExp(pattern.replace(/^\^/, '').replace(/\$$/, ''), 'g');
}

export function secretRulesOf(documents: Json[]): SecretRules {
  const rules: SecretRules = {
    members: new Set(),
    queryParameters: new Set(),
    patterns: [],
    apiKeyHeaders: new Set(),
    secretHeaders: new Set([CONTROL_TOKEN_HEADER, 'authorization', 'proxy-authorization']),
    csrfHeaders: new Set(),
  };
  const patterns = new Set<string>();
  for (const doc of documents) {
    for (const node of objects(doc)) {
      if (node.properties && typeof node.properties === 'object') {
        for (const [name, schema] of Object.entries<Json>(node.properties)) if (isSecretSchema(doc, schema)) rules.members.add(name);
      }
      if (node.in === 'query' && typeof node.name === 'string' && isSecretSchema(doc, node.schema)) rules.queryParameters.add(node.name);
      if (node['x-reveal-once'] === true && typeof node.pattern === 'string') patterns.add(node.pattern);
    }
    for (const scheme of Object.values<Json>(doc.components?.securitySchemes ?? {})) {
      if (scheme.type !== 'apiKey' || scheme.in !== 'header') continue;
      const name = String(scheme.name).toLowerCase();
      // The CSRF header is a documented constant, the other header schemes carry keys.
      if (/csrf/.test(name)) rules.csrfHeaders.add(name);
      else rules.apiKeyHeaders.add(name);
    }
  }
  // Longest first: a full key's secret half is masked before a shorter secret pattern could take part of it.
  rules.patterns = [...patterns].sort((a, b) => b.length - a.length).map(anywhere);
  return rules;
}

let cached: SecretRules | undefined;

/** The rules of the bundled public and control contracts (read once). */
export function contractSecretRules(): SecretRules {
  cached ??= secretRulesOf([loadBundle('openapi'), loadBundle('sandbox-control')]);
  return cached;
}
