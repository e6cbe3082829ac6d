// The guides' Markdown renderer: markdown-it (CommonMark + tables), with
// - an id on every heading (GitHub-style slug, de-duplicated) for links and the page's contents,
// - links rewritten for the site: `guide.md#x` → `guide.html#x`, `op:operationId` → the
//   operation on the reference page; an unknown operationId fails the build.
import MarkdownIt from 'markdown-it';

export type Heading = { level: number; id: string; text: string };

export function headingSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .trim()
    .replace(/\s+/g, '-');
}

export type RenderOptions = {
  /** Resolves `op:operationId` links; returns undefined for an unknown operation. */
  operationHref: (operationId: string) => string | undefined;
};

export type Rendered = { html: string; title: string; headings: Heading[] };

export function createRenderer({ operationHref }: RenderOptions) {
  const md = new MarkdownIt({ html: true, linkify: false, typographer: false });

  md.core.ruler.push('heading_ids', (state) => {
    const seen = new Map<string, number>();
    const headings: Heading[] = [];
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      if (token.type !== 'heading_open') continue;
      const inline = tokens[i + 1]!;
      const text = (inline.children ?? []).filter((t) => t.type === 'text' || t.type === 'code_inline').map((t) => t.content).join('');
      const base = headingSlug(text) || 'section';
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      const id = count ? `${base}-${count}` : base;
      token.attrSet('id', id);
      headings.push({ level: Number(token.tag.slice(1)), id, text });
    }
    state.env.headings = headings;
  });

  md.core.ruler.push('site_links', (state) => {
    for (const block of state.tokens) {
      for (const token of block.children ?? []) {
        if (token.type !== 'link_open') continue;
        const href = String(token.attrGet('href') ?? '');
        if (href.startsWith('op:')) {
          const target = operationHref(href.slice(3));
          if (!target) throw new Error(`docs: link to unknown operation ${href}`);
          token.attrSet('href', target);
        } else if (/^[a-z0-9-]+\.md(#.*)?$/.test(href)) {
          token.attrSet('href', href.replace(/\.md(?=#|$)/, '.html'));
        } else if (/^https?:\/\//.test(href)) {
          token.attrSet('rel', 'noopener');
        }
      }
    }
  });

  // Code blocks carry their language for styling and a title when the fence names one:
  // ```ts title="verify-proof.ts"
  const fence = md.renderer.rules.fence!;
  md.renderer.rules.fence = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!;
    const title = /title="([^"]+)"/.exec(token.info)?.[1];
    token.info = token.info.split(/\s+/)[0] ?? '';
    const html = fence(tokens, idx, options, env, self);
    return title ? `<figure class="code"><figcaption>${md.utils.escapeHtml(title)}</figcaption>${html}</figure>\n` : html;
  };

  return {
    render(markdown: string): Rendered {
      const env: { headings?: Heading[] } = {};
      const html = md.render(markdown, env);
      const headings = env.headings ?? [];
      const title = headings.find((h) => h.level === 1)?.text;
      if (!title) throw new Error('docs: every guide starts with a # title');
      return { html, title, headings };
    },
    escape: (text: string) => md.utils.escapeHtml(text),
    inline: (markdown: string) => md.renderInline(markdown),
  };
}
