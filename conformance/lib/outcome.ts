// Outcomes other than passed and failed, as errors a check (or the HTTP layer under it) throws.
// The runner turns an Inconclusive into the `inconclusive` status: the check could not decide,
// because of the run's limits (rate limited past the wait budget, the request budget used up,
// the run interrupted), not because the target broke a rule.

export class Inconclusive extends Error {
  override name = 'Inconclusive';
}

/** The run was stopped from outside (SIGINT, SIGTERM, or the caller's AbortSignal). */
export class Interrupted extends Inconclusive {
  override name = 'Interrupted';
  constructor(readonly signal: string = 'aborted') {
    super(`interrupted (${signal}) before it finished`);
  }
}

/** A check ran past its deadline; it fails, as before. */
export class CheckTimedOut extends Error {
  override name = 'CheckTimedOut';
}
