// The /__sandbox/ control surface (openapi/sandbox-control.yaml): reset, outbox, clock,
// rate-limit settings and the fault registry. Sandbox-only; never part of the public
// contract. Routed and validated by Prism like the public API (mock/app.ts), so handlers get
// well-formed input only.
import type { components } from '../../generated/sandbox-control.d.ts';
import { seedDemoAccount } from '../demo/seed-demo.ts';
import { fail } from '../http/problem.ts';
import type { Services } from '../services.ts';
import { normalizeEmail, type OutboxMessage } from '../state/projections.ts';
import { leaksSecrets } from '../domain/api-keys.ts';
import { iso, ok, type Handlers } from '../domain/handler.ts';
import { FAULTS, isFaultName, type FaultName } from './faults.ts';

type ResetResult = components['schemas']['ResetResult'];
type OutboxView = components['schemas']['OutboxMessage'];
type ClockState = components['schemas']['ClockState'];
type ClockAdvanceBody = components['schemas']['ClockAdvanceRequest'];
type RateLimitSettings = components['schemas']['RateLimitSettings'];
type RateLimitUpdateBody = components['schemas']['RateLimitUpdateRequest'];
type FaultView = components['schemas']['Fault'];
type FaultUpdateBody = components['schemas']['FaultUpdateRequest'];

function outboxView(m: OutboxMessage): OutboxView {
  return { id: m.messageId, to: m.to, kind: m.kind, subject: m.subject, text: m.text, link: m.link, token: m.token, sentAt: iso(m.at) };
}

function clockState(services: Services): ClockState {
  return { now: services.clock.iso(), offsetSeconds: services.clock.offset() / 1000 };
}

function rateLimitSettings(services: Services): RateLimitSettings {
  const { client, apiKey } = services.limits;
  const { limit, windowMs } = services.config.loginFailures;
  return { client: client.settings(), apiKey: apiKey.settings(), login: { limit, windowSeconds: windowMs / 1000 } };
}

const faultView = (services: Services, name: FaultName): FaultView => ({ name, description: FAULTS[name], active: services.faults.has(name) });
const allFaults = (services: Services) => (Object.keys(FAULTS) as FaultName[]).map((name) => faultView(services, name));

export const controlHandlers: Handlers = {
  async resetSandbox(ctx) {
    const { services } = ctx;
    await services.store.reset();
    services.scheduler.clear();
    services.faults.clear();
    services.leakedSecrets.clear();
    for (const limiter of Object.values(services.limits)) limiter.reset();
    // The clock and the rate-limit settings are kept (see the operation's description).
    const seed = services.config.seed;
    const demo = seed === undefined ? undefined : await seedDemoAccount(services, seed);
    const data: ResetResult = {
      seed: seed ?? null,
      demo: demo
        ? {
            name: demo.name,
            email: demo.email,
            password: demo.password,
            organization: demo.organization,
            userId: demo.userId,
            tenantId: demo.tenantId,
            fullKey: demo.apiKey,
          }
        : null,
    };
    return ok(200, data);
  },

  listOutbox(ctx) {
    const to = typeof ctx.query.to === 'string' ? normalizeEmail(ctx.query.to) : undefined;
    const messages = ctx.services.store.state.outbox.filter((m) => to === undefined || normalizeEmail(m.to) === to);
    return ok(200, messages.map(outboxView));
  },

  getClock(ctx) {
    return ok(200, clockState(ctx.services));
  },

  advanceClock(ctx) {
    const { seconds } = ctx.body as ClockAdvanceBody;
    ctx.services.clock.advance(Math.round(seconds * 1000));
    return ok(200, clockState(ctx.services));
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

  listFaults(ctx) {
    return ok(200, allFaults(ctx.services));
  },

  setFault(ctx) {
    const name = ctx.params.name ?? '';
    if (!isFaultName(name)) throw fail('not_found', `No fault named "${name}"; GET /__sandbox/faults lists them.`);
    const { active } = ctx.body as FaultUpdateBody;
    ctx.services.faults.set(name, active);
    // A leaked secret must not outlive the faults that leak it.
    if (!leaksSecrets(ctx.services)) ctx.services.leakedSecrets.clear();
    return ok(200, faultView(ctx.services, name));
  },

  clearFaults(ctx) {
    ctx.services.faults.clear();
    ctx.services.leakedSecrets.clear();
    return ok(200, allFaults(ctx.services));
  },
};
