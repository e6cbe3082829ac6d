// The package entry of @pacspace-io/conformance: run the suite from code, format its report,
// and list what it checks. The CLI (cli.ts) is a thin layer over the same functions.
import { catalogue as checks } from './checks/index.ts';

export { runConformance, PreflightError, type RunOptions } from './run.ts';
export { configFromEnv, DEFAULT_MAX_REQUESTS, type ConformanceConfig } from './config.ts';
export { Interrupted } from './lib/outcome.ts';
export {
  json,
  junit,
  pretty,
  summary,
  totals,
  type CheckResult,
  type CheckStatus,
  type Leftover,
  type ReportedExchange,
  type RequestCount,
  type RunReport,
} from './report/format.ts';
export { html } from './report/html.ts';

/** What a check is, without its code: the stable id, the one rule it enforces and where the rule comes from. */
export type CheckInfo = {
  /** Stable id, e.g. `AUTH-001`: what `only`/`skip` and reports use. */
  readonly id: string;
  /** The one rule the check enforces. */
  readonly rule: string;
  /** Where the rule comes from: seed page, PRODUCT.md section, contract location or OWASP API Top 10 item. */
  readonly source: string;
};

/**
 * Every check of the suite, in run order (read-only; copy it to reorder or filter).
 *
 * @example
 * import { catalogue } from '@pacspace-io/conformance';
 * const authIds = catalogue.filter((c) => c.id.startsWith('AUTH-')).map((c) => c.id);
 */
export const catalogue: readonly CheckInfo[] = Object.freeze(
  checks.map(({ id, rule, source }): CheckInfo => Object.freeze({ id, rule, source })),
);
