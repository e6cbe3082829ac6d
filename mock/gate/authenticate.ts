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
  /** The query string; never a credential (read only by the key-in-query-accepted fault). */
  query?: Record<string, string | string[]>;
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
      if (!requirement.permissions.every((p) => (key.permissions as string[]).includes(p)) && !services.faults.has('permission-not-enforced')) {
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
  // `cause` is never sent, except by the auth-errors-tell-cause fault.
  const refuse = (cause: string) =>
    services.faults.has('bad-key-403')
      ? fail('insufficient_permission')
      : fail('unauthenticated', services.faults.has('auth-errors-tell-cause') ? cause : undefined);
  const query = services.faults.has('key-in-query-accepted') ? req.query?.api_key : undefined;
  const presented = req.headers['x-api-key'] ?? (Array.isArray(query) ? query[0] : query);
  const match = KEY_GRAMMAR.exec(presented ?? '');
  if (!match || match[1] !== match[3]) throw refuse('The API key is malformed.');
  const [, env, publicId, , secret] = match;
  const { state } = services.store;
  const key = state.apiKeysByPublicId.get(publicId!) ?? (services.faults.has('deleted-key-accepted') ? state.deletedApiKeysByPublicId.get(publicId!) : undefined);
  const presentedHash = hashSecret(`sk_${env}_${secret}`);
  const secretOk = key
    ? safeEqual(presentedHash, key.secretHash) ||
      (services.faults.has('regenerated-secret-still-valid') && safeEqual(presentedHash, key.previousSecretHash ?? ''))
    : safeEqual('', 'x');
  if (!key) throw refuse('No API key has this public id.');
  if (!secretOk) throw refuse('The secret does not match this API key.');
  if (key.environment !== env) throw refuse('The API key names the wrong environment.');
  if (env !== req.environment && !services.faults.has('wrong-environment-key-accepted')) throw refuse('This API key belongs to the other environment.');
  if (!key.active && !services.faults.has('disabled-key-accepted')) throw refuse('This API key is disabled.');
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
