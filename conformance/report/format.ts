// The report formats: a readable summary, JSON, JUnit XML (and HTML, report/html.ts). All
// text was redacted when the report was made (run.ts): messages, and the exchanges of failed
// and inconclusive checks as curl commands with placeholders for every secret.

/**
 * The outcome of one check: `passed`; `failed` (the target broke the rule); `skipped` (an
 * input it needs was not given, or the run was interrupted before it); `inconclusive` (it
 * could not decide: rate limited past the wait budget, the request budget used up,
 * interrupted while it ran). Only `failed` fails the run.
 */
export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'inconclusive';

/** One request of a failed or inconclusive check, redacted: a copy-pasteable curl command and what came back. */
export type ReportedExchange = {
  /** The exchange's number in the run (what messages call `#12`). */
  id: number;
  method: string;
  /** The URL, secrets replaced by placeholders. */
  url: string;
  status: number;
  /** `curl …` with every secret as a shell variable (`"$PACSPACE_API_KEY"`). */
  curl: string;
  /** Status line, the telling headers and the start of the body, redacted. */
  response: string;
};

/** The outcome of one check. */
export type CheckResult = {
  id: string;
  rule: string;
  source: string;
  status: CheckStatus;
  /** Why it was skipped or inconclusive, or what failed. */
  message?: string;
  durationMs: number;
  /** For failed and inconclusive checks: the requests it sent (the last 20) and those its message names. */
  exchanges?: ReportedExchange[];
};

/** Requests the run sent to the target, retries included. */
export type RequestCount = {
  sent: number;
  preflight: number;
  checks: number;
  cleanup: number;
  /** --max-requests: what the checks may send. */
  budget: number;
};

/** Something the run created on the target and could not delete: kind, id and name, never a secret. */
export type Leftover = { kind: string; id: string; name?: string; reason: string };

/** A whole run: the target, when it started, how long it took, and one result per selected check in run order. */
export type RunReport = {
  target: string;
  startedAt: string;
  durationMs: number;
  results: CheckResult[];
  /** Requests sent (absent in reports made before the count existed). */
  requests?: RequestCount;
  /** What the cleanup could not delete; empty when everything the run created is gone. */
  leftovers?: Leftover[];
  /** The signal that stopped the run (`SIGINT`, `SIGTERM`, or `aborted`), if one did. */
  interrupted?: string;
};

/** How many checks passed, failed, were skipped and were inconclusive. */
export const totals = (r: RunReport) => ({
  passed: r.results.filter((x) => x.status === 'passed').length,
  failed: r.results.filter((x) => x.status === 'failed').length,
  skipped: r.results.filter((x) => x.status === 'skipped').length,
  inconclusive: r.results.filter((x) => x.status === 'inconclusive').length,
});

export const STATUS_ICON = { passed: '✓', failed: '✗', skipped: '-', inconclusive: '?' } as const;
const LABEL = { passed: 'passed', failed: 'FAILED', skipped: 'skipped', inconclusive: 'INCONCLUSIVE' } as const;

/**
 * The closing lines of every report: the totals, the requests sent, what could not be
 * deleted, whether the run was interrupted, and what an inconclusive outcome means.
 */
export function summary(r: RunReport): string[] {
  const t = totals(r);
  const lines = [`${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped, ${t.inconclusive} inconclusive in ${(r.durationMs / 1000).toFixed(1)} s`];
  if (r.requests) {
    const q = r.requests;
    lines.push(`${q.sent} requests sent (${q.preflight} preflight, ${q.checks} by checks of a budget of ${q.budget}, ${q.cleanup} cleanup)`);
  }
  if (t.inconclusive) lines.push(`${t.inconclusive} check(s) could not decide (inconclusive): not a failure, but not a pass either; see why above`);
  if (r.interrupted) lines.push(`interrupted by ${r.interrupted}: the checks after it were not run`);
  if (r.leftovers?.length) {
    lines.push(`left on the target (no operation deletes it, or its deletion failed): ${r.leftovers.length}`);
    for (const l of r.leftovers) lines.push(`  ${l.kind} ${l.id}${l.name ? ` "${l.name}"` : ''}: ${l.reason}`);
  }
  return lines;
}

/** A readable summary: one line per check, with the reason for each skip, failure and inconclusive outcome, and the totals. */
export function pretty(r: RunReport): string {
  const lines = [`PacSpace conformance against ${r.target}`, ''];
  for (const x of r.results) {
    lines.push(`${STATUS_ICON[x.status]} ${x.id.padEnd(11)} ${x.rule}`);
    if (x.status !== 'passed' && x.message) lines.push(`    ${LABEL[x.status]}: ${x.message.split('\n').join('\n    ')}`);
    if (x.status === 'failed') lines.push(`    rule from: ${x.source}`);
  }
  lines.push('', ...summary(r));
  return `${lines.join('\n')}\n`;
}

/** The report as JSON, with its totals. */
export const json = (r: RunReport) => `${JSON.stringify({ ...r, totals: totals(r) }, null, 2)}\n`;

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

const curls = (x: CheckResult) => (x.exchanges?.length ? `\n\nrequests (secrets as shell variables):\n${x.exchanges.map((e) => `# #${e.id} → ${e.status}\n${e.curl}`).join('\n')}` : '');

/**
 * The report as JUnit XML, for CI test views. JUnit knows no "inconclusive": such a check is
 * a `<skipped>` whose message starts with "inconclusive:", and carries the property
 * outcome=inconclusive; the suite's `skipped` count includes them, and its properties give
 * the inconclusive count and the requests sent.
 */
export function junit(r: RunReport): string {
  const t = totals(r);
  const cases = r.results.map((x) => {
    const open = `    <testcase classname="pacspace.conformance" name="${xml(`${x.id} ${x.rule}`)}" time="${(x.durationMs / 1000).toFixed(3)}">`;
    if (x.status === 'failed') return `${open}\n      <failure message="${xml(x.message?.split('\n')[0] ?? 'failed')}">${xml(`${x.message ?? ''}\nrule from: ${x.source}${curls(x)}`)}</failure>\n    </testcase>`;
    if (x.status === 'skipped') return `${open}\n      <skipped message="${xml(x.message ?? '')}"/>\n    </testcase>`;
    if (x.status === 'inconclusive') {
      return [
        open,
        '      <properties><property name="outcome" value="inconclusive"/></properties>',
        `      <skipped message="${xml(`inconclusive: ${x.message?.split('\n')[0] ?? ''}`)}"/>`,
        `      <system-out>${xml(`${x.message ?? ''}${curls(x)}`)}</system-out>`,
        '    </testcase>',
      ].join('\n');
    }
    return `${open}</testcase>`;
  });
  const skipped = t.skipped + t.inconclusive;
  const properties = [
    `      <property name="inconclusive" value="${t.inconclusive}"/>`,
    ...(r.requests ? [`      <property name="requests" value="${r.requests.sent}"/>`, `      <property name="requestBudget" value="${r.requests.budget}"/>`] : []),
    ...(r.interrupted ? [`      <property name="interrupted" value="${xml(r.interrupted)}"/>`] : []),
    ...(r.leftovers ?? []).map((l) => `      <property name="leftover" value="${xml(`${l.kind} ${l.id}${l.name ? ` "${l.name}"` : ''}: ${l.reason}`)}"/>`),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="PacSpace conformance" tests="${r.results.length}" failures="${t.failed}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="PacSpace conformance" tests="${r.results.length}" failures="${t.failed}" skipped="${skipped}" timestamp="${r.startedAt}">`,
    '    <properties>',
    ...properties,
    '    </properties>',
    ...cases,
    `    <system-out>${xml(summary(r).join('\n'))}</system-out>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
