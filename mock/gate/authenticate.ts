// The auth gate: decides who is calling before any handler runs. Balance API keys,
// dashboard session cookies, the refresh cookie, CSRF and the per-key rate limit are all
// checked here, in that order, with one and the same 401 whatever the cause.
import type { AuthRequirement } from '../../contract/operations.ts';
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

export function rateLimitHeaders(d: RateDecision): Record<string, string> {
  return {
    'Retry-After': String(d.retryAfterSeconds),
    'RateLimit-Limit': String(d.limit),
    'RateLimit-Remaining': String(d.remaining),
    'RateLimit-Reset': String(d.resetSeconds),
  };
}

export function rateLimited(d: RateDecision): ProblemError {
  return fail('rate_limited', `Rate limit exceeded; retry after ${d.retryAfterSeconds} seconds.`, { retryAfter: d.retryAfterSeconds }, rateLimitHeaders(d));
}

export function authenticate(requirement: AuthRequirement, req: GateRequest, services: Services): Caller {
  switch (requirement.kind) {
    case 'public':
      return { kind: 'public' };
    case 'apiKey': {
      const key = apiKeyCaller(req, services);
      const decision = services.limits.apiKey.take(key.id);
      if (!decision.allowed) throw rateLimited(decision);
      if (!requirement.permissions.every((p) => (key.permissions as string[]).includes(p))) {
        throw fail('insufficient_permission', `This API key does not have the ${requirement.permissions.join(', ')} permission.`);
      }
      // (When it was last used is recorded once the request has succeeded: mock/domain/api-key-use.ts.)
      return { kind: 'apiKey', key };
    }
    case 'session': {
      const { user, session } = sessionCaller(req, services);
      if (requirement.csrf) requireCsrf(req);
      return { kind: 'session', user, session };
    }
    case 'refresh': {
      const token = req.cookies[REFRESH_COOKIE];
      const refreshHash = token ? hashSecret(token) : '';
      const session = token ? services.store.state.sessionsByRefresh.get(refreshHash) : undefined;
      const user = session && services.store.state.users.get(session.userId);
      if (!session || !user || session.revoked) throw fail('unauthenticated');
      if (requirement.csrf) requireCsrf(req);
      return { kind: 'refresh', user, session, refreshHash };
    }
  }
}

function apiKeyCaller(req: GateRequest, services: Services): ApiKey {
  // One and the same 401 whatever the cause, so a caller learns nothing about keys it does not hold.
  const match = KEY_GRAMMAR.exec(req.headers['x-api-key'] ?? '');
  if (!match || match[1] !== match[3]) throw fail('unauthenticated'); // malformed
  const [, env, publicId, , secret] = match;
  const key = services.store.state.apiKeysByPublicId.get(publicId!);
  const presentedHash = hashSecret(`sk_${env}_${secret}`);
  // A comparison is made for an unknown public id too, so it takes as long as a wrong secret.
  const secretOk = key ? safeEqual(presentedHash, key.secretHash) : safeEqual('', 'x');
  if (!key || !secretOk) throw fail('unauthenticated'); // unknown public id, or not its secret
  if (key.environment !== env) throw fail('unauthenticated'); // names the wrong environment
  if (env !== req.environment) throw fail('unauthenticated'); // belongs to the other listener
  if (!key.active) throw fail('unauthenticated'); // disabled
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

function requireCsrf(req: GateRequest) {
  if (req.headers['x-pacspace-csrf'] !== '1') throw fail('csrf_required');
}
