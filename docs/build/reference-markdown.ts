// The API reference as Markdown (`reference.md`, the twin of reference.html), generated from the
// bundled contract through the docs' contract helpers: every operation and webhook event by tag
// with its method, path, summary, description, authentication, parameters, an outline of the
// request body schema, its responses with the problem codes each can carry, and the same
// generated code samples the HTML reference shows; then every problem code.
//
// Each operation's heading is its operationId, so `reference.md#recorddelta` finds it; a tag's
// heading is its name (`## API keys`, whose id is `api-keys-1` when the overview has an
// `### API keys` before it). Links to both are made by twinAnchors (markdown-twins.ts), which
// reads the ids back from this file with the site's own heading slugs.
import type { CodeSample } from './code-samples.ts';
import { deref, type Json, type Operation } from './contract.ts';
import type { ProblemCodeRow } from './problem-codes.ts';
import { SDK_ERROR_CLASS } from './problem-codes.ts';

/** How deep request and response schemas are outlined (named schemas seen above are not expanded again). */
const MAX_DEPTH = 3;
const MAX_ENUM = 16;

/** One line of Markdown from a description: whitespace collapsed. */
export const oneLine = (text: unknown) => String(text ?? '').replace(/\s+/g, ' ').trim();
/** A schema's description in an outline: its first paragraph, on one line (the reference pages show the rest). */
const firstParagraph = (text: unknown) => oneLine(String(text ?? '').trim().split(/\n\s*\n/)[0]);
/** A table cell: one line, pipes escaped. */
const cell = (text: unknown) => oneLine(text).replace(/\|/g, '\\|');
const code = (text: unknown) => `\`${String(text).replace(/`/g, "'")}\``;

/** A fenced code block whose fence is longer than any backtick run inside. */
export function fence(source: string, lang = ''): string {
  const longest = Math.max(2, ...[...source.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${lang}\n${source.replace(/\n+$/, '')}\n${ticks}`;
}

/** Headings inside a description become sub-headings of the section they are put under. */
export function demoteHeadings(markdown: string, by: number): string {
  let inFence = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
      if (inFence || !/^#{1,6}\s/.test(line)) return line;
      return `${'#'.repeat(by)}${line}`.replace(/^#{7,}/, '######');
    })
    .join('\n');
}

const refName = (node: Json): string | undefined =>
  typeof node?.$ref === 'string' && node.$ref.startsWith('#/components/schemas/') ? node.$ref.slice('#/components/schemas/'.length) : undefined;

/** A schema's properties and required names, allOf parts merged. */
function propertiesOf(spec: Json, schema: Json): { properties: Record<string, Json>; required: Set<string> } {
  const properties: Record<string, Json> = {};
  const required = new Set<string>();
  const visit = (node: Json) => {
    const s = deref(spec, node);
    for (const part of s.allOf ?? []) visit(part);
    Object.assign(properties, s.properties ?? {});
    for (const name of s.required ?? []) required.add(name);
  };
  visit(schema);
  return { properties, required };
}

function typeLabel(spec: Json, node: Json): string {
  const name = refName(node);
  const s = deref(spec, node ?? {});
  let type: string;
  if (s.const !== undefined) type = `constant ${code(JSON.stringify(s.const))}`;
  else if (s.oneOf || s.anyOf) type = `one of ${(s.oneOf ?? s.anyOf).map((alt: Json) => typeLabel(spec, alt)).join(' or ')}`;
  else if (Array.isArray(s.type)) type = s.type.map((t: string) => (t === 'array' ? `array of ${typeLabel(spec, s.items ?? {})}` : t)).join(' or ');
  else if (s.type === 'array') type = `array of ${typeLabel(spec, s.items ?? {})}`;
  else type = s.type ?? (s.properties || s.allOf ? 'object' : 'any');
  if (s.format) type += ` (${s.format})`;
  return name && !(s.type === 'object' || s.properties || s.allOf) ? `${name}: ${type}` : name ?? type;
}

function constraints(spec: Json, node: Json): string[] {
  const s = deref(spec, node ?? {});
  const out: string[] = [];
  if (Array.isArray(s.enum)) {
    const values = s.enum.slice(0, MAX_ENUM).map((v: unknown) => code(v)).join(', ');
    out.push(`one of ${values}${s.enum.length > MAX_ENUM ? `, … (${s.enum.length} values)` : ''}`);
  }
  if (s.pattern) out.push(`pattern ${code(s.pattern)}`);
  for (const [key, label] of [
    ['minLength', 'min length'],
    ['maxLength', 'max length'],
    ['minimum', 'minimum'],
    ['maximum', 'maximum'],
    ['exclusiveMinimum', 'greater than'],
    ['exclusiveMaximum', 'less than'],
    ['minItems', 'min items'],
    ['maxItems', 'max items'],
    ['maxProperties', 'max properties'],
  ] as const) {
    if (s[key] !== undefined) out.push(`${label} ${s[key]}`);
  }
  if (s.default !== undefined) out.push(`default ${code(JSON.stringify(s.default))}`);
  return out;
}

/** A nested bullet list of a schema's properties: name, type, required, description, constraints. */
export function schemaOutline(spec: Json, schema: Json, indent = '', depth = 1, seen: Set<string> = new Set()): string[] {
  const name = refName(schema);
  const nextSeen = name ? new Set([...seen, name]) : seen;
  const s = deref(spec, schema ?? {});
  const alternatives: Json[] = s.oneOf ?? s.anyOf ?? [];
  const lines: string[] = [];
  const { properties, required } = propertiesOf(spec, s);
  for (const [prop, node] of Object.entries(properties)) {
    const target = deref(spec, node);
    const description = firstParagraph(node.description ?? target.description);
    const details = [typeLabel(spec, node), ...(required.has(prop) ? ['required'] : []), ...constraints(spec, node)];
    lines.push(`${indent}- ${code(prop)} (${details.join('; ')})${description ? `: ${description}` : ''}`);
    const child = target.type === 'array' || (Array.isArray(target.type) && target.items) ? target.items : node;
    const childName = refName(child);
    const childSchema = deref(spec, child ?? {});
    const expandable = childSchema.properties || childSchema.allOf || childSchema.oneOf || childSchema.anyOf;
    if (expandable && depth < MAX_DEPTH && !(childName && nextSeen.has(childName))) {
      lines.push(...schemaOutline(spec, child, `${indent}  `, depth + 1, nextSeen));
    }
  }
  // Alternatives get a line each only when one of them has members to show (the type label names the rest).
  const outlines = alternatives.map((alt) => (depth < MAX_DEPTH ? schemaOutline(spec, alt, `${indent}  `, depth + 1, nextSeen) : []));
  if (outlines.some((inner) => inner.length)) {
    alternatives.forEach((alt, i) => {
      const title = refName(alt) ?? deref(spec, alt).title;
      lines.push(`${indent}- one of: ${typeof title === 'string' ? title : `variant ${i + 1}`} (${typeLabel(spec, alt)})`, ...outlines[i]!);
    });
  }
  return lines;
}

/** The body of a request or response: its media type and the outline of its schema. */
function bodyOutline(spec: Json, content: Record<string, Json> | undefined): string[] {
  const lines: string[] = [];
  for (const [media, object] of Object.entries(content ?? {})) {
    const schema = object.schema ?? {};
    const outline = schemaOutline(spec, schema, '  ');
    lines.push(`- ${code(media)}: ${typeLabel(spec, schema)}`, ...outline);
  }
  return lines;
}

function authLine(spec: Json, op: Operation): string {
  const scopes = (op.object.security ?? spec.security ?? []).flatMap((r: Record<string, string[]>) => Object.values(r).flat());
  const permission = scopes.length ? `; requires the ${scopes.map(code).join(', ')} permission` : '';
  switch (op.auth) {
    case 'api-key':
      return `API key in the ${code('X-Api-Key')} header${permission}.`;
    case 'session':
      return `Dashboard session cookies (from ${code('login')})${op.csrf ? `, plus ${code('X-Pacspace-CSRF: 1')}` : ''}.`;
    case 'public-balance':
    case 'public-dashboard':
      return 'None: a public operation.';
    case 'webhook':
      return `PacSpace signs each delivery: verify ${code('X-PacSpace-Signature')} over ${code('X-PacSpace-Timestamp')} and the raw body (see webhooks.md).`;
  }
}

const withConstraints = (text: string, list: string[]) => (list.length ? `${text}${text ? ' ' : ''}(${list.join('; ')})` : text);

function parametersTable(spec: Json, op: Operation): string[] {
  const item = op.kind === 'path' ? deref(spec, spec.paths[op.path]) : deref(spec, spec.webhooks[op.path]);
  const parameters: Json[] = [...(item.parameters ?? []), ...(op.object.parameters ?? [])].map((p) => deref(spec, p));
  if (!parameters.length) return [];
  return [
    '**Parameters**',
    '',
    '| name | in | type | required | description |',
    '|---|---|---|---|---|',
    ...parameters.map(
      (p) =>
        `| ${code(p.name)} | ${p.in} | ${cell(typeLabel(spec, p.schema ?? {}))} | ${p.required ? 'yes' : 'no'} | ${cell(withConstraints(oneLine(p.description), constraints(spec, p.schema ?? {})))} |`,
    ),
    '',
  ];
}

function responsesList(spec: Json, op: Operation, codes: ProblemCodeRow[]): string[] {
  const mine = codes.filter((row) => row.operations.includes(op.operationId));
  const placed = new Set<string>();
  const lines: string[] = [];
  for (const [status, raw] of Object.entries(op.object.responses ?? {})) {
    const response = deref(spec, raw);
    const headers = Object.keys(response.headers ?? {});
    const problemCodes = mine.filter((row) => String(row.status) === status);
    for (const row of problemCodes) placed.add(row.code);
    const parts = [`- **${status}**: ${oneLine(response.description)}`];
    if (headers.length) parts.push(`Headers: ${headers.map(code).join(', ')}.`);
    if (problemCodes.length) parts.push(`Problem codes: ${problemCodes.map((row) => code(row.code)).join(', ')}.`);
    lines.push(parts.join(' '));
    if (/^2/.test(status)) lines.push(...bodyOutline(spec, response.content).map((line) => `  ${line}`));
  }
  const unplaced = mine.filter((row) => !placed.has(row.code));
  if (unplaced.length) lines.push(`- Also documented: ${unplaced.map((row) => `${code(row.code)} (${row.status})`).join(', ')}.`);
  return lines;
}

const FENCE_LANG: Record<string, string> = { Shell: 'sh', TypeScript: 'ts', JavaScript: 'js' };

function operationSection(spec: Json, op: Operation & { samples: CodeSample[] }, codes: ProblemCodeRow[]): string {
  const requestBody = op.object.requestBody ? deref(spec, op.object.requestBody) : undefined;
  const what =
    op.kind === 'webhook'
      ? `Event ${code(op.path)}: PacSpace sends ${code(op.method.toUpperCase())} to your webhook endpoint. ${oneLine(op.summary)}.`
      : `${code(`${op.method.toUpperCase()} ${op.path}`)}: ${oneLine(op.summary)}.`;
  return [
    `### ${op.operationId}`,
    '',
    what,
    '',
    demoteHeadings(String(op.object.description ?? '').trim(), 3),
    '',
    `**Authentication:** ${authLine(spec, op)}`,
    '',
    ...parametersTable(spec, op),
    ...(requestBody
      ? [`**${op.kind === 'webhook' ? 'Payload' : 'Request body'}**${requestBody.required ? ' (required)' : ''}`, '', ...bodyOutline(spec, requestBody.content), '']
      : []),
    `**Responses${op.kind === 'webhook' ? ' (what your endpoint answers)' : ''}**`,
    '',
    ...responsesList(spec, op, codes),
    '',
    '**Code samples**',
    '',
    ...op.samples.flatMap((sample) => [`${sample.label}:`, '', fence(sample.source, FENCE_LANG[sample.lang] ?? ''), '']),
  ].join('\n');
}

function problemCodesTable(codes: ProblemCodeRow[]): string {
  return [
    '| code | status | meaning | SDK error | documented on |',
    '|---|---|---|---|---|',
    ...codes.map(
      (row) =>
        `| ${code(row.code)} | ${row.status} | ${cell(row.meaning)} | ${code(SDK_ERROR_CLASS[row.status] ?? 'PacSpaceError')} | ${row.operations.length ? row.operations.map((id) => `[${id}](#${id.toLowerCase()})`).join(', ') : 'any request'} |`,
    ),
  ].join('\n');
}

/** reference.md: the whole contract for readers without a browser. */
export function referenceMarkdown(spec: Json, operations: Array<Operation & { samples: CodeSample[] }>, codes: ProblemCodeRow[]): string {
  const tags: Json[] = spec.tags ?? [];
  const schemes: Record<string, Json> = spec.components?.securitySchemes ?? {};
  const sections = tags
    .filter((tag) => operations.some((op) => op.tag === tag.name))
    .map((tag) =>
      [
        `## ${tag.name}`,
        '',
        demoteHeadings(String(tag.description ?? '').trim(), 2),
        '',
        ...operations.filter((op) => op.tag === tag.name).map((op) => operationSection(spec, op, codes)),
      ].join('\n'),
    );
  return `${[
    `# ${spec.info.title} reference`,
    '',
    `> ${oneLine(spec.info.summary)}`,
    '',
    `Version ${spec.info.version} of the contract. This page is generated from the OpenAPI 3.1 document ([openapi.yaml](openapi.yaml), [openapi.json](openapi.json)); the same reference in a browser: [reference.html](reference.html). Each operation's heading is its \`operationId\`.`,
    '',
    '## Servers',
    '',
    ...(spec.servers ?? []).map((server: Json) => `- ${code(server.url)}: ${oneLine(server.description)}`),
    '',
    '## Overview',
    '',
    demoteHeadings(String(spec.info.description ?? '').trim(), 1),
    '',
    '## Security schemes',
    '',
    ...Object.entries(schemes).map(([name, scheme]) => `- ${code(name)} (${scheme.type}${scheme.in ? ` in ${scheme.in} ${code(scheme.name)}` : ''}): ${oneLine(scheme.description)}`),
    '',
    ...sections,
    '## Problem codes',
    '',
    'Every error is an RFC 9457 problem document (`application/problem+json`) with one of these `code`s (see [errors.md](errors.md)).',
    '',
    problemCodesTable(codes),
  ]
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
