// Validates recorded responses against the bundled contract (generated/openapi.json):
// the status must be documented for the operation, the body must match the documented
// schema of its media type, and documented required headers must be present and valid.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { deref as derefIn, escapePointerToken as escape } from '../../contract/document.ts';
import { generatedFile } from '../../contract/files.ts';
import { findOperation, listOperations } from '../../contract/operations.ts';
import type { Exchange } from './http.ts';
import { parseMediaType } from '../../contract/media-type.ts';

/** An operation as the checks use it: method uppercase, path template, its pointer and object. */
type Operation = { method: string; path: string; pointer: string; pattern: RegExp; operation: any };

export function loadContract(file = generatedFile('openapi.json')) {
  const doc = JSON.parse(readFileSync(file, 'utf8'));
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats.default(ajv);
  ajv.addSchema(doc, 'contract');
  const table = listOperations(doc);
  const operations: Operation[] = table.map((o) => ({ method: o.method.toUpperCase(), path: o.path, pointer: o.pointer, pattern: o.template.pattern, operation: o.operation }));
  const byTableEntry = new Map(table.map((o, i) => [o, operations[i]!]));
  const deref = (node: any): any => derefIn(doc, node);
  const validator = (pointer: string) => ajv.getSchema(`contract${pointer}`) ?? ajv.compile({ $ref: `contract${pointer}` });
  const problemPointer = '#/components/schemas/Problem';
  const headerValidators = new Map<string, ReturnType<typeof ajv.compile>>();
  const headerValidator = (schema: object) => {
    const key = JSON.stringify(schema);
    let v = headerValidators.get(key);
    if (!v) headerValidators.set(key, (v = ajv.compile(schema)));
    return v;
  };

  function validateSchema(pointer: string, value: unknown): string[] {
    const validate = validator(pointer);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}`);
  }

  /** Problems with this exchange, or [] when it conforms. */
  function check(ex: Exchange): string[] {
    const found = findOperation(table, ex.method, ex.path);
    const op = found && byTableEntry.get(found);
    // The essence (type/subtype, lowercased): parameters and case do not change the media type.
    const contentType = parseMediaType(ex.headers['content-type'])?.essence ?? (ex.headers['content-type'] ?? '').trim();
    if (!op) {
      // Unknown routes and methods: the generic problem answers.
      if (ex.status !== 404 && ex.status !== 405) return [`${ex.method} ${ex.path} is not in the contract, yet answered ${ex.status}`];
      if (contentType !== 'application/problem+json') return [`${ex.status} for an unknown route must be application/problem+json`];
      return validateSchema(problemPointer, ex.body);
    }
    const label = `${op.operation.operationId} (${ex.method} ${op.path}) → ${ex.status}`;
    const responses = op.operation.responses ?? {};
    const key = [String(ex.status), `${String(ex.status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key) {
      // A wrong method on a documented path answers 405 with Allow, as the contract's errors reference says.
      return ex.status === 405 && ex.headers.allow ? [] : [`${label}: status ${ex.status} is not documented for this operation`];
    }
    const response = deref(responses[key]);
    const problems: string[] = [];
    const content = response.content ?? {};
    if (ex.text.length && Object.keys(content).length) {
      const documented = Object.keys(content).find((k) => parseMediaType(k)?.essence === contentType);
      if (documented === undefined) {
        problems.push(`${label}: content type "${contentType}" is not documented (${Object.keys(content).join(', ')})`);
      } else {
        const schemaPointer = `${op.pointer}/responses/${escape(key)}/content/${escape(documented)}/schema`;
        const resolved = responses[key].$ref ? `${responses[key].$ref}/content/${escape(documented)}/schema` : schemaPointer;
        for (const p of validateSchema(resolved, ex.body)) problems.push(`${label}: ${p}`);
      }
    } else if (!ex.text.length && Object.keys(content).length && ex.method !== 'HEAD') {
      problems.push(`${label}: the documented body is missing`);
    }
    for (const [name, raw] of Object.entries<any>(response.headers ?? {})) {
      const header = deref(raw);
      const value = name.toLowerCase() === 'set-cookie' ? ex.setCookies.join(', ') || undefined : ex.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`${label}: required header ${name} is missing`);
        continue;
      }
      const schema = deref(header.schema ?? {});
      const typed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
      const validate = headerValidator(schema);
      if (!validate(typed)) problems.push(`${label}: header ${name} ${ajv.errorsText(validate.errors)}`);
    }
    return problems;
  }

  return { check, operations, doc, /** Problems of `value` against the schema at `pointer` (e.g. `#/webhooks/…`), or []. */ validateSchema };
}
