// The Markdown twins, llms.txt and the search index, piece by piece and without a browser: how a
// guide's links and HTML-only parts become Markdown, what the build refuses, and that the
// built index answers the queries the header's search box sends. (docs/site.test.ts checks the
// built site as a whole, served by the sandbox and searched in Chromium.)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import MiniSearch from 'minisearch';
import { afterAll, describe, expect, it } from 'vitest';
import { checkMarkdownLinks } from './agent-docs.ts';
import { codeSamplesFor } from './code-samples.ts';
import { listOperations, readBundle, slug } from './contract.ts';
import { firstSentence, llmsFullTxt, llmsTxt } from './llms.ts';
import { guideTwin, headingsOf, twinAnchors, type TwinAnchors } from './markdown-twins.ts';
import { problemCodes } from './problem-codes.ts';
import { referenceMarkdown } from './reference-markdown.ts';
import { guideSections, htmlText, problemCodeDocuments, referenceDocuments, searchIndexJson, type SearchDocument } from './search-index.ts';

const spec = readBundle();
const operations = listOperations(spec).map((op) => ({ ...op, samples: codeSamplesFor(op) }));
const codes = problemCodes(spec, operations);
const referenceMd = referenceMarkdown(spec, operations, codes);
const anchors = twinAnchors(referenceMd, operations, slug);
const twin = (markdown: string, generated: Record<string, () => string> = {}, a: TwinAnchors = anchors) => guideTwin(markdown, { source: 'test.md', anchors: a, generated });

describe('a guide\'s Markdown twin', () => {
  it('rewrites op: links, reference routes and .html links to the twins, outside code only', () => {
    const markdown = [
      '# Guide',
      '',
      'Send [a delta](op:recordDelta) (see [events](reference.html#/events), [the route](reference.html#/balance/recorddelta), [reference](reference.html), [errors](errors.html#codes), [webhooks](webhooks.md#verifying-signatures), [yaml](openapi.yaml), [RFC](https://www.rfc-editor.org/rfc/rfc9457)).',
      'Code stays: `[x](op:recordDelta)`.',
      '',
      '```md',
      '[kept](op:recordDelta) and [kept](errors.html)',
      '```',
      '',
    ].join('\n');
    expect(twin(markdown)).toBe(
      [
        '# Guide',
        '',
        'Send [a delta](reference.md#recorddelta) (see [events](reference.md#events), [the route](reference.md#recorddelta), [reference](reference.md), [errors](errors.md#codes), [webhooks](webhooks.md#verifying-signatures), [yaml](openapi.yaml), [RFC](https://www.rfc-editor.org/rfc/rfc9457)).',
        'Code stays: `[x](op:recordDelta)`.',
        '',
        '```md',
        '[kept](op:recordDelta) and [kept](errors.html)',
        '```',
        '',
      ].join('\n'),
    );
  });

  it('turns the overview\'s cards into a list of links and a generated part into its Markdown', () => {
    const markdown = [
      '# Home',
      '',
      '<div class="cards">',
      '  <a href="quick-start.html"><strong>Quick start</strong>Emit, derive, compare.</a>',
      '  <a href="reference.html"><strong>API reference</strong>Every operation.</a>',
      '</div>',
      '',
      '## Every operation',
      '',
      '<!-- generated: operations -->',
      '',
    ].join('\n');
    expect(twin(markdown, { operations: () => '- `POST /api/v1/balance/delta`' })).toBe(
      [
        '# Home',
        '',
        '- [Quick start](quick-start.md): Emit, derive, compare.',
        '- [API reference](reference.md): Every operation.',
        '',
        '## Every operation',
        '',
        '- `POST /api/v1/balance/delta`',
        '',
      ].join('\n'),
    );
  });

  it('refuses what it cannot carry: unknown operations and routes, other HTML, unknown generated parts', () => {
    expect(() => twin('# G\n\n[x](op:noSuchOperation)\n')).toThrow('docs: test.md links to unknown operation op:noSuchOperation');
    expect(() => twin('# G\n\n[x](reference.html#/nowhere/nothing)\n')).toThrow("docs: test.md links to reference.html#/nowhere/nothing, which reference.md has no section for");
    expect(() => twin('# G\n\nPress <kbd>/</kbd>.\n')).toThrow('docs: test.md has inline HTML the Markdown twin cannot carry: <kbd>');
    expect(() => twin('# G\n\n<div class="note">Careful</div>\n')).toThrow('docs: test.md has an HTML block the Markdown twin cannot carry:\n<div class="note">Careful</div>');
    expect(() => twin('# G\n\n<div class="cards"><a href="x.html"><strong>X</strong>x</a><em>more</em></div>\n')).toThrow('docs: test.md has an HTML block the Markdown twin cannot carry');
    expect(() => twin('# G\n\n> <details>hidden</details>\n')).toThrow('docs: test.md has nested HTML the Markdown twin cannot carry:\n<details>hidden</details>');
    expect(() => twin('# G\n\n<!-- generated: nothing -->\n')).toThrow('docs: test.md asks for generated content "nothing" that has no Markdown form');
  });
});

describe('reference.md', () => {
  it('has a heading per operation and tag whose anchor the twins link to', () => {
    for (const op of operations) {
      expect(anchors.operation(op.operationId)).toBe(`reference.md#${op.operationId.toLowerCase()}`);
      expect(anchors.route(`#/${slug(op.tag)}/${op.operationId.toLowerCase()}`)).toBe(`reference.md#${op.operationId.toLowerCase()}`);
    }
    // The tag's own heading, not the overview's "### API keys" before it.
    const tagHeading = headingsOf(referenceMd).find((h) => h.level === 2 && h.text === 'API keys');
    expect(anchors.route('#/api-keys')).toBe(`reference.md#${tagHeading!.id}`);
    expect(referenceMd).toContain('\n### API keys\n');
    expect(anchors.route('#/')).toBe('reference.md');
    expect(() => twinAnchors('# Empty\n', operations, slug)).toThrow(`docs: reference.md has no heading for ${operations[0]!.tag} / ${operations[0]!.operationId}`);
  });

  it('outlines an operation: method and path, authentication, parameters, body, responses with problem codes, samples', () => {
    const section = referenceMd.slice(referenceMd.indexOf('\n### recordDelta\n'), referenceMd.indexOf('\n### ', referenceMd.indexOf('\n### recordDelta\n') + 5));
    expect(section).toContain('`POST /api/v1/balance/delta`: Record a delta.');
    expect(section).toContain('**Authentication:** API key in the `X-Api-Key` header; requires the `balance:write` permission.');
    expect(section).toMatch(/\| `Idempotency-Key` \| header \| string \| no \| Makes the request safe to retry\./);
    expect(section).toContain('- `application/json`: DeltaRequest');
    expect(section).toMatch(/\n {2}- `customerId` \(CustomerId: string; required; pattern/);
    expect(section).toMatch(/\n- \*\*409\*\*: .* Problem codes: `idempotency_key_reused`, `idempotency_request_in_progress`, `duplicate_reference`, `balance_out_of_range`\./);
    expect(section).toMatch(/\n- \*\*429\*\*: .*Headers: `X-Request-Id`, `Retry-After`/);
    expect(section).toContain('curl -X POST "$PACSPACE_API_BASE_URL/api/v1/balance/delta"');
    expect(section).toContain(codeSamplesFor(operations.find((o) => o.operationId === 'recordDelta')!)[1]!.source);
  });
});

describe('llms.txt', () => {
  it('is an H1, a blockquote and sections of described links; llms-full.txt joins the twins', () => {
    const entry = (file: string, title: string) => ({ file, title, description: `About ${title}.`, markdown: `# ${title}\n\nText.\n` });
    const text = llmsTxt({ title: 'PacSpace API', summary: 'A usage\nledger.', version: '1.0.0' }, [entry('index.md', 'Home'), entry('quick-start.md', 'Quick start')], entry('reference.md', 'API reference'));
    expect(text.split('\n').slice(0, 3)).toEqual(['# PacSpace API', '', '> A usage ledger.']);
    expect(text).toContain('## Guides\n\n- [Home](index.md): About Home.\n- [Quick start](quick-start.md): About Quick start.\n\n## Reference\n\n- [API reference](reference.md): About API reference.\n');
    expect(text).toContain('## Optional\n\n- [Everything in one file](llms-full.txt): ');
    const full = llmsFullTxt({ title: 'PacSpace API', summary: 'A usage ledger.' }, [entry('index.md', 'Home'), entry('reference.md', 'API reference')]);
    expect(full).toContain('\n---\n\n<!-- index.md -->\n\n# Home\n\nText.\n\n---\n\n<!-- reference.md -->\n\n# API reference\n\nText.\n');
  });

  it('describes a page by its first sentences, without Markdown links or emphasis', () => {
    expect(firstSentence('# T\n\nPacSpace has two environments. Each is its own base URL and its own, isolated data. More.\n')).toBe(
      'PacSpace has two environments. Each is its own base URL and its own, isolated data.',
    );
    expect(firstSentence('# T\n\nUses **two** [mechanisms](authentication.md), one per surface:\n\n| a |\n')).toBe('Uses two mechanisms, one per surface.');
    expect(firstSentence(`# T\n\n${'word '.repeat(80)}\n`)).toMatch(/^(word ){47}word …$/);
    // A dot inside a file name or version does not end a sentence.
    expect(firstSentence('# T\n\nThe contract (`openapi/openapi.yaml`) as released in v1.0, newest first. Each entry is written by a script.\n')).toBe(
      'The contract (`openapi/openapi.yaml`) as released in v1.0, newest first. Each entry is written by a script.',
    );
  });
});

describe('the Markdown link check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pacspace-twins-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names each link to a missing file, heading or reference route, and any op: link left', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'reference.html'), '<!DOCTYPE html>');
    writeFileSync(join(dir, 'a.md'), '# A\n\n## Part one\n\n[ok](b.md#b) [ok](#part-one) [ok](reference.html#/balance) [web](https://example.com/x.md)\n\n`[code](missing.md)`\n');
    writeFileSync(join(dir, 'b.md'), '# B\n\n[file](missing.md) [heading](a.md#part-two) [route](reference.html#/nowhere) [left](op:recordDelta)\n');
    expect(() => checkMarkdownLinks(dir, ['a.md'], 'reference.html', new Set(['#/balance']))).not.toThrow();
    expect(() => checkMarkdownLinks(dir, ['a.md', 'b.md'], 'reference.html', new Set(['#/balance']))).toThrow(
      [
        'docs: broken links in the Markdown twins:',
        '  b.md: missing.md (no such file)',
        '  b.md: a.md#part-two (no heading #part-two in a.md)',
        '  b.md: reference.html#/nowhere (no such reference route)',
        '  b.md: op:recordDelta (an op: link left unresolved)',
      ].join('\n'),
    );
  });
});

describe('the search index', () => {
  const guides = [
    {
      file: 'errors.html',
      title: 'Errors',
      html: '<h1 id="errors">Errors</h1>\n<p>Every error is a <code>problem</code> &amp; more.</p>\n<h2 id="codes">Codes</h2>\n<table><tr id="rate_limited"><td>rate_limited</td></tr></table>\n<h4 id="deep">Deep</h4><p>still codes</p>',
    },
  ];
  const documents: SearchDocument[] = [
    ...guides.flatMap((guide) => guideSections(guide)),
    ...referenceDocuments(operations, 'reference.html'),
    ...problemCodeDocuments(
      codes.filter((row) => row.code === 'rate_limited'),
      guides,
    ),
  ];
  const json = JSON.parse(searchIndexJson(documents));
  const index = MiniSearch.loadJS<SearchDocument>(json.index, json.options);
  const search = (query: string) => index.search(query, { boost: { keywords: 4, title: 3 }, prefix: true, combineWith: 'AND' });

  it('has a document per h1–h3 section of a guide, deeper headings in their section', () => {
    expect(guideSections(guides[0]!).map(({ id, url, title, text }) => ({ id, url, title, text }))).toEqual([
      { id: 'errors.html#errors', url: 'errors.html', title: 'Errors', text: 'Every error is a problem & more.' },
      { id: 'errors.html#codes', url: 'errors.html#codes', title: 'Codes', text: 'rate_limited Deep still codes' },
    ]);
    expect(htmlText('<p>(<a href="x">listEnvironments</a>)</p><p>next</p>')).toBe('(listEnvironments) next');
  });

  it('finds an operation by operationId, a problem code by its code, an event by its name', () => {
    expect(search('recordDelta')[0]).toMatchObject({ id: 'operation:recordDelta', kind: 'operation', url: 'reference.html#/balance/recorddelta' });
    expect(search('rate_limited')[0]).toMatchObject({ id: 'problem:rate_limited', kind: 'problem code', url: 'errors.html#rate_limited' });
    expect(search('delta.confirmed')[0]).toMatchObject({ kind: 'event', url: 'reference.html#/events/deltaconfirmedevent' });
    expect(json.documents).toBe(documents.length);
  });

  it('refuses two documents with one id, and a problem code no guide shows', () => {
    expect(() => searchIndexJson([documents[0]!, documents[0]!])).toThrow('docs: two search documents have the id errors.html#errors');
    expect(() => problemCodeDocuments(codes.slice(0, 1), [])).toThrow(`docs: no guide shows problem code ${codes[0]!.code} (<!-- generated: problem-codes -->)`);
  });
});
