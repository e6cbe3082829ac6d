// The Arazzo workflows (openapi/workflows/*.arazzo.yaml) as step-by-step guides: each document
// becomes the Markdown of a guide page, which the build renders like the hand-written guides
// (so it gets the layout, its Markdown twin, llms.txt, search and the link check).
//
// Each step shows the operation it calls (linked into the reference), a curl sample in which
// every runtime expression is a shell variable named after where its value comes from
// (`$steps.createKey.outputs.fullKey` → `$FULL_KEY`, with a comment `# $FULL_KEY: from step
// "createKey"`), what it keeps for later steps and its success criteria. The dashboard session
// the workflow carries as a `Cookie` header is curl's cookie jar (`-c` at login, `-b` after).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readBundle } from '../../contract/document.ts';
import { listOperations } from '../../contract/operations.ts';
import { ROOT, type Json } from './contract.ts';

export const WORKFLOWS_DIR = join(ROOT, 'openapi', 'workflows');

/** The control surface is not in the public reference: its operations link to the sandbox guide. */
const CONTROL_GUIDE = 'sandbox.md#the-control-surface';
const COOKIE_JAR = 'pacspace-dashboard-cookies.txt';

/** The shell variable each source description's server becomes, and its default (the contract's local servers). */
const SERVER_VARIABLES: Record<string, { variable: string; fallback: string }> = {
  dashboard: { variable: 'DASHBOARD_URL', fallback: 'http://127.0.0.1:4010' },
  control: { variable: 'DASHBOARD_URL', fallback: 'http://127.0.0.1:4010' },
  balance: { variable: 'PACSPACE_API_BASE_URL', fallback: 'http://127.0.0.1:4011' },
};

type Located = { operationId: string; method: string; path: string; source: string };

/** `fullKey` → `FULL_KEY`. */
const screaming = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
/** `readAccessEmail` → `Read access email`. */
const humanize = (id: string) => id.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().replace(/^./, (c) => c.toUpperCase());
const code = (text: string) => `\`${text.replace(/`/g, 'ˋ')}\``;

/** Every operation a workflow may call, by source description name. */
function operationsBySource(document: Json): Map<string, Map<string, Located>> {
  const bundles: Record<string, string> = { '../openapi.yaml': 'openapi', '../sandbox-control.yaml': 'sandbox-control' };
  const out = new Map<string, Map<string, Located>>();
  for (const source of document.sourceDescriptions as Json[]) {
    const bundle = bundles[source.url];
    if (!bundle) throw new Error(`docs: workflow source ${source.name} (${source.url}) is not one of the contract's documents`);
    if (!SERVER_VARIABLES[source.name]) throw new Error(`docs: workflow source ${source.name} is none of ${Object.keys(SERVER_VARIABLES).join(', ')}, whose base URLs the samples know`);
    out.set(source.name, new Map(listOperations(readBundle(bundle)).map((op) => [op.operationId, { operationId: op.operationId, method: op.method, path: op.path, source: source.name }])));
  }
  return out;
}

/** Names every value a workflow passes around after where it comes from. */
function placeholders(workflow: Json) {
  const outputOwners = new Map<string, string[]>();
  for (const step of workflow.steps as Json[]) for (const name of Object.keys(step.outputs ?? {})) outputOwners.set(name, [...(outputOwners.get(name) ?? []), step.stepId]);
  const cookieOutputs = new Set<string>();
  for (const step of workflow.steps as Json[]) {
    for (const [name, expression] of Object.entries(step.outputs ?? {})) if (/^\$response\.header\.set-cookie$/i.test(String(expression))) cookieOutputs.add(`${step.stepId}.${name}`);
  }
  const variableOf = (stepId: string, output: string) => screaming((outputOwners.get(output)?.length ?? 0) > 1 ? `${stepId}_${output}` : output);
  /** A runtime expression as shell text, and the comment saying where it comes from. */
  const shell = (expression: string): { text: string; note?: string } => {
    const input = /^\$inputs\.([A-Za-z0-9_]+)$/.exec(expression);
    if (input) return { text: `$${screaming(input[1]!)}`, note: `$${screaming(input[1]!)}: input "${input[1]}"` };
    const output = /^\$steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_.-]+)$/.exec(expression);
    if (output) {
      const variable = variableOf(output[1]!, output[2]!);
      return { text: `$${variable}`, note: `$${variable}: from step "${output[1]}"` };
    }
    if (/^\$faker\.string\.uuid\(\)$/.test(expression)) return { text: "$(node -p 'crypto.randomUUID()')", note: "$(node -p 'crypto.randomUUID()'): a fresh UUID each run" };
    if (/^\$faker\.string\.email\(/.test(expression)) return { text: 'you-$(date +%s)@example.com', note: 'you-$(date +%s)@example.com: a fresh address each run' };
    const embedded = /^(.*)\{(\$[^{}]+)\}(.*)$/.exec(expression);
    if (embedded) {
      const inner = shell(embedded[2]!);
      return { text: `${embedded[1]}${inner.text}${embedded[3]}`, note: inner.note };
    }
    if (expression.startsWith('$')) throw new Error(`docs: no shell form for the runtime expression ${expression}`);
    return { text: expression };
  };
  return { shell, variableOf, isSessionCookie: (expression: string) => [...cookieOutputs].some((o) => expression === `$steps.${o.replace('.', '.outputs.')}`) };
}

/**
 * A JSON payload with its runtime expressions replaced (for an unquoted heredoc, where `$VAR`
 * expands); `kept` names the members a step keeps as outputs (`$request.body#/email`), which
 * become their variable.
 */
function payloadText(payload: Json, substitute: (value: string) => string, kept: Map<string, string>): string {
  const walk = (value: Json, pointer: string): Json => {
    if (typeof value === 'string') return kept.has(pointer) ? `$${kept.get(pointer)}` : substitute(value);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, `${pointer}/${i}`));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, `${pointer}/${k}`)]));
    return value;
  };
  return JSON.stringify(walk(payload, ''), null, 2);
}

function curlSample(step: Json, op: Located, names: ReturnType<typeof placeholders>, keepsSession: boolean): string {
  const notes = new Set<string>();
  const substitute = (value: string) => {
    const { text, note } = names.shell(value);
    if (note) notes.add(note);
    return text;
  };
  const server = SERVER_VARIABLES[op.source]!;
  let path = op.path;
  const query: string[] = [];
  const headers: string[] = [];
  for (const parameter of (step.parameters ?? []) as Json[]) {
    const value = String(parameter.value);
    if (parameter.in === 'path') path = path.replace(`{${parameter.name}}`, substitute(value));
    else if (parameter.in === 'query') query.push(`${parameter.name}=${substitute(value)}`);
    else if (parameter.in === 'header' && parameter.name.toLowerCase() === 'cookie' && names.isSessionCookie(value)) {
      headers.push(`-b ${COOKIE_JAR}`);
      notes.add(`${COOKIE_JAR}: the session cookies, from step "${/^\$steps\.([^.]+)/.exec(value)![1]}" (curl's cookie jar)`);
    } else if (parameter.in === 'header') headers.push(`-H "${parameter.name}: ${substitute(value)}"`);
  }
  for (const security of (step['x-security'] ?? []) as Json[]) {
    if (security.schemeName !== 'ApiKeyAuth') throw new Error(`docs: no curl form for x-security ${security.schemeName}`);
    headers.push(`-H "X-Api-Key: ${substitute(String(security.values.apiKey))}"`);
  }
  if (keepsSession) headers.push(`-c ${COOKIE_JAR}`);
  const url = `"$${server.variable}${path}${query.length ? `?${query.join('&')}` : ''}"`;
  const lines = [`curl${op.method === 'get' ? '' : ` -X ${op.method.toUpperCase()}`} ${url}`, ...headers];
  let body = '';
  const exports: string[] = [];
  if (step.requestBody) {
    // A value the step sends and keeps (`$request.body#/email`) is set first, then sent as its variable.
    const kept = new Map<string, string>();
    for (const [name, expression] of Object.entries(step.outputs ?? {})) {
      const member = /^\$request\.body#(\/.+)$/.exec(String(expression));
      if (!member) continue;
      const variable = names.variableOf(step.stepId, name);
      kept.set(member[1]!, variable);
      const value = names.shell(String(step.requestBody.payload?.[member[1]!.slice(1)] ?? ''));
      exports.push(`export ${variable}="${value.text}"${value.note ? `   # ${value.note.replace(/^[^:]+: /, '')}` : ''}`);
    }
    lines.push(`-H "Content-Type: ${step.requestBody.contentType ?? 'application/json'}"`, '--data @- <<EOF');
    body = `\n${payloadText(step.requestBody.payload, substitute, kept)}\nEOF`;
  }
  const comments = [...notes].map((note) => `# ${note}`);
  return [...exports, ...comments, lines.join(' \\\n  ') + body].join('\n');
}

function criterionText(criterion: Json): string {
  if (criterion.type === 'regex') return `${code(criterion.context)} matches ${code(criterion.condition)}`;
  if (criterion.type === 'jsonpath') return `${code(criterion.context)} matches the JSONPath filter ${code(criterion.condition)}`;
  return code(criterion.condition);
}

/** The Markdown of the guide page for one Arazzo document of openapi/workflows/. */
export function workflowGuide(file: string): string {
  return workflowMarkdown(parse(readFileSync(join(WORKFLOWS_DIR, file), 'utf8')), file);
}

/** The Markdown of the guide page for an Arazzo document (parsed), named `file` in openapi/workflows/. */
export function workflowMarkdown(document: Json, file: string): string {
  const operations = operationsBySource(document);
  const out: string[] = [`# ${document.info.title}`, '', document.info.summary ?? '', ''];
  out.push(
    `This guide is generated from the Arazzo ${document.arazzo} document \`openapi/workflows/${file}\`, which the`,
    'contract kit runs with [Redocly Respect](https://redocly.com/docs/respect) against a fresh sandbox',
    'in its tests, so every step below works in this order. Run it yourself against `npm start`\'s',
    'sandbox ([The sandbox](sandbox.md)):',
    '',
    '```sh',
    `npx redocly respect openapi/workflows/${file}`,
    '```',
    '',
    document.info.description ?? '',
    '',
  );
  for (const workflow of document.workflows as Json[]) {
    const names = placeholders(workflow);
    out.push(`## ${workflow.summary ?? workflow.workflowId}`, '', workflow.description ?? '', '');
    const inputs = Object.entries(workflow.inputs?.properties ?? {}) as Array<[string, Json]>;
    const servers = [...new Map((document.sourceDescriptions as Json[]).map((s) => [SERVER_VARIABLES[s.name]!.variable, SERVER_VARIABLES[s.name]!])).values()];
    out.push('Set the base URLs and the inputs first (the defaults suit `npm start`):', '', '```sh');
    for (const server of servers) out.push(`export ${server.variable}=${server.fallback}`);
    for (const [name, schema] of inputs) {
      out.push(`export ${screaming(name)}=${JSON.stringify(String(schema.default ?? ''))}${schema.description ? `   # input "${name}": ${schema.description}` : `   # input "${name}"`}`);
    }
    out.push('```', '');
    (workflow.steps as Json[]).forEach((step, index) => {
      const [source, operationId] = String(step.operationId).replace(/^\$sourceDescriptions\./, '').split('.') as [string, string];
      const op = operations.get(source)?.get(operationId);
      if (!op) throw new Error(`docs: ${file}: step ${step.stepId} calls ${step.operationId}, which is not in the contract`);
      const link = source === 'control' ? `[${operationId}](${CONTROL_GUIDE}) (sandbox control surface)` : `[${operationId}](op:${operationId})`;
      const keepsSession = Object.values(step.outputs ?? {}).some((e) => /^\$response\.header\.set-cookie$/i.test(String(e)));
      out.push(`### ${index + 1}. ${humanize(step.stepId)}`, '', step.description ?? '', '');
      out.push(`Calls ${link}: \`${op.method.toUpperCase()} ${op.path}\`.`, '');
      out.push('```sh', curlSample(step, op, names, keepsSession), '```', '');
      out.push('**Succeeds when:**', '');
      for (const criterion of (step.successCriteria ?? []) as Json[]) out.push(`- ${criterionText(criterion)}`);
      for (const action of (step.onFailure ?? []) as Json[]) {
        if (action.type === 'retry') out.push(`- otherwise it is tried again after ${action.retryAfter} s, up to ${action.retryLimit} times`);
      }
      out.push('');
      const outputs = Object.entries(step.outputs ?? {}) as Array<[string, string]>;
      if (outputs.length) {
        out.push('**Keeps for later steps:**', '');
        for (const [name, expression] of outputs) {
          out.push(
            /^\$response\.header\.set-cookie$/i.test(expression)
              ? `- the session cookies, in \`${COOKIE_JAR}\` (the workflow sends the last \`Set-Cookie\` back as \`Cookie\`)`
              : `- \`$${names.variableOf(step.stepId, name)}\` = ${code(expression)}`,
          );
        }
        out.push('');
      }
    });
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
