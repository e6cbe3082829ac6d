// The docs site's search, built with the site: no search service, nothing fetched from elsewhere.
//
//   search-index.json     a MiniSearch index over the guides (one document per h1–h3 section),
//                         every operation and webhook event of the reference, and every problem
//                         code; each document stores its title, kind, page, URL and an excerpt
//   assets/minisearch.js  MiniSearch's browser build (minified, its MIT licence kept on top)
//   assets/search.js      the header's search box (docs/build/assets/search.js), which loads the
//                         two files above the first time someone focuses it
//
// The index is built here, at build time, with the same library and options the browser uses
// to load it (MiniSearch.loadJS), so the page does no indexing work.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { transformSync } from 'esbuild';
import MiniSearch from 'minisearch';
import type { Operation } from './contract.ts';
import { referenceRoute } from './contract.ts';
import type { ProblemCodeRow } from './problem-codes.ts';

export const SEARCH_INDEX_FILE = 'search-index.json';
export const MINISEARCH_ASSET = 'assets/minisearch.js';

export type SearchDocument = {
  id: string;
  kind: 'guide' | 'operation' | 'event' | 'problem code';
  title: string;
  /** Where the result is from: the guide's title, `POST /api/v1/…`, `409 conflict`. */
  page: string;
  /** Relative to the site root: `errors.html#rate_limited`, `reference.html#/balance/recorddelta`. */
  url: string;
  /** Identifiers matched with the highest weight: operationId, method and path, event name, code. */
  keywords: string;
  text: string;
  excerpt: string;
};

/** The options MiniSearch is created with here and loaded with in the browser (search-index.json carries them). */
export const INDEX_OPTIONS = {
  idField: 'id',
  fields: ['title', 'keywords', 'text'],
  storeFields: ['kind', 'title', 'page', 'url', 'excerpt'],
} as const;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** The visible text of some HTML: tags dropped, markdown-it's entities decoded, whitespace collapsed. */
export function htmlText(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<\/?(a|code|strong|em|span|b|i|kbd|sub|sup)\b[^>]*>/g, '') // inline: no space added ("(listEnvironments)")
    .replace(/<[^>]+>/g, ' ')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, name: string) => ENTITIES[name]!)
    .replace(/\s+/g, ' ')
    .trim();
}

/** Plain text from a Markdown description (for the index only: emphasis and link targets dropped). */
const markdownText = (markdown: string) =>
  String(markdown ?? '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]+/g, (m) => (m.includes('`') ? '' : ' '))
    .replace(/\s+/g, ' ')
    .trim();

const excerptOf = (text: string, max = 160) => (text.length <= max ? text : `${text.slice(0, max).replace(/\s+\S*$/, '')} …`);

/** One document per h1–h3 section of a rendered guide; deeper headings stay in their section. */
export function guideSections(page: { file: string; title: string; html: string }): SearchDocument[] {
  const heading = /<h([1-3]) id="([^"]+)"[^>]*>([\s\S]*?)<\/h\1>/g;
  const starts = [...page.html.matchAll(heading)];
  return starts.map((match, i) => {
    const [, level, id, inner] = match;
    const body = page.html.slice(match.index! + match[0].length, starts[i + 1]?.index ?? page.html.length);
    const title = htmlText(inner!);
    const text = htmlText(body);
    return {
      id: `${page.file}#${id}`,
      kind: 'guide',
      title,
      page: level === '1' ? 'Guide' : page.title,
      url: level === '1' ? page.file : `${page.file}#${id}`,
      keywords: '',
      text,
      excerpt: excerptOf(text),
    };
  });
}

export function referenceDocuments(operations: Operation[], referenceFile: string): SearchDocument[] {
  return operations.map((op) => {
    const text = markdownText(op.object.description ?? '');
    const where = op.kind === 'webhook' ? `event ${op.path}` : `${op.method.toUpperCase()} ${op.path}`;
    return {
      id: `operation:${op.operationId}`,
      kind: op.kind === 'webhook' ? 'event' : 'operation',
      title: op.summary,
      page: `${where} · ${op.operationId}`,
      url: `${referenceFile}${referenceRoute(op)}`,
      keywords: [op.operationId, where, op.tag].join(' '),
      text,
      excerpt: excerptOf(text),
    };
  });
}

/** Problem codes link to their row of the guide that shows the table (`<tr id="code">`). */
export function problemCodeDocuments(codes: ProblemCodeRow[], pages: Array<{ file: string; html: string }>): SearchDocument[] {
  return codes.map((row) => {
    const page = pages.find((p) => p.html.includes(`<tr id="${row.code}">`));
    if (!page) throw new Error(`docs: no guide shows problem code ${row.code} (<!-- generated: problem-codes -->)`);
    const text = markdownText(row.meaning);
    return {
      id: `problem:${row.code}`,
      kind: 'problem code',
      title: row.code,
      page: `${row.status} · problem code`,
      url: `${page.file}#${row.code}`,
      // Not the operations that document it: a search for an operation finds the operation first.
      keywords: `${row.code} ${row.status}`,
      text,
      excerpt: excerptOf(text),
    };
  });
}

/** search-index.json: the options and the serialised index. */
export function searchIndexJson(documents: SearchDocument[]): string {
  const ids = new Set<string>();
  for (const doc of documents) {
    if (ids.has(doc.id)) throw new Error(`docs: two search documents have the id ${doc.id}`);
    ids.add(doc.id);
  }
  const index = new MiniSearch<SearchDocument>({ ...INDEX_OPTIONS, fields: [...INDEX_OPTIONS.fields], storeFields: [...INDEX_OPTIONS.storeFields] });
  index.addAll(documents);
  return JSON.stringify({ library: `minisearch ${miniSearchPackage().version}`, documents: documents.length, options: INDEX_OPTIONS, index });
}

function miniSearchPackage(): { version: string; dir: string } {
  // Its exports hide package.json: the folder above its resolved entry (dist/cjs/index.cjs) that has one.
  let dir = dirname(createRequire(import.meta.url).resolve('minisearch'));
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return { version: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version, dir };
}

/** MiniSearch's UMD build (a global `MiniSearch`, works from file:// too), minified, with its licence. */
export function miniSearchAsset(): string {
  const { version, dir } = miniSearchPackage();
  const source = readFileSync(join(dir, 'dist', 'umd', 'index.js'), 'utf8');
  const license = readFileSync(join(dir, 'LICENSE.txt'), 'utf8').trim();
  const { code } = transformSync(source, { minify: true, legalComments: 'none' });
  return `/*! MiniSearch ${version} (https://github.com/lucaong/minisearch)\n${license.replace(/\*\//g, '* /')}\n*/\n${code}`;
}

export function writeSearch(outDir: string, documents: SearchDocument[]): { documents: number; bytes: number } {
  const json = searchIndexJson(documents);
  writeFileSync(join(outDir, SEARCH_INDEX_FILE), json);
  writeFileSync(join(outDir, MINISEARCH_ASSET), miniSearchAsset());
  return { documents: documents.length, bytes: Buffer.byteLength(json) };
}
