// `GET`, `PUT` and `DELETE /__sandbox/chaos` (openapi/sandbox-control/paths/__sandbox_chaos.yaml).
// The body of a PUT reaches here valid against ChaosSettings (the request path validated it);
// what the schema cannot say is checked here, and bad settings change nothing.
import type { Handlers } from '../domain/handler.ts';
import { ok } from '../domain/handler.ts';
import { fail } from '../http/problem.ts';
import type { Services } from '../services.ts';
import type { Chaos } from './policy.ts';
import { settingsViolations, type ChaosSettings } from './settings.ts';

function chaosOf(services: Services): Chaos {
  if (!services.chaos) throw new Error('this sandbox was built without chaos');
  return services.chaos;
}

export const chaosHandlers: Handlers = {
  getChaos(ctx) {
    return ok(200, chaosOf(ctx.services).state());
  },

  setChaos(ctx) {
    const settings = ctx.body as ChaosSettings;
    const violations = settingsViolations(settings);
    if (violations.length > 0) {
      throw fail('validation_failed', 'The chaos settings do not hold together; nothing was changed.', {
        validation: violations.map((v) => ({ ...v, location: ['body', ...v.location] })),
      });
    }
    return ok(200, chaosOf(ctx.services).set(settings));
  },

  clearChaos(ctx) {
    return ok(200, chaosOf(ctx.services).clear());
  },
};
