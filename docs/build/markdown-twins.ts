// The Markdown twin of every guide (`quick-start.md` next to `quick-start.html`): the guide's own
// Markdown with its links rewritten for readers of Markdown and everything HTML-only resolved:
//   - `op:recordDelta`                → `reference.md#recorddelta`
//   - `reference.html#/tag/operation` → `reference.md#operation`, `reference.html#/tag` → the tag
//   - `guide.html#x`                  → `guide.md#x` (the `.md` links of the source stay)
//   - `<!-- generated: name -->`      → the same content as Markdown (a list, a table)
//   - the overview's cards (`<div class="cards">` of `<a><strong>`) → a list of links
// Any other raw HTML fails the build, so the twins never silently lose content.
import MarkdownIt from 'markdown-it';
import { markdownTwin } from './layout.ts';
import { createRenderer } from './markdown.ts';

export type TwinAnchors = {
  /** `reference.md#…` for an operationId, or undefined when the contract has none. */
  operation: (operationId: string) => string | undefined;
  /** `reference.md#…` for a Redoc route (`#/balance`, `#/balance/recorddelta`). */
  route: (route: string) => string | undefined;
};

/** `quick-start.html` → `quick-start.md` (the layout links each page's twin with the same function). */
export const twinOf = markdownTwin;

const parser = new MarkdownIt({ html: true });

/**
 * The heading ids of a Markdown document as the site's renderer makes them (what a `.md#id` link
 * names): `headings` in order, with their level and text.
 */
export function headingsOf(markdown: string) {
  // An op: link left over is the link check's to report; here it must not stop the reading.
  return createRenderer({ operationHref: () => '#' }).render(markdown).headings;
}

/** Reads the anchors of reference.md back from the file itself, so links can never name a missing one. */
export function twinAnchors(referenceMd: string, operations: Array<{ operationId: string; tag: string }>, slug: (text: string) => string): TwinAnchors {
  const headings = headingsOf(referenceMd);
  const byText = (level: number, text: string) => headings.find((h) => h.level === level && h.text === text)?.id;
  const tagIds = new Map<string, string>();
  const opIds = new Map<string, string>();
  for (const op of operations) {
    const tagId = byText(2, op.tag);
    const opId = byText(3, op.operationId);
    if (!tagId || !opId) throw new Error(`docs: reference.md has no heading for ${op.tag} / ${op.operationId}`);
    tagIds.set(slug(op.tag), tagId);
    opIds.set(op.operationId, opId);
    opIds.set(op.operationId.toLowerCase(), opId);
  }
  return {
    operation: (id) => (opIds.has(id) ? `reference.md#${opIds.get(id)}` : undefined),
    route: (route) => {
      const [tag, operation] = route.replace(/^#\//, '').split('/');
      if (operation !== undefined) return opIds.has(operation) ? `reference.md#${opIds.get(operation)}` : undefined;
      if (!tag) return 'reference.md';
      return tagIds.has(tag) ? `reference.md#${tagIds.get(tag)}` : undefined;
    },
  };
}

/** One link target of a guide, as the twin writes it. */
function rewriteHref(href: string, anchors: TwinAnchors, source: string): string {
  if (href.startsWith('op:')) {
    const target = anchors.operation(href.slice(3));
    if (!target) throw new Error(`docs: ${source} links to unknown operation ${href}`);
    return target;
  }
  const reference = /^reference\.html(#.*)?$/.exec(href);
  if (reference) {
    if (!reference[1]) return 'reference.md';
    const target = anchors.route(reference[1]);
    if (!target) throw new Error(`docs: ${source} links to ${href}, which reference.md has no section for`);
    return target;
  }
  if (/^[a-z0-9-]+\.html(#.*)?$/.test(href)) return href.replace(/\.html(?=#|$)/, '.md');
  return href;
}

/** Rewrites the inline links `[text](href "title")` of a line of Markdown, outside code spans. */
function rewriteLinks(line: string, rewrite: (href: string) => string): string {
  return line
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\]\(([^)\s]+)((?:\s+"[^"]*")?)\)/g, (_, href: string, title: string) => `](${rewrite(href)}${title})`)))
    .join('');
}

/** `<div class="cards"><a href="x.html"><strong>Title</strong>What it is.</a>…</div>` → a list. */
function cardsToList(html: string, rewrite: (href: string) => string): string | undefined {
  const inner = /^\s*<div class="cards">([\s\S]*)<\/div>\s*$/.exec(html)?.[1];
  if (inner === undefined) return undefined;
  const card = /<a href="([^"]+)"><strong>([^<]+)<\/strong>([^<]*)<\/a>/g;
  if (inner.replace(card, '').trim() !== '') return undefined;
  return [...inner.matchAll(card)].map(([, href, title, text]) => `- [${title}](${rewrite(href!)}): ${text!.trim()}`).join('\n');
}

export type GuideTwinOptions = {
  /** The guide's file name (for messages). */
  source: string;
  anchors: TwinAnchors;
  /** The Markdown for each `<!-- generated: name -->` marker. */
  generated: Record<string, () => string>;
};

/** The Markdown twin of one guide. */
export function guideTwin(markdown: string, { source, anchors, generated }: GuideTwinOptions): string {
  const rewrite = (href: string) => rewriteHref(href, anchors, source);
  const lines = markdown.split('\n');
  const out: string[] = [];
  const tokens = parser.parse(markdown, {});
  for (const token of tokens) {
    for (const child of token.children ?? []) {
      if (child.type === 'html_inline') throw new Error(`docs: ${source} has inline HTML the Markdown twin cannot carry: ${child.content}`);
    }
  }
  // Block tokens with their source lines: code stays as it is, HTML blocks are resolved.
  const verbatim = new Map<number, { end: number; replacement?: string }>();
  for (const token of tokens) {
    if (!token.map) continue;
    const [start, end] = token.map;
    if (token.type === 'fence' || token.type === 'code_block') verbatim.set(start, { end });
    if (token.type === 'html_block' && token.level !== 0) throw new Error(`docs: ${source} has nested HTML the Markdown twin cannot carry:\n${token.content}`);
    if (token.type === 'html_block') {
      const html = token.content;
      const marker = /^<!-- generated: ([a-z-]+) -->\s*$/.exec(html);
      let replacement: string | undefined;
      if (marker) {
        const make = generated[marker[1]!];
        if (!make) throw new Error(`docs: ${source} asks for generated content "${marker[1]}" that has no Markdown form`);
        replacement = make();
      } else {
        replacement = cardsToList(html, rewrite);
      }
      if (replacement === undefined) throw new Error(`docs: ${source} has an HTML block the Markdown twin cannot carry:\n${html}`);
      verbatim.set(start, { end, replacement: `${replacement}\n` });
    }
  }
  for (let i = 0; i < lines.length; ) {
    const block = verbatim.get(i);
    if (block) {
      out.push(block.replacement ?? lines.slice(i, block.end).join('\n'));
      i = block.end;
      continue;
    }
    out.push(rewriteLinks(lines[i]!, rewrite));
    i++;
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
