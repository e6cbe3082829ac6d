// The auth gate: decides who is calling before any handler runs. Balance API keys,
// dashboard session cookies, the refresh cookie, CSRF and the per-key rate limit are all
// checked here, in that order, with one and the same 401 whatever the cause.
import type { AuthRequirement } from '../contract/operations.ts';
import { fail, ProblemError } from '../http/problem.ts';
import { hashSecret, safeEqual } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import type { ApiKey, Session, User } from '../state/projections.ts';
import type { KeyEnvironment } from '../state/events.ts';
import type { RateDecision } from './rate-limiter.ts';

export type Caller =
  | { kind: 'public' }
  | { kind: 'apiKey'; key: ApiKey }
  | { kind: 'session'; user: User; session: Session }
  | { kind: 'refresh'; user: User; session: Session; refreshHash: string };

export type GateRequest = {
  headers: Record<string, string>;
  cookies: Record<string, string>;
  environment: KeyEnvironment;
};

export const KEY_GRAMMAR = /^pk_(test|live)_([A-Za-z0-9]{8,64})\.sk_(test|live)_([A-Za-z0-9]{12,128})$/;
export const ACCESS_COOKIE = 'pacspace_access';
export const REFRESH_COOKIE = 'pacspace_refresh';

export function rateLimitHeaders(d: RateDecision, withRetryAfter: boolean): Record<string, string> {
  return {
    ...(withRetryAfter ? { 'Retry-After': String(d.retryAfterSeconds) } : {}),
    'RateLimit-Limit': String(d.limit),
    'RateLimit-Remaining': String(d.remaining),
    'RateLimit-Reset': String(d.resetSeconds),
  };
}

export function rateLimited(services: Services, d: RateDecision): ProblemError {
  const withRetryAfter = !services.faults.has('retry-after-missing');
  return fail(
    'rate_limited',
    `Rate limit exceeded; retry after ${d.retryAfterSeconds} seconds.`,
    { retryAfter: d.retryAfterSeconds },
    rateLimitHeaders(d, withRetryAfter),
  );
}

export function authenticate(requirement: AuthRequirement, req: GateRequest, services: Services): Caller {
  switch (requirement.kind) {
    case 'public':
      return { kind: 'public' };
    case 'apiKey': {
      const key = apiKeyCaller(req, services);
      const decision = services.limits.apiKey.take(key.id);
      if (!decision.allowed) throw rateLimited(services, decision);
      if (!requirement.permissions.every((p) => (key.permissions as string[]).includes(p))) {
        throw fail('insufficient_permission', `This API key does not have the ${requirement.permissions.join(', ')} permission.`);
      }
      key.lastUsedAt = services.clock.now();
      return { kind: 'apiKey', key };
    }
    case 'session': {
      const { user, session } = sessionCaller(req, services);
      if (requirement.csrf) requireCsrf(req, services);
      return { kind: 'session', user, session };
    }
    case 'refresh': {
      const token = req.cookies[REFRESH_COOKIE];
      const refreshHash = token ? hashSecret(token) : '';
      const session = token ? services.store.state.sessionsByRefresh.get(refreshHash) : undefined;
      const user = session && services.store.state.users.get(session.userId);
      if (!session || !user || session.revoked) throw fail('unauthenticated');
      if (requirement.csrf) requireCsrf(req, services);
      return { kind: 'refresh', user, session, refreshHash };
    }
  }
}

function apiKeyCaller(req: GateRequest, services: Services): ApiKey {
  const refuse = () =>
    services.faults.has('bad-key-403') ? fail('insufficient_permission') : fail('unauthenticated');
  const match = KEY_GRAMMAR.exec(req.headers['x-api-key'] ?? '');
  if (!match || match[1] !== match[3]) throw refuse();
  const [, env, publicId, , secret] = match;
  const key = services.store.state.apiKeysByPublicId.get(publicId!);
  const secretOk = key ? safeEqual(hashSecret(`sk_${env}_${secret}`), key.secretHash) : safeEqual('', 'x');
  if (!key || !secretOk || key.environment !== env) throw refuse();
  if (env !== req.environment && !services.faults.has('wrong-environment-key-accepted')) throw refuse();
  if (!key.active && !services.faults.has('disabled-key-accepted')) throw refuse();
  return key;
}

function sessionCaller(req: GateRequest, services: Services): { user: User; session: Session } {
  const token = req.cookies[ACCESS_COOKIE];
  const session = token ? services.store.state.sessionsByAccess.get(hashSecret(token)) : undefined;
  const user = session && services.store.state.users.get(session.userId);
  if (!session || !user || session.revoked || session.accessExpiresAt <= services.clock.now()) {
    throw fail('unauthenticated');
  }
  return { user, session };
}

function requireCsrf(req: GateRequest, services: Services) {
  if (req.headers['x-pacspace-csrf'] !== '1' && !services.faults.has('csrf-not-enforced')) throw fail('csrf_required');
}
