// Before any check: is the target there, is the key good, does the dashboard login work, does
// the webhook URL reach the receiver? One request each, so a down server, a revoked key or a
// wrong password stops the run with one line instead of forty failures — and a wrong password
// is tried once, never again (the login throttle would lock a real account for 15 minutes).
// The session this login opens is the one the checks reuse.
import { skipReason, type Check } from './check.ts';
import type { ConformanceConfig } from './config.ts';
import type { CheckContext } from './context.ts';
import { NetworkError, type Exchange } from './lib/http.ts';
import { Inconclusive } from './lib/outcome.ts';

/** The preflight found the run cannot go on; nothing was checked. The message is one line. */
export class PreflightError extends Error {
  override name = 'PreflightError';
}

/** The read the preflight sends with the key: a derive, as AUTH-003 does. */
export const PREFLIGHT_READ = '/api/v1/balance/derive/customer_001';

const answer = (ex: Exchange) => `${ex.status}${typeof ex.body?.code === 'string' ? ` ${ex.body.code}` : ''}`;
const NOTHING_RUN = 'no check was run';

/** What the selected checks that can run need, so nothing is tried that no check uses. */
const needsOf = (checks: readonly Check[], config: ConformanceConfig) =>
  new Set(checks.filter((c) => !skipReason(c, config)).flatMap((c) => c.needs));

/** Turns what a preflight request threw into one line. */
function stop(error: unknown, url: string): never {
  if (error instanceof PreflightError) throw error;
  if (error instanceof NetworkError) throw new PreflightError(`cannot reach ${url}: ${error.reason}; ${NOTHING_RUN}`);
  if (error instanceof Inconclusive) throw new PreflightError(`${error.message}; ${NOTHING_RUN}`);
  throw error;
}

/**
 * Runs the preflight in the caller's scope. Resolves when the run can go on; rejects with a
 * PreflightError (one line, ending in "no check was run") when it cannot, or with the scope's
 * abort reason when the run was interrupted.
 */
export async function preflight(ctx: CheckContext, checks: readonly Check[], config: ConformanceConfig): Promise<void> {
  const needs = needsOf(checks, config);
  if (checks.length === 0) return;

  // 1. Reachable, and the key good: one request (authenticated when there is a key).
  let read: Exchange;
  try {
    read = await ctx.api.get(PREFLIGHT_READ, config.apiKey ? { headers: ctx.keyHeaders() } : {});
  } catch (error) {
    stop(error, config.baseUrl);
  }
  if (read.status >= 300 && read.status < 400) {
    throw new PreflightError(`${config.baseUrl} answered ${read.status} redirecting to ${read.headers.location ?? '(no Location)'}: give --base-url as the API's own URL; ${NOTHING_RUN}`);
  }
  if (config.apiKey) {
    if (read.status === 401 || read.status === 403) throw new PreflightError(`the API key was refused (${answer(read)}); ${NOTHING_RUN}`);
    if (read.status !== 200) {
      throw new PreflightError(`an authenticated read (GET ${PREFLIGHT_READ}) answered ${answer(read)}: is --base-url the Balance API of the key's environment? ${NOTHING_RUN}`);
    }
  }

  // 2. The dashboard login: one attempt. A 401 is final; only a 429 (the password was not
  // checked) is waited out per Retry-After, within the wait budget.
  if (needs.has('dashboard')) {
    let login: Exchange;
    try {
      login = await ctx.dashboardLogin();
    } catch (error) {
      stop(error, config.dashboardUrl!);
    }
    if (login.status !== 200) throw new PreflightError(`dashboard login failed (${answer(login)}); ${NOTHING_RUN}`);
  }

  // 3. The webhook receiver, and with --webhook-url a probe through the tunnel to it.
  if (needs.has('webhooks')) {
    let receiver;
    try {
      receiver = await ctx.receiver();
    } catch (error) {
      throw new PreflightError(`${(error as Error).message}; ${NOTHING_RUN}`);
    }
    const why = await receiver.probe();
    if (why) {
      throw new PreflightError(
        `--webhook-url ${config.webhookUrl} does not reach the local webhook receiver on port ${receiver.port} (${why}); the tunnel must forward to ${receiver.localUrl.replace(/\/pacspace-webhooks$/, '')}; ${NOTHING_RUN}`,
      );
    }
  }
}
