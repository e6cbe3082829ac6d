// Runs the catalogue against a target: a preflight (reachable, key good, one login), then the
// selected checks one after another, in catalogue order, in this process, then the cleanup of
// everything the run created. Plain code rather than a test framework, so the published
// package needs nothing at run time but ajv and Node.
import { skipReason, type Check } from './check.ts';
import { catalogue } from './checks/index.ts';
import type { ConformanceConfig } from './config.ts';
import { createContext, type CheckContext } from './context.ts';
import { inScope, newScope } from './lib/http.ts';
import { CheckTimedOut, Inconclusive, Interrupted } from './lib/outcome.ts';
import { preflight, PreflightError } from './preflight.ts';
import { placeholdersFor, reportExchange } from './report/curl.ts';
import type { CheckResult, Leftover, RunReport } from './report/format.ts';
import { undeletable } from './left-behind.ts';
import { createRedactor } from './report/redact.ts';

export { PreflightError } from './preflight.ts';

export type RunOptions = {
  /** Called with each check's result as soon as it is known, in run order (for progress output). */
  onResult?(result: CheckResult): void;
  /** Called with lines for the person running the suite (where the webhook receiver listens). */
  onNotice?(line: string): void;
  /**
   * Aborting it stops the run: no further check starts (they are reported skipped), the
   * running one is abandoned (inconclusive), the cleanup runs, and the report says
   * `interrupted` (the reason's `signal` when it is an Interrupted, else `aborted`).
   */
  signal?: AbortSignal;
};

/** How long one check (and the final cleanup) may take before it counts as failed, before --timeout-scale. */
export const CHECK_TIMEOUT_MS = 120_000;
/** Exchanges a failed or inconclusive check shows in the report: its last ones. */
const REPORTED_EXCHANGES = 20;

/** Ids named in `only` or `skip` that are not in the catalogue. */
export function unknownCheckIds(config: Pick<ConformanceConfig, 'only' | 'skip'>, checks: readonly Check[] = catalogue): string[] {
  const known = new Set(checks.map((c) => c.id));
  return [...new Set([...config.only, ...config.skip])].filter((id) => !known.has(id));
}

/** The checks `only` and `skip` select, in catalogue order. */
export const selectChecks = (config: Pick<ConformanceConfig, 'only' | 'skip'>, checks: readonly Check[] = catalogue) =>
  checks.filter((c) => (config.only.length === 0 || config.only.includes(c.id)) && !config.skip.includes(c.id));

/** Why a configuration cannot run, or undefined (numbers out of range, a bad --webhook-url). */
export function configProblem(config: ConformanceConfig): string | undefined {
  if (config.timeoutScale !== undefined && !(Number.isFinite(config.timeoutScale) && config.timeoutScale > 0)) return 'timeoutScale (--timeout-scale) must be a number above 0';
  if (config.maxRequests !== undefined && !(Number.isInteger(config.maxRequests) && config.maxRequests >= 0)) return 'maxRequests (--max-requests) must be a whole number, 0 or more';
  if (config.webhookPort !== undefined && !(Number.isInteger(config.webhookPort) && config.webhookPort >= 0 && config.webhookPort <= 65535)) return 'webhookPort (--webhook-port) must be a port number, 0 to 65535';
  if (config.webhookUrl !== undefined && !/^https?:\/\/[^/]+/.test(config.webhookUrl)) return 'webhookUrl (--webhook-url) must be an http(s) URL';
  return undefined;
}

/**
 * Runs the suite against `config.baseUrl` and resolves with the report; it does not reject
 * because a check failed (see `totals(report).failed`). First a preflight: the target must
 * answer, the key must be accepted, the dashboard login must work (one attempt, its session
 * reused by the checks) — otherwise it rejects with a PreflightError and runs no check.
 * Checks whose inputs are missing are skipped with the reason, and nothing that creates,
 * rotates or deletes runs without `allowWrites`; what the run created is removed at the end
 * (`report.leftovers` lists what could not be). Every message is redacted.
 *
 * @throws when `only` or `skip` names an id that is not in the catalogue, or a number is out of range.
 * @throws {PreflightError} when the preflight stops the run (message: one line).
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
  const problem = configProblem(config);
  if (problem) throw new RangeError(problem);
  const startedAt = new Date();
  const ctx = createContext(config, options.onNotice ? { onNotice: options.onNotice } : {});
  const checks = selectChecks(config);
  const signal = options.signal ?? new AbortController().signal;
  const timeoutMs = CHECK_TIMEOUT_MS * (config.timeoutScale ?? 1);
  let results: CheckResult[];
  try {
    await inScope(newScope('preflight', 'preflight', signal), () => preflight(ctx, checks, config));
    results = await executeChecks(checks, config, ctx, { ...options, signal, timeoutMs });
  } catch (error) {
    if (!signal.aborted) {
      // The preflight stopped the run: what it opened (a session, the receiver) is closed.
      await cleanUp(ctx, timeoutMs);
      throw error instanceof PreflightError || error instanceof RangeError ? error : new PreflightError(`${(error as Error).message}; no check was run`);
    }
    // Interrupted during the preflight: nothing ran.
    results = await executeChecks(checks, config, ctx, { ...options, signal, timeoutMs });
  }
  return finishReport(ctx, config, startedAt, results, signal);
}

/** The report of a run: redacted messages, the exchanges of what failed or was inconclusive as curl, the request count, the leftovers. */
function finishReport(ctx: CheckContext, config: ConformanceConfig, startedAt: Date, results: CheckResult[], signal: AbortSignal): RunReport {
  const placeholders = placeholdersFor(config, ctx.secrets.all());
  const redact = createRedactor([config.password, config.apiKey, config.apiKey?.split('.')[1], ...ctx.secrets.all().map((s) => s.value)]);
  const byId = new Map(ctx.recorder.exchanges.map((e) => [e.id, e]));
  for (const r of results) {
    if (r.message) r.message = redact(r.message);
    if (r.status !== 'failed' && r.status !== 'inconclusive') continue;
    const own = ctx.recorder.exchanges.filter((e) => e.scope === r.id).slice(-REPORTED_EXCHANGES);
    const named = [...(r.message ?? '').matchAll(/#(\d+)\b/g)].map((m) => byId.get(Number(m[1]))).filter((e) => e !== undefined).slice(0, REPORTED_EXCHANGES);
    const chosen = [...new Map([...named, ...own].map((e) => [e.id, e])).values()].sort((a, b) => a.id - b.id);
    if (chosen.length) r.exchanges = chosen.map((e) => reportExchange(e, placeholders));
  }
  const sent = ctx.recorder.sent;
  const interrupted = signal.aborted ? (signal.reason instanceof Interrupted ? signal.reason.signal : 'aborted') : undefined;
  return {
    target: config.baseUrl,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    results,
    requests: { sent: sent.preflight + sent.check + sent.cleanup, preflight: sent.preflight, checks: sent.check, cleanup: sent.cleanup, budget: ctx.recorder.maxRequests },
    leftovers: ctx.leftovers.map((l) => ({ ...l, id: redact(l.id), ...(l.name === undefined ? {} : { name: redact(l.name) }), reason: redact(l.reason) })),
    ...(interrupted ? { interrupted } : {}),
  };
}

/** Runs the cleanup in its own scope (not limited by the request budget, not aborted by an interrupt); never rejects. */
async function cleanUp(ctx: CheckContext, timeoutMs: number): Promise<Leftover[]> {
  try {
    ctx.leftovers = await inScope(newScope('cleanup', 'cleanup'), () => withTimeout(ctx.cleanup(), timeoutMs, 'cleanup'));
  } catch (error) {
    ctx.leftovers = [{ kind: 'cleanup', id: '-', reason: `${(error as Error).message}: what the run created may be left on the target` }];
  }
  // And what no operation deletes (accounts, access requests, ledger entries), from what was sent.
  ctx.leftovers.push(...undeletable(ctx.recorder.exchanges, [ctx.config.email, ctx.config.secondEmail]));
  return ctx.leftovers;
}

/**
 * Runs `checks` in order against `ctx`: a check whose inputs are missing is skipped with the
 * reason; one that throws or exceeds `timeoutMs` fails, one that cannot decide (Inconclusive)
 * is inconclusive, and the run goes on. Once `signal` aborts no further check starts. The
 * cleanup always runs at the end (its leftovers land in `ctx.leftovers`). Messages are
 * redacted. Internal: runConformance's engine.
 */
export async function executeChecks(
  checks: readonly Check[],
  config: ConformanceConfig,
  ctx: CheckContext,
  { onResult, timeoutMs = CHECK_TIMEOUT_MS, signal }: RunOptions & { timeoutMs?: number } = {},
): Promise<CheckResult[]> {
  const redact = createRedactor([config.password, config.apiKey, config.apiKey?.split('.')[1]]);
  const results: CheckResult[] = [];
  try {
    for (const check of checks) {
      if (signal?.aborted) {
        const by = signal.reason instanceof Interrupted ? signal.reason.signal : 'aborted';
        results.push({ id: check.id, rule: check.rule, source: check.source, status: 'skipped', message: `not run: the run was interrupted (${by})`, durationMs: 0 });
        continue;
      }
      const result = await runOne(check, config, ctx, timeoutMs, signal);
      if (result.message) result.message = redact(result.message);
      results.push(result);
      onResult?.(result);
    }
  } finally {
    // Removes what the checks created on the target; its own failures never fail the run.
    await cleanUp(ctx, timeoutMs);
  }
  return results;
}

async function runOne(check: Check, config: ConformanceConfig, ctx: CheckContext, timeoutMs: number, signal?: AbortSignal): Promise<CheckResult> {
  const about = { id: check.id, rule: check.rule, source: check.source };
  const reason = skipReason(check, config);
  if (reason) return { ...about, status: 'skipped', message: reason, durationMs: 0 };
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  // Aborted on timeout or interrupt: the check's requests and waits stop at once.
  const controller = new AbortController();
  const interrupt = () => controller.abort(signal?.reason instanceof Interrupted ? signal.reason : new Interrupted());
  signal?.addEventListener('abort', interrupt, { once: true });
  const timer = setTimeout(() => controller.abort(new CheckTimedOut(`${check.id} timed out after ${timeoutMs} ms`)), timeoutMs);
  const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }));
  aborted.catch(() => undefined);
  try {
    // Async wrapper: a check that throws synchronously fails like one that rejects.
    await Promise.race([inScope(newScope(check.id, 'check', controller.signal), async () => check.run(ctx)), aborted]);
    return { ...about, status: 'passed', durationMs: durationMs() };
  } catch (caught) {
    const error = controller.signal.aborted ? controller.signal.reason : caught;
    const status = error instanceof Inconclusive ? 'inconclusive' : 'failed';
    return { ...about, status, message: messageOf(error), durationMs: durationMs() };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', interrupt);
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
