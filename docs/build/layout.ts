// The one page layout every page of the site shares: the header with the site's navigation, the
// guide list, the page and its contents. The API reference page uses the same header (see
// reference-template.ts). Everything is relative, so the site works at any path (the sandbox
// serves it at /docs/) and from disk; nothing is loaded from another origin.
import type { Heading } from './markdown.ts';

export type Page = {
  /** File name in the site, e.g. `quick-start.html`. */
  file: string;
  /** Navigation label. */
  label: string;
  /** The Markdown source, relative to docs/guides/ (none for generated pages). */
  source?: string;
  /** An Arazzo document in openapi/workflows/ the page is generated from (docs/build/workflows.ts). */
  workflow?: string;
};

/** The guides, in reading order. The first page is the site's home. */
export const GUIDES: Page[] = [
  { file: 'index.html', label: 'Overview', source: 'index.md' },
  { file: 'quick-start.html', label: 'Quick start', source: 'quick-start.md' },
  { file: 'authentication.html', label: 'Authentication', source: 'authentication.md' },
  { file: 'agent-authentication.html', label: 'Agent authentication', source: 'agent-authentication.md' },
  { file: 'environments.html', label: 'Environments', source: 'environments.md' },
  { file: 'webhooks.html', label: 'Webhooks', source: 'webhooks.md' },
  { file: 'errors.html', label: 'Errors', source: 'errors.md' },
  { file: 'proofs.html', label: 'Proofs', source: 'proofs.md' },
  { file: 'workflow-quick-start.html', label: 'Workflow: quick start', workflow: 'quick-start.arazzo.yaml' },
  { file: 'workflow-key-rotation.html', label: 'Workflow: key rotation', workflow: 'key-rotation.arazzo.yaml' },
  { file: 'workflow-webhooks.html', label: 'Workflow: webhooks', workflow: 'webhooks.arazzo.yaml' },
  { file: 'sandbox.html', label: 'Sandbox', source: 'sandbox.md' },
  { file: 'conformance.html', label: 'Conformance', source: 'conformance.md' },
  // The contract's own changelog, kept by `npm run contract:diff -- --release`: published as it is.
  { file: 'changelog.html', label: 'Contract changelog', source: '../../openapi/CHANGELOG.md' },
];

export const REFERENCE: Page = { file: 'reference.html', label: 'API reference' };

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The header of every page, the reference included. */
export function siteHeader(current: string): string {
  const link = (file: string, label: string) =>
    `<a href="${file}"${file === current ? ' aria-current="page"' : ''}>${escapeHtml(label)}</a>`;
  return `<header class="site-header">
  <a class="brand" href="index.html"><img src="assets/favicon.svg" alt="" width="22" height="22"> PacSpace docs</a>
  <nav class="site-top-nav" aria-label="Site">
    ${link('quick-start.html', 'Quick start')}
    ${link('authentication.html', 'Guides')}
    ${link(REFERENCE.file, REFERENCE.label)}
    <a href="openapi.yaml" download>openapi.yaml</a>
  </nav>
  <div class="site-search" role="search">
    <label class="visually-hidden" for="site-search-input">Search the docs</label>
    <input id="site-search-input" type="search" placeholder="Search guides and reference  /" autocomplete="off" spellcheck="false" role="combobox" aria-autocomplete="list" aria-expanded="false" aria-controls="site-search-results">
    <div class="site-search-panel">
      <ul id="site-search-results" class="site-search-results" role="listbox" aria-label="Search results" hidden></ul>
      <p id="site-search-status" class="site-search-status" role="status" hidden></p>
    </div>
  </div>
</header>`;
}

/** `quick-start.html` → `quick-start.md`: the page's Markdown twin (docs/build/markdown-twins.ts). */
export const markdownTwin = (file: string) => file.replace(/\.html$/, '.md');

/** The head of every page; `file` names the page, whose Markdown twin it links for agents. */
export function headTags(title: string, file?: string): string {
  return `<meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <link rel="icon" href="assets/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="assets/site.css">
  <link rel="stylesheet" href="assets/search.css">${file ? `\n  <link rel="alternate" type="text/markdown" href="${markdownTwin(file)}">` : ''}
  <script src="assets/search.js" defer></script>`;
}

export function guidePage(page: Page, content: { html: string; title: string; headings: Heading[] }, meta: { version: string }): string {
  const nav = GUIDES.map(
    (p) => `<li><a href="${p.file}"${p.file === page.file ? ' aria-current="page"' : ''}>${escapeHtml(p.label)}</a></li>`,
  ).join('\n        ');
  const toc = content.headings
    .filter((h) => h.level === 2)
    .map((h) => `<li><a href="#${h.id}">${escapeHtml(h.text)}</a></li>`)
    .join('\n        ');
  const title = page.file === 'index.html' ? 'PacSpace docs' : `${content.title} · PacSpace docs`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
  ${headTags(title, page.file)}
</head>
<body class="guide">
${siteHeader(page.file)}
<div class="layout">
  <nav class="site-nav" aria-label="Guides">
    <p class="nav-title">Guides</p>
    <ul>
        ${nav}
    </ul>
    <p class="nav-title">Reference</p>
    <ul>
        <li><a href="${REFERENCE.file}">${REFERENCE.label}</a></li>
        <li><a href="openapi.yaml" download>openapi.yaml</a></li>
        <li><a href="openapi.json" download>openapi.json</a></li>
    </ul>
  </nav>
  <main id="content">
${content.html}
  </main>
  <aside class="toc" aria-label="On this page">
    ${toc ? `<p class="nav-title">On this page</p>\n    <ul>\n        ${toc}\n    </ul>` : ''}
  </aside>
</div>
<footer class="site-footer">PacSpace API ${escapeHtml(meta.version)} · built from the contract (<a href="openapi.yaml" download>openapi.yaml</a>) · works offline · <a href="${markdownTwin(page.file)}">this page as Markdown</a> · <a href="llms.txt">llms.txt</a></footer>
</body>
</html>
`;
}
