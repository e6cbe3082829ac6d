// The three report formats: a readable summary, JSON and JUnit XML. All text passes through
// the redactor first.
/** The outcome of one check. */
export type CheckResult = {
  id: string;
  rule: string;
  source: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it was skipped, or what failed. */
  message?: string;
  durationMs: number;
};

/** A whole run: the target, when it started, how long it took, and one result per selected check in run order. */
export type RunReport = { target: string; startedAt: string; durationMs: number; results: CheckResult[] };

/** How many checks passed, failed and were skipped. */
export const totals = (r: RunReport) => ({
  passed: r.results.filter((x) => x.status === 'passed').length,
  failed: r.results.filter((x) => x.status === 'failed').length,
  skipped: r.results.filter((x) => x.status === 'skipped').length,
});

/** A readable summary: one line per check, with the reason for each skip and failure, and the totals. */
export function pretty(r: RunReport): string {
  const icon = { passed: '✓', failed: '✗', skipped: '-' } as const;
  const lines = [`PacSpace conformance against ${r.target}`, ''];
  for (const x of r.results) {
    lines.push(`${icon[x.status]} ${x.id.padEnd(11)} ${x.rule}`);
    if (x.status !== 'passed' && x.message) lines.push(`    ${x.status === 'failed' ? 'FAILED' : 'skipped'}: ${x.message.split('\n').join('\n    ')}`);
    if (x.status === 'failed') lines.push(`    rule from: ${x.source}`);
  }
  const t = totals(r);
  lines.push('', `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped in ${(r.durationMs / 1000).toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}

/** The report as JSON, with its totals. */
export const json = (r: RunReport) => `${JSON.stringify({ ...r, totals: totals(r) }, null, 2)}\n`;

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** The report as JUnit XML, for CI test views. */
export function junit(r: RunReport): string {
  const t = totals(r);
  const cases = r.results.map((x) => {
    const open = `    <testcase classname="pacspace.conformance" name="${xml(`${x.id} ${x.rule}`)}" time="${(x.durationMs / 1000).toFixed(3)}">`;
    if (x.status === 'failed') return `${open}\n      <failure message="${xml(x.message?.split('\n')[0] ?? 'failed')}">${xml(`${x.message ?? ''}\nrule from: ${x.source}`)}</failure>\n    </testcase>`;
    if (x.status === 'skipped') return `${open}\n      <skipped message="${xml(x.message ?? '')}"/>\n    </testcase>`;
    return `${open}</testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="PacSpace conformance" tests="${r.results.length}" failures="${t.failed}" skipped="${t.skipped}" time="${(r.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="PacSpace conformance" tests="${r.results.length}" failures="${t.failed}" skipped="${t.skipped}" timestamp="${r.startedAt}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
