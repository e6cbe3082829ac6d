// The report as one self-contained HTML page: inline CSS, no script, no external resource (a
// Content-Security-Policy says so to the browser too), every piece of text escaped. Each
// failed or inconclusive check shows its message, where the rule comes from, and its requests
// as redacted curl commands to reproduce it, with what came back.
import { STATUS_ICON, summary, totals, type CheckResult, type RunReport } from './format.ts';

/** Escapes text for HTML element content and quoted attribute values. */
export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}h3{font-size:1rem;margin:1.5rem 0 .25rem}
.meta{color:#57606a;margin:0 0 1rem}
.totals span{display:inline-block;margin-right:1rem;font-weight:600}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.passed{color:#1a7f37}.failed{color:#cf222e}.skipped{color:#57606a}.inconclusive{color:#9a6700}
pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-all}
.detail{border-left:4px solid #d0d7de;padding-left:1rem;margin:1rem 0}
.detail.failed{border-color:#cf222e}.detail.inconclusive{border-color:#9a6700}
.note{color:#57606a}
`;

const ms = (n: number) => `${n} ms`;

function detail(x: CheckResult): string {
  const parts = [
    `<section class="detail ${x.status}" id="${escapeHtml(x.id)}">`,
    `<h3><span class="${x.status}">${STATUS_ICON[x.status]} ${escapeHtml(x.status.toUpperCase())}</span> ${escapeHtml(x.id)}</h3>`,
    `<p>${escapeHtml(x.rule)}</p>`,
    `<pre>${escapeHtml(x.message ?? '')}</pre>`,
    `<p class="note">Rule from: ${escapeHtml(x.source)}</p>`,
  ];
  if (x.exchanges?.length) {
    parts.push('<p class="note">Requests, as curl commands: set the variables (<code>PACSPACE_API_KEY</code>, <code>PACSPACE_PASSWORD</code>, …) first; secrets are never written here.</p>');
    for (const e of x.exchanges) {
      parts.push(
        `<h4>#${e.id} ${escapeHtml(e.method)} ${escapeHtml(e.url)} → ${e.status}</h4>`,
        `<pre class="curl">${escapeHtml(e.curl)}</pre>`,
        `<details><summary>Response</summary><pre>${escapeHtml(e.response)}</pre></details>`,
      );
    }
  }
  parts.push('</section>');
  return parts.join('\n');
}

/** The report as a self-contained HTML page. */
export function html(r: RunReport): string {
  const t = totals(r);
  const rows = r.results.map(
    (x) =>
      `<tr><td class="${x.status}">${STATUS_ICON[x.status]} ${escapeHtml(x.status)}</td><td>${x.status === 'failed' || x.status === 'inconclusive' ? `<a href="#${escapeHtml(x.id)}">${escapeHtml(x.id)}</a>` : escapeHtml(x.id)}</td><td>${escapeHtml(x.rule)}${x.status === 'skipped' && x.message ? `<br><span class="note">${escapeHtml(x.message)}</span>` : ''}</td><td>${ms(x.durationMs)}</td></tr>`,
  );
  const details = r.results.filter((x) => x.status === 'failed' || x.status === 'inconclusive').map(detail);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>PacSpace conformance: ${escapeHtml(r.target)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>PacSpace conformance</h1>
<p class="meta">Against ${escapeHtml(r.target)}, started ${escapeHtml(r.startedAt)}, ${(r.durationMs / 1000).toFixed(1)} s</p>
<p class="totals"><span class="passed">${t.passed} passed</span><span class="failed">${t.failed} failed</span><span class="skipped">${t.skipped} skipped</span><span class="inconclusive">${t.inconclusive} inconclusive</span></p>
<pre>${escapeHtml(summary(r).join('\n'))}</pre>
<h2>Checks</h2>
<table>
<thead><tr><th>Outcome</th><th>Id</th><th>Rule</th><th>Time</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${details.length ? `<h2>Failed and inconclusive checks</h2>\n${details.join('\n')}` : ''}
</body>
</html>
`;
}
