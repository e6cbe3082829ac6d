// Billing (the Free plan): the current period is the UTC calendar month of the sandbox clock,
// and usage is the number of deltas *confirmed* (verified) in it, per environment, read from
// the ledger's confirmation timelines in O(log n). The Sandbox (testnet) is limited to
// `config.freePlanDeltas` a month; recordDelta answers 402 once that many are confirmed.
import type { components } from '../../generated/openapi.d.ts';
import type { Services } from '../services.ts';
import type { KeyEnvironment } from '../state/events.ts';
import { countBetween, scopeKey } from '../state/ledger.ts';
import { callerOf, iso, ok, type Handlers } from './handler.ts';

type BillingSummary = components['schemas']['BillingSummary'];

/** The calendar month in UTC that contains `now`: [start, end). */
export function billingPeriod(now: number): { start: number; end: number } {
  const d = new Date(now);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** Deltas of a tenant-environment confirmed in the current period up to `now` (inclusive). */
export function verifiedDeltas(services: Services, tenantId: string, environment: KeyEnvironment, now: number): number {
  const { start } = billingPeriod(now);
  return countBetween(services.store.state.ledger.confirmations.get(scopeKey(tenantId, environment)), start, now + 1);
}

/** The plan's monthly limit for an environment; `null` when it sets none (Production). */
export const planLimit = (services: Services, environment: KeyEnvironment): number | null =>
  environment === 'test' ? services.config.freePlanDeltas : null;

export const billingHandlers: Handlers = {
  getBillingSummary(ctx) {
    const { user } = callerOf(ctx, 'session');
    const { services } = ctx;
    const now = services.clock.now();
    const { start, end } = billingPeriod(now);
    const usage = (['test', 'live'] as const).map((environment) => {
      const verified = verifiedDeltas(services, user.tenantId, environment, now);
      const limit = planLimit(services, environment);
      return {
        environment: environment === 'test' ? ('testnet' as const) : ('mainnet' as const),
        verifiedDeltas: verified,
        limit,
        remaining: limit === null ? null : Math.max(0, limit - verified),
      };
    });
    const summary: BillingSummary = {
      plan: {
        id: 'free',
        name: 'Free',
        limits: { verifiedDeltasPerMonth: { testnet: planLimit(services, 'test'), mainnet: planLimit(services, 'live') } },
      },
      currentPeriod: { start: iso(start), end: iso(end) },
      usage,
    };
    return ok(200, summary);
  },
};
