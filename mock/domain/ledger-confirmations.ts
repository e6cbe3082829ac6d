// Confirmations: a delta becomes `confirmed` at its `confirmAt` on the sandbox clock (its
// status is judged against the clock when read), and `delta.confirmed` is announced then.
// recordDelta arms the announcement; resumeLedger re-arms the ones still due after a journal
// replay (called where the sandbox starts, mock/sandbox.ts).
import type { Services } from '../services.ts';
import { iso } from './handler.ts';
import { receiptView } from './ledger-views.ts';

/** Announces `delta.confirmed` when the delta's confirmation instant arrives on the sandbox clock. */
export function scheduleConfirmation(services: Services, receiptId: string, confirmAt: number) {
  services.scheduler.at(confirmAt, async () => {
    const l = services.store.state.ledger;
    const r = l.receipts.get(receiptId);
    // Gone since (a reset): nothing to announce.
    if (!r || r.confirmAt !== confirmAt) return;
    const events = services.webhooks.announce({
      type: 'delta.confirmed',
      tenantId: r.tenantId,
      environment: r.environment,
      at: confirmAt,
      data: { ...receiptView(l, r, services.clock.now()), status: 'confirmed', confirmedAt: iso(confirmAt) },
    });
    if (events.length === 0) return;
    await services.store.commit(...events);
    services.webhooks.flush();
  });
}

/** Re-arms the `delta.confirmed` announcements still due, after a journal replay. */
export function resumeLedger(services: Services): void {
  const now = services.clock.now();
  for (const r of services.store.state.ledger.receipts.values()) {
    if (r.confirmAt > now) scheduleConfirmation(services, r.receiptId, r.confirmAt);
  }
}
