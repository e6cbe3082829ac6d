// llms.txt (the llmstxt.org proposal) and llms-full.txt for the docs site:
//   llms.txt       an H1, a blockquote summary, a few notes, then sections of links to the
//                  Markdown twins, each with a one-line description
//   llms-full.txt  every twin in one file, in the order llms.txt lists them
// Links are relative to the file (the site is served at /docs/ by the sandbox, at any path
// elsewhere), as every link of the site is.
import MarkdownIt from 'markdown-it';
import { oneLine } from './reference-markdown.ts';

export const LLMS_FILE = 'llms.txt';
export const LLMS_FULL_FILE = 'llms-full.txt';

export type LlmsEntry = { file: string; title: string; description: string; markdown: string };

const parser = new MarkdownIt({ html: true });

/** The first sentences (80 characters or more, at most 240) of a document's first paragraph, as plain one-line text. */
export function firstSentence(markdown: string): string {
  const tokens = parser.parse(markdown, {});
  const index = tokens.findIndex((t) => t.type === 'paragraph_open');
  const inline = index >= 0 ? tokens[index + 1]!.content : '';
  const text = oneLine(inline.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\*\*?([^*]+)\*\*?/g, '$1'));
  // Sentences until the description says something (a lone "PacSpace has two environments." does not).
  // A sentence ends at `.`, `!` or `?` before a space or the end: a dot inside `openapi.yaml` does not end one.
  const sentences = text.match(/(?:[^.!?]|[.!?](?![.!?]*(?:\s|$)))+(?:[.!?]+(?=\s|$)|$)/g) ?? [text];
  let description = '';
  for (const sentence of sentences) {
    if (description.length >= 80) break;
    description = `${description} ${sentence.trim()}`.trim();
  }
  if (description.length > 240) description = `${description.slice(0, 240).replace(/\s+\S*$/, '')} …`;
  return description.replace(/:$/, '.');
}

export function llmsTxt(site: { title: string; summary: string; version: string }, guides: LlmsEntry[], reference: LlmsEntry): string {
  const link = (entry: Pick<LlmsEntry, 'file' | 'title' | 'description'>) => `- [${entry.title}](${entry.file}): ${entry.description}`;
  return `${[
    `# ${site.title}`,
    '',
    `> ${oneLine(site.summary)}`,
    '',
    `The documentation of the PacSpace API ${site.version}: guides for integrators (people and agents) and the API reference, all generated from one OpenAPI 3.1 contract. Every page of the site is also served as Markdown: \`<page>.md\` next to \`<page>.html\`, linked below. Links are relative to this file.`,
    '',
    '## Guides',
    '',
    ...guides.map(link),
    '',
    '## Reference',
    '',
    link(reference),
    link({ file: 'openapi.yaml', title: 'OpenAPI document (YAML)', description: 'The contract itself, OpenAPI 3.1: every path, schema, example and webhook event.' }),
    link({ file: 'openapi.json', title: 'OpenAPI document (JSON)', description: 'The same contract as JSON.' }),
    '',
    '## Optional',
    '',
    link({ file: LLMS_FULL_FILE, title: 'Everything in one file', description: 'Every guide and the API reference above, concatenated in this order.' }),
  ].join('\n')}\n`;
}

export function llmsFullTxt(site: { title: string; summary: string }, entries: LlmsEntry[]): string {
  const header = `# ${site.title}: the complete documentation\n\n> ${oneLine(site.summary)}\n\nEvery guide and the API reference, in the order of llms.txt. Each part starts with its own title; links are relative to this file.\n`;
  return `${[header, ...entries.map((entry) => `<!-- ${entry.file} -->\n\n${entry.markdown.trim()}\n`)].join('\n---\n\n')}`;
}
