// The /__sandbox/ control surface (openapi/sandbox-control.yaml): reset, outbox, clock and
// rate-limit settings. Sandbox-only; never part of the public
// contract. Routed and validated by Prism like the public API (mock/app.ts), so handlers get
// well-formed input only. Reset, outbox and clock are also plain functions of the services,
// shared with the package's programmatic API (mock/index.ts).
import type { components } from '../../generated/sandbox-control.d.ts';
import { demoAccountEvents, type DemoAccount } from '../demo/seed-demo.ts';
import type { Services } from '../services.ts';
import { normalizeEmail, type OutboxMessage } from '../state/projections.ts';
import { iso, ok, type Handlers } from '../domain/handler.ts';
import { inspectorHandlers } from '../inspector/handlers.ts';
import { chaosHandlers } from '../chaos/handlers.ts';

type ResetResult = components['schemas']['ResetResult'];
type DemoAccountView = components['schemas']['DemoAccount'];
type OutboxView = components['schemas']['OutboxMessage'];
type ClockState = components['schemas']['ClockState'];
type ClockAdvanceBody = components['schemas']['ClockAdvanceRequest'];
type RateLimitSettings = components['schemas']['RateLimitSettings'];
type RateLimitUpdateBody = components['schemas']['RateLimitUpdateRequest'];

function outboxView(m: OutboxMessage): OutboxView {
  return { id: m.messageId, to: m.to, kind: m.kind, subject: m.subject, text: m.text, link: m.link, token: m.token, sentAt: iso(m.at) };
}

/**
 * `POST /__sandbox/reset`: wipes all state (and the journal) and re-creates the demo account of
 * the sandbox's seed, if it has one; returns it with its fresh key. One durable step: the
 * journal is replaced by the demo account's events at once, so a reset that cannot be written
 * (StorageUnavailableError, a 503) changes nothing, rate-limit buckets included.
 */
export async function resetState(services: Services): Promise<DemoAccount | undefined> {
  const seed = services.config.seed;
  const seeded = seed === undefined ? undefined : await demoAccountEvents(seed, services.clock.now());
  await services.store.reset(seeded?.events ?? []);
  services.scheduler.clear();
  for (const limiter of Object.values(services.limits)) limiter.reset();
  // The clock and the rate-limit settings are kept (see the operation's description).
  return seeded?.demo;
}

/** The demo account as the control contract shows it: its key as `fullKey`. */
function demoAccountView(demo: DemoAccount): DemoAccountView {
  const { name, email, password, organization, userId, tenantId, apiKey } = demo;
  return { name, email, password, organization, userId, tenantId, fullKey: apiKey };
}

/** `GET /__sandbox/outbox[?to=]`: the e-mails "sent", oldest first; `to` is compared case-insensitively. */
export function outboxMessages(services: Services, to?: string): OutboxView[] {
  const recipient = to === undefined ? undefined : normalizeEmail(to);
  return services.store.state.outbox.filter((m) => recipient === undefined || normalizeEmail(m.to) === recipient).map(outboxView);
}

/** `GET /__sandbox/clock`. */
export function clockState(services: Services): ClockState {
  return { now: services.clock.iso(), offsetSeconds: services.clock.offset() / 1000 };
}

/** `POST /__sandbox/clock/advance`: moves the clock forward; work that became due runs at once. */
export function advanceClock(services: Services, ms: number): ClockState {
  services.clock.advance(Math.round(ms));
  return clockState(services);
}

function rateLimitSettings(services: Services): RateLimitSettings {
  const { client, apiKey } = services.limits;
  const { limit, windowMs } = services.config.loginFailures;
  return { client: client.settings(), apiKey: apiKey.settings(), login: { limit, windowSeconds: windowMs / 1000 } };
}

export const controlHandlers: Handlers = {
  async resetSandbox(ctx) {
    const demo = await resetState(ctx.services);
    const data: ResetResult = { seed: ctx.services.config.seed ?? null, demo: demo ? demoAccountView(demo) : null };
    return ok(200, data);
  },

  listOutbox(ctx) {
    return ok(200, outboxMessages(ctx.services, typeof ctx.query.to === 'string' ? ctx.query.to : undefined));
  },

  getClock(ctx) {
    return ok(200, clockState(ctx.services));
  },

  advanceClock(ctx) {
    const { seconds } = ctx.body as ClockAdvanceBody;
    return ok(200, advanceClock(ctx.services, seconds * 1000));
  },

  getRateLimits(ctx) {
    return ok(200, rateLimitSettings(ctx.services));
  },

  setRateLimits(ctx) {
    const { services } = ctx;
    const body = ctx.body as RateLimitUpdateBody;
    if (body.client) services.limits.client.configure(body.client);
    if (body.apiKey) services.limits.apiKey.configure(body.apiKey);
    if (body.login) {
      // The login allowance is a bucket: `limit` tokens, refilled evenly over the window.
      const { limit, windowSeconds } = body.login;
      services.config.loginFailures = { limit, windowMs: windowSeconds * 1000 };
      services.limits.login.configure({ capacity: limit, refillPerSecond: limit / windowSeconds });
    }
    return ok(200, rateLimitSettings(services));
  },

  // The request inspector and the webhook deliveries across tenants (mock/inspector/handlers.ts).
  ...inspectorHandlers,

  // GET, PUT and DELETE /__sandbox/chaos.
  ...chaosHandlers,
};
