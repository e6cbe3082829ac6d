// What the docs build writes for readers without a browser, and the site's search (build.ts
// calls writeAgentDocs once the guides and the reference are built):
//   <guide>.md, reference.md   the Markdown twins (markdown-twins.ts, reference-markdown.ts)
//   llms.txt, llms-full.txt    llms.ts
//   search-index.json, assets/minisearch.js   search-index.ts
// Every page the layout lists gets a twin; the build fails on a twin or llms.txt link to a file
// that is not built or to a heading the target does not have.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import MarkdownIt from 'markdown-it';
import { codeSamplesFor } from './code-samples.ts';
import { listOperations, slug, type Json, type Operation } from './contract.ts';
import { firstSentence, LLMS_FILE, LLMS_FULL_FILE, llmsFullTxt, llmsTxt, type LlmsEntry } from './llms.ts';
import { guideTwin, headingsOf, twinAnchors, twinOf, type TwinAnchors } from './markdown-twins.ts';
import { problemCodes, SDK_ERROR_CLASS, type ProblemCodeRow } from './problem-codes.ts';
import { oneLine, referenceMarkdown } from './reference-markdown.ts';
import { guideSections, problemCodeDocuments, referenceDocuments, writeSearch } from './search-index.ts';

export type GuideSource = {
  /** The page's file in the site (`quick-start.html`). */
  file: string;
  /** Its title (the Markdown's `#` heading). */
  title: string;
  /** The Markdown it is rendered from. */
  markdown: string;
  /** The rendered page content (generated parts filled in), as the HTML page shows it. */
  html: string;
};

export type AgentDocsInput = {
  outDir: string;
  /** The public bundle (not the docs copy, whose webhook descriptions carry their samples). */
  spec: Json;
  /** Every guide page, in the layout's order. */
  guides: GuideSource[];
  referenceFile: string;
  /** Redoc routes of reference.html that exist (`#/balance`, `#/balance/recorddelta`). */
  referenceRoutes: Set<string>;
};

export type AgentDocsResult = { twins: string[]; llms: string[]; search: { documents: number; bytes: number } };

const code = (text: string) => `\`${text}\``;
const plain = new MarkdownIt({ html: false });

/** The Markdown forms of the guides' `<!-- generated: … -->` content. */
function generatedMarkdown(spec: Json, operations: Operation[], codes: ProblemCodeRow[], anchors: TwinAnchors): Record<string, () => string> {
  const opLink = (id: string) => `[${id}](${anchors.operation(id)})`;
  return {
    operations: () =>
      (spec.tags ?? [])
        .filter((tag: Json) => operations.some((op) => op.tag === tag.name))
        .map((tag: Json) =>
          [
            `### ${tag.name}`,
            '',
            ...operations
              .filter((op) => op.tag === tag.name)
              .map((op) => `- ${code(op.kind === 'webhook' ? `EVENT ${op.path}` : `${op.method.toUpperCase()} ${op.path}`)} [${op.summary}](${anchors.operation(op.operationId)})`),
          ].join('\n'),
        )
        .join('\n\n'),
    'problem-codes': () =>
      [
        '| code | status | meaning | SDK error | documented on |',
        '|---|---|---|---|---|',
        ...codes.map(
          (row) =>
            `| ${code(row.code)} | ${row.status} | ${oneLine(row.meaning).replace(/\|/g, '\\|')} | ${code(SDK_ERROR_CLASS[row.status] ?? 'PacSpaceError')} | ${row.operations.length ? row.operations.map(opLink).join(', ') : '*any request*'} |`,
        ),
      ].join('\n'),
  };
}

/** Every relative link of the Markdown files resolves: the file is built, a `.md#x` has heading `x`, a reference route exists. */
export function checkMarkdownLinks(outDir: string, files: string[], referenceFile: string, referenceRoutes: Set<string>): void {
  const headingIds = new Map<string, Set<string>>();
  const idsOf = (file: string) => {
    if (!headingIds.has(file)) headingIds.set(file, new Set(headingsOf(readFileSync(join(outDir, file), 'utf8')).map((h) => h.id)));
    return headingIds.get(file)!;
  };
  const broken: string[] = [];
  for (const file of files) {
    const markdown = readFileSync(join(outDir, file), 'utf8');
    // The links outside code, as a Markdown reader sees them (raw HTML off: a twin has none).
    const html = plain.render(markdown);
    for (const [, href] of html.matchAll(/<a\s[^>]*href="([^"]*)"/g)) {
      if (!href || /^(https?:|mailto:)/.test(href)) continue;
      if (href.startsWith('op:')) {
        broken.push(`${file}: ${href} (an op: link left unresolved)`);
        continue;
      }
      const [target = '', fragment] = href.split('#') as [string, string | undefined];
      const targetFile = target === '' ? file : target;
      if (!existsSync(join(outDir, targetFile))) broken.push(`${file}: ${href} (no such file)`);
      else if (fragment === undefined || fragment === '') continue;
      else if (targetFile === referenceFile) {
        if (!referenceRoutes.has(`#${fragment}`)) broken.push(`${file}: ${href} (no such reference route)`);
      } else if (targetFile.endsWith('.md') && !idsOf(targetFile).has(decodeURIComponent(fragment))) {
        broken.push(`${file}: ${href} (no heading #${fragment} in ${targetFile})`);
      }
    }
  }
  if (broken.length) throw new Error(`docs: broken links in the Markdown twins:\n  ${broken.join('\n  ')}`);
}

export function writeAgentDocs(input: AgentDocsInput): AgentDocsResult {
  const { outDir, spec, guides, referenceFile, referenceRoutes } = input;
  const operations = listOperations(spec).map((op) => ({ ...op, samples: codeSamplesFor(op) }));
  const codes = problemCodes(spec, operations);
  const referenceMd = referenceMarkdown(spec, operations, codes);
  const referenceTwin = twinOf(referenceFile);
  writeFileSync(join(outDir, referenceTwin), referenceMd);
  const anchors = twinAnchors(referenceMd, operations, slug);
  const generated = generatedMarkdown(spec, operations, codes, anchors);

  const entries: LlmsEntry[] = guides.map((guide) => {
    const markdown = guideTwin(guide.markdown, { source: guide.file, anchors, generated });
    const file = twinOf(guide.file);
    writeFileSync(join(outDir, file), markdown);
    return { file, title: guide.title, description: firstSentence(guide.markdown), markdown };
  });
  const reference: LlmsEntry = {
    file: referenceTwin,
    title: 'API reference',
    description: 'Every operation and webhook event: method, path, authentication, parameters, request body outline, responses with their problem codes, and code samples (curl, SDK, fetch).',
    markdown: referenceMd,
  };
  const site = { title: spec.info.title, summary: spec.info.summary, version: spec.info.version };
  writeFileSync(join(outDir, LLMS_FILE), llmsTxt(site, entries, reference));
  writeFileSync(join(outDir, LLMS_FULL_FILE), llmsFullTxt(site, [...entries, reference]));

  const twins = [...entries.map((e) => e.file), referenceTwin];
  checkMarkdownLinks(outDir, [...twins, LLMS_FILE], referenceFile, referenceRoutes);

  const search = writeSearch(outDir, [
    ...guides.flatMap((guide) => guideSections(guide)),
    ...referenceDocuments(operations, referenceFile),
    ...problemCodeDocuments(codes, guides),
  ]);
  return { twins, llms: [LLMS_FILE, LLMS_FULL_FILE], search };
}
