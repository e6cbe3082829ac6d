// `npm run docs`: builds the static docs site into docs/site/ (ignored by git).
//
//   index.html, <guide>.html   the guides (docs/guides/*.md, rendered with markdown-it), one layout
//   workflow-<name>.html       the Arazzo workflows (openapi/workflows/) as step-by-step guides
//   reference.html             the API reference: Redocly CLI's build-docs (Redoc) over a docs-only
//                              copy of the bundle with generated x-codeSamples on every operation
//   openapi.yaml, openapi.json the public bundle (generated/), for download
//   openapi.docs.json          the docs-only bundle (the public one + x-codeSamples)
//   assets/                    stylesheets, the icon, the search box's script; nothing from elsewhere
//   <page>.md, llms.txt, llms-full.txt, search-index.json
//                              the Markdown twins, llms.txt and the search index (agent-docs.ts)
//
// The build fails on a guide link to a page, anchor or operation that does not exist, on an
// operation without code samples, and on anything in the reference that would be fetched from
// another origin.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { writeAgentDocs, type AgentDocsResult, type GuideSource } from './agent-docs.ts';
import { withCodeSamples } from './code-samples.ts';
import { listOperations, readBundle, referenceRoute, ROOT, slug, type Json, type Operation } from './contract.ts';
import { GUIDES, guidePage, headTags, REFERENCE, siteHeader } from './layout.ts';
import { createRenderer } from './markdown.ts';
import { problemCodes, SDK_ERROR_CLASS } from './problem-codes.ts';
import { workflowGuide } from './workflows.ts';

export const SITE_DIR = join(ROOT, 'docs', 'site');
export const GUIDES_DIR = join(ROOT, 'docs', 'guides');
const ASSETS_DIR = join(ROOT, 'docs', 'build', 'assets');
const REDOCLY_CLI = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');
const REDOCLY_DOCS_CONFIG = join(ROOT, 'docs', 'build', 'redocly.yaml');

const run = promisify(execFile);

export type BuildResult = {
  outDir: string;
  pages: Array<{ file: string; title: string }>;
  operations: Array<Pick<Operation, 'operationId' | 'summary' | 'tag' | 'kind' | 'method' | 'path'> & { route: string }>;
  /** The Markdown twins, llms.txt and the search index (docs/build/agent-docs.ts). */
  agentDocs: AgentDocsResult;
  ms: number;
};

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The errors table: one row per code of ProblemCode.yaml, with an anchor (`errors.html#rate_limited`). */
function problemCodesTable(spec: Json, operations: Operation[], inline: (md: string) => string): string {
  const rows = problemCodes(spec, operations).map((row) => {
    const links = row.operations.map((id) => `<a href="${REFERENCE.file}${referenceRoute(operations.find((o) => o.operationId === id)!)}">${id}</a>`);
    const ops =
      links.length === 0
        ? '<em>any request</em>'
        : links.length <= 6
          ? links.join(', ')
          : `<details><summary>${links.length} operations</summary>${links.join(', ')}</details>`;
    return `<tr id="${row.code}"><td><a href="#${row.code}"><code>${row.code}</code></a></td><td>${row.status}</td><td>${inline(row.meaning)}</td><td><code>${SDK_ERROR_CLASS[row.status] ?? 'PacSpaceError'}</code></td><td>${ops}</td></tr>`;
  });
  return `<table class="problem-codes">
<thead><tr><th>code</th><th>status</th><th>meaning</th><th>SDK error</th><th>documented on</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>`;
}

/** Every operation and webhook event, by tag, linking into the reference. */
function operationsIndex(spec: Json, operations: Operation[]): string {
  const tags: Json[] = spec.tags ?? [];
  return tags
    .filter((tag) => operations.some((op) => op.tag === tag.name))
    .map((tag) => {
      const items = operations
        .filter((op) => op.tag === tag.name)
        .map(
          (op) =>
            `<li><span class="method">${op.kind === 'webhook' ? 'EVENT' : op.method.toUpperCase()}</span> <a href="${REFERENCE.file}${referenceRoute(op)}" data-operation-id="${op.operationId}">${escapeHtml(op.summary)}</a> <code>${escapeHtml(op.path)}</code></li>`,
        )
        .join('\n');
      return `<h3 id="tag-${slug(tag.name)}">${escapeHtml(tag.name)}</h3>\n<ul class="operations">\n${items}\n</ul>`;
    })
    .join('\n');
}

/** The handlebars page template for build-docs: the site's head and header around Redoc. */
function referenceTemplate(): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  ${headTags('API reference · PacSpace docs', REFERENCE.file)}
  {{{redocHead}}}
</head>
<body class="reference">
${siteHeader(REFERENCE.file)}
{{{redocHTML}}}
</body>
</html>
`;
}

/** Markers in what build-docs writes (Redocly CLI 2.x, Redoc 3); the build fails if one moves. */
const REDOC_PRERENDERED_START = '<div id="redoc">';
const REDOC_PRERENDERED_END = '</div>\n      <script type="module">';
const REDOC_REMOTE_LOGOS = ['https://cdn.redoc.ly/redoc/logo-mini-full.svg', 'https://cdn.redoc.ly/redoc/logo-mini.svg'];
/**
 * What the page would fetch from elsewhere on load; none may remain. (The Redoc bundle also
 * names icon sets on Redocly's CDN, fetched only for icons a document asks for; ours asks for
 * none, and the browser test fails on any request that leaves the site.)
 */
const REMOTE_ASSET_PATTERNS = [/cdn\.redoc\.ly\/redoc\//, /fonts\.(googleapis|gstatic)\.com/, /<link[^>]+href="(https?:)?\/\//, /<script[^>]+src="(https?:)?\/\//, /url\(\s*['"]?(https?:)?\/\//];

/**
 * Makes build-docs' page work offline and at any path:
 * - Redoc is rendered in the browser, not hydrated over the prerendered HTML. The prerender
 *   assumes routes at the site root ("/balance"), which at /docs/reference.html are dead links;
 *   rendered by the browser, Redoc uses hash routes ("reference.html#/balance/recorddelta").
 * - The "API docs by Redocly" logo comes from the site, not from Redocly's CDN.
 */
function fixReference(html: string): string {
  const start = html.indexOf(REDOC_PRERENDERED_START);
  const end = html.indexOf(REDOC_PRERENDERED_END, start);
  if (start < 0 || end < 0 || html.indexOf(REDOC_PRERENDERED_START, start + 1) >= 0) {
    throw new Error('docs: build-docs output changed shape (prerendered #redoc not found); review docs/build/build.ts fixReference');
  }
  let out = `${html.slice(0, start)}<div id="redoc"></div>\n      <script type="module">${html.slice(end + REDOC_PRERENDERED_END.length)}`;
  for (const logo of REDOC_REMOTE_LOGOS) {
    if (!out.includes(logo)) throw new Error(`docs: build-docs output changed shape (${logo} not found); review fixReference`);
    out = out.split(logo).join('assets/redoc-logo.svg');
  }
  for (const pattern of REMOTE_ASSET_PATTERNS) {
    const found = pattern.exec(out);
    if (found) throw new Error(`docs: the reference would load something from another origin: …${out.slice(Math.max(0, found.index - 80), found.index + 80)}…`);
  }
  return out;
}

async function buildReference(outDir: string, docsBundle: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pacspace-docs-'));
  try {
    const template = join(work, 'reference.hbs');
    writeFileSync(template, referenceTemplate());
    const output = join(work, 'reference.html');
    await run(
      process.execPath,
      [
        REDOCLY_CLI,
        'build-docs',
        docsBundle,
        '--config',
        REDOCLY_DOCS_CONFIG,
        '--output',
        output,
        '--template',
        template,
        '--inlineBundle',
        '--title',
        'PacSpace API reference',
        '--lint-config',
        'off',
      ],
      { cwd: ROOT, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024 },
    ).catch((error: { stderr?: string; stdout?: string }) => {
      throw new Error(`docs: redocly build-docs failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
    writeFileSync(join(outDir, REFERENCE.file), fixReference(readFileSync(output, 'utf8')));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every internal link of the guide pages points to a page of the site and, with a #fragment, to an id on it. */
function checkLinks(outDir: string, pages: string[], referenceRoutes: Set<string>): void {
  const ids = new Map<string, Set<string>>();
  const idsOf = (file: string) => {
    if (!ids.has(file)) {
      const html = readFileSync(join(outDir, file), 'utf8');
      ids.set(file, new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!)));
    }
    return ids.get(file)!;
  };
  const broken: string[] = [];
  for (const page of pages) {
    const html = readFileSync(join(outDir, page), 'utf8');
    for (const [, href] of html.matchAll(/<a\s[^>]*href="([^"]*)"/g)) {
      if (!href || /^(https?:|mailto:)/.test(href)) continue;
      const [file = '', fragment] = href.split('#') as [string, string | undefined];
      const target = file === '' ? page : file;
      let exists = true;
      try {
        readFileSync(join(outDir, target));
      } catch {
        exists = false;
      }
      if (!exists) broken.push(`${page}: ${href} (no such file)`);
      else if (fragment !== undefined && target === REFERENCE.file) {
        if (!referenceRoutes.has(`#${fragment}`)) broken.push(`${page}: ${href} (no such operation or tag route)`);
      } else if (fragment && target.endsWith('.html') && !idsOf(target).has(decodeURIComponent(fragment))) {
        broken.push(`${page}: ${href} (no id "${fragment}" on ${target})`);
      }
    }
  }
  if (broken.length) throw new Error(`docs: broken links:\n  ${broken.join('\n  ')}`);
}

export async function buildSite(outDir = SITE_DIR): Promise<BuildResult> {
  const started = performance.now();
  const publicSpec = readBundle();
  const { spec, operations } = withCodeSamples(publicSpec);
  const plainOperations = listOperations(publicSpec);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  for (const asset of readdirSync(ASSETS_DIR)) copyFileSync(join(ASSETS_DIR, asset), join(outDir, 'assets', asset));
  copyFileSync(join(ROOT, 'generated', 'openapi.json'), join(outDir, 'openapi.json'));
  copyFileSync(join(ROOT, 'generated', 'openapi.yaml'), join(outDir, 'openapi.yaml'));
  const docsBundle = join(outDir, 'openapi.docs.json');
  writeFileSync(docsBundle, `${JSON.stringify(spec, null, 2)}\n`);

  const byId = new Map(operations.map((op) => [op.operationId, op]));
  const renderer = createRenderer({
    operationHref: (id) => {
      const op = byId.get(id);
      return op && `${REFERENCE.file}${referenceRoute(op)}`;
    },
  });
  const generated: Record<string, () => string> = {
    'problem-codes': () => problemCodesTable(publicSpec, plainOperations, renderer.inline),
    operations: () => operationsIndex(publicSpec, plainOperations),
  };
  const pages: BuildResult['pages'] = [];
  const guideSources: GuideSource[] = [];
  for (const page of GUIDES) {
    // A workflow guide's Markdown is generated from its Arazzo document (docs/build/workflows.ts).
    const markdown = page.workflow ? workflowGuide(page.workflow) : readFileSync(join(GUIDES_DIR, page.source!), 'utf8');
    const rendered = renderer.render(markdown);
    rendered.html = rendered.html.replace(/<!-- generated: ([a-z-]+) -->/g, (_, name: string) => {
      const make = generated[name];
      if (!make) throw new Error(`docs: ${page.source} asks for unknown generated content "${name}"`);
      return make();
    });
    writeFileSync(join(outDir, page.file), guidePage(page, rendered, { version: publicSpec.info.version }));
    guideSources.push({ file: page.file, title: rendered.title, markdown, html: rendered.html });
    pages.push({ file: page.file, title: rendered.title });
  }

  await buildReference(outDir, docsBundle);
  pages.push({ file: REFERENCE.file, title: 'API reference' });

  const routes = new Set<string>([
    ...operations.map((op) => referenceRoute(op)),
    ...(publicSpec.tags ?? []).map((tag: Json) => `#/${slug(tag.name)}`),
  ]);
  const agentDocs = writeAgentDocs({ outDir, spec: publicSpec, guides: guideSources, referenceFile: REFERENCE.file, referenceRoutes: routes });
  checkLinks(
    outDir,
    GUIDES.map((p) => p.file),
    routes,
  );

  return {
    outDir,
    pages,
    operations: operations.map(({ operationId, summary, tag, kind, method, path }) => ({
      operationId,
      summary,
      tag,
      kind,
      method,
      path,
      route: referenceRoute({ tag, operationId }),
    })),
    agentDocs,
    ms: Math.round(performance.now() - started),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `--out DIR`: build elsewhere than docs/site/ (the package build does, so that it never
  // races a docs test rebuilding docs/site/ beside it).
  const out = process.argv.indexOf('--out');
  const result = await buildSite(out > 0 && process.argv[out + 1] ? resolve(process.argv[out + 1]!) : undefined);
  console.log(
    `Docs site built in ${result.ms} ms: ${result.pages.length} pages, ${result.operations.length} operations with code samples → ${result.outDir.replace(ROOT, '')}/`,
  );
  console.log('Open it with `npm start` at http://127.0.0.1:4010/docs/ (or open docs/site/index.html).');
}
