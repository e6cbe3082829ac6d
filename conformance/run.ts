// Runs the catalogue against a target: the selected checks one after another, in catalogue
// order, in this process. Plain code rather than a test framework, so the published package
// needs nothing at run time but ajv and Node.
import { skipReason, type Check } from './check.ts';
import { catalogue } from './checks/index.ts';
import type { ConformanceConfig } from './config.ts';
import { createContext, type CheckContext } from './context.ts';
import type { CheckResult, RunReport } from './report/format.ts';
import { createRedactor } from './report/redact.ts';

export type RunOptions = {
  /** Called with each check's result as soon as it is known, in run order (for progress output). */
  onResult?(result: CheckResult): void;
};

/** How long one check (and the final cleanup) may take before it counts as failed. */
export const CHECK_TIMEOUT_MS = 120_000;

/** Ids named in `only` or `skip` that are not in the catalogue. */
export function unknownCheckIds(config: Pick<ConformanceConfig, 'only' | 'skip'>, checks: readonly Check[] = catalogue): string[] {
  const known = new Set(checks.map((c) => c.id));
  return [...new Set([...config.only, ...config.skip])].filter((id) => !known.has(id));
}

/** The checks `only` and `skip` select, in catalogue order. */
export const selectChecks = (config: Pick<ConformanceConfig, 'only' | 'skip'>, checks: readonly Check[] = catalogue) =>
  checks.filter((c) => (config.only.length === 0 || config.only.includes(c.id)) && !config.skip.includes(c.id));

/**
 * Runs the suite against `config.baseUrl` and resolves with the report; it does not reject
 * because a check failed (see `totals(report).failed`). Checks whose inputs are missing are
 * skipped with the reason, and nothing that creates, rotates or deletes runs without
 * `allowWrites`; what the run created is removed at the end. Every message is redacted.
 *
 * @throws when `only` or `skip` names an id that is not in the catalogue.
 * @example
 * const report = await runConformance({ ...configFromEnv(), baseUrl: 'http://127.0.0.1:4011' }, {
 *   onResult: (r) => console.error(r.status, r.id),
 * });
 * process.exitCode = totals(report).failed ? 1 : 0;
 */
export async function runConformance(config: ConformanceConfig, options: RunOptions = {}): Promise<RunReport> {
  const unknown = unknownCheckIds(config);
  // A typo in --only would otherwise run nothing and report success.
  if (unknown.length) throw new Error(`unknown check id(s): ${unknown.join(', ')}`);
  const startedAt = new Date();
  const results = await executeChecks(selectChecks(config), config, createContext(config), options);
  return { target: config.baseUrl, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), results };
}

/**
 * Runs `checks` in order against `ctx`: a check whose inputs are missing is skipped with the
 * reason; one that throws or exceeds `timeoutMs` fails and the run goes on. `ctx.cleanup()`
 * always runs at the end. Messages are redacted. Internal: runConformance's engine.
 */
export async function executeChecks(
  checks: readonly Check[],
  config: ConformanceConfig,
  ctx: CheckContext,
  { onResult, timeoutMs = CHECK_TIMEOUT_MS }: RunOptions & { timeoutMs?: number } = {},
): Promise<CheckResult[]> {
  const redact = createRedactor([config.password, config.apiKey, config.apiKey?.split('.')[1]]);
  const results: CheckResult[] = [];
  try {
    for (const check of checks) {
      const result = await runOne(check, config, ctx, timeoutMs);
      if (result.message) result.message = redact(result.message);
      results.push(result);
      onResult?.(result);
    }
  } finally {
    // Removes what the checks created on the target; its own failures never fail the run.
    await withTimeout(ctx.cleanup(), timeoutMs, 'cleanup').catch(() => undefined);
  }
  return results;
}

async function runOne(check: Check, config: ConformanceConfig, ctx: CheckContext, timeoutMs: number): Promise<CheckResult> {
  const about = { id: check.id, rule: check.rule, source: check.source };
  const reason = skipReason(check, config);
  if (reason) return { ...about, status: 'skipped', message: reason, durationMs: 0 };
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  try {
    // Async wrapper: a check that throws synchronously fails like one that rejects.
    await withTimeout((async () => check.run(ctx))(), timeoutMs, check.id);
    return { ...about, status: 'passed', durationMs: durationMs() };
  } catch (error) {
    return { ...about, status: 'failed', message: messageOf(error), durationMs: durationMs() };
  }
}

/** Rejects after `ms`. The work itself cannot be cancelled and may go on in the background. */
function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message || String(error) : String(error));
