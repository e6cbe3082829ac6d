// Accounts and sessions (seed 000, quick start steps 1–2): request access, register, verify
// the email, reset the password, and cookie sessions (login, refresh with rotation and reuse
// detection, logout, me). Tokens sent by email and session cookies are random, stored only
// as SHA-256 hashes, and their plaintext leaves the sandbox only in the outbox (the mails it
// would have sent) and in Set-Cookie; passwords are stored as scrypt hashes, never echoed.
//
// Links the outbox carries (base = the production listener's URL):
//   approval      {base}/register?token=…                  (access token, 7 days)
//   verification  {base}/dashboard/auth/verify?token=…     (24 hours)
//   reset         {base}/reset-password?token=…            (1 hour)
// A new link of a kind supersedes the earlier ones for the same address (projection).
import type { components } from '../../generated/openapi.d.ts';
import { ACCESS_COOKIE, REFRESH_COOKIE, rateLimited } from '../gate/authenticate.ts';
import { serializeCookie } from '../http/cookies.ts';
import { fail, type ProblemError } from '../http/problem.ts';
import { PasswordHashingBusy } from '../security/password-hashing.ts';
import { hashSecret, randomId, randomToken } from '../security/secrets.ts';
import type { Services } from '../services.ts';
import type { EmailTokenKind, SandboxEvent } from '../state/events.ts';
import { normalizeEmail, type User } from '../state/projections.ts';
import { callerOf, iso, ok, type Handlers, type Reply } from './handler.ts';

type UserView = components['schemas']['User'];
type CurrentUserView = components['schemas']['CurrentUser'];
type RequestAccessBody = components['schemas']['RequestAccessRequest'];
type RegisterBody = components['schemas']['RegisterRequest'];
type LoginBody = components['schemas']['LoginRequest'];
type EmailBody = components['schemas']['EmailRequest'];
type ResetBody = components['schemas']['ResetPasswordRequest'];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const TOKEN_TTL_MS: Record<EmailTokenKind, number> = { access: 7 * DAY, verify: DAY, reset: HOUR };
export const ACCESS_TTL_MS = 15 * MINUTE;
export const REFRESH_TTL_MS = 14 * DAY;

const COOKIE_PATHS = { [ACCESS_COOKIE]: '/dashboard', [REFRESH_COOKIE]: '/dashboard/auth' } as const;

const MAIL: Record<EmailTokenKind, { subject: string; path: string; text: (link: string) => string }> = {
  access: {
    subject: 'Your PacSpace access is approved',
    path: '/register',
    text: (link) => `Your request for PacSpace access was approved. Create your account within 7 days: ${link}`,
  },
  verify: {
    subject: 'Verify your PacSpace email address',
    path: '/dashboard/auth/verify',
    text: (link) => `Confirm your email address within 24 hours: ${link}`,
  },
  reset: {
    subject: 'Reset your PacSpace password',
    path: '/reset-password',
    text: (link) => `Someone asked to reset your PacSpace password. Choose a new one within 1 hour: ${link}. If it was not you, ignore this email.`,
  },
};

const RECEIVED = {
  access: 'Thanks! We review every request and will email you when your access is approved.',
  verify: 'If an unverified account uses this address, a new verification email is on its way.',
  reset: 'If an account uses this address, a password reset email is on its way.',
} as const;

const INVALID_TOKEN = {
  access: 'The access token is unknown, expired, already used, or was issued for another email address.',
  verify: 'The verification token is unknown, expired or already used. Request a new verification email.',
  reset: 'The reset token is unknown, expired or already used. Request a new password reset email.',
} as const;

export function userView(user: User): UserView {
  return { id: user.id, email: user.email, name: user.name, role: user.role, isVerified: user.verified, tenantId: user.tenantId };
}

function currentUserView(user: User): CurrentUserView {
  return { ...userView(user), approvalStatus: user.approved ? 'approved' : 'pending', createdAt: iso(user.createdAt) };
}

/**
 * `429 password_hashing_busy`: every scrypt slot is taken and the queue is full (a flood of
 * logins, say); nothing was done. RateLimit-Limit is how many password checks may run or wait.
 */
function passwordHashingBusy(services: Services): ProblemError {
  const retryAfter = services.passwords.retryAfterSeconds();
  return fail(
    'password_hashing_busy',
    `Too many password checks are in progress; nothing was done. Retry after ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`,
    { retryAfter },
    { 'Retry-After': String(retryAfter), 'RateLimit-Limit': String(services.passwords.capacity()), 'RateLimit-Remaining': '0', 'RateLimit-Reset': String(retryAfter) },
  );
}

/** A new password's hash, off the event loop; 429 when the hashing queue is full. */
async function newPasswordHash(services: Services, password: string): Promise<string> {
  try {
    return await services.passwords.hash(password);
  } catch (error) {
    throw error instanceof PasswordHashingBusy ? passwordHashingBusy(services) : error;
  }
}

const received = (kind: EmailTokenKind): Reply => ok(202, { status: 'received', message: RECEIVED[kind] });

/** A new emailed token for `email` and the message carrying it (events only; not committed). */
function mailToken(services: Services, kind: EmailTokenKind, email: string): SandboxEvent[] {
  const at = services.clock.now();
  const token = randomToken();
  const link = `${services.config.productionUrl}${MAIL[kind].path}?token=${token}`;
  return [
    { type: 'email.token.issued', at, kind, email, tokenHash: hashSecret(token), expiresAt: at + TOKEN_TTL_MS[kind] },
    { type: 'outbox.sent', at, messageId: randomId('msg_', 16), to: email, kind, subject: MAIL[kind].subject, text: MAIL[kind].text(link), link, token },
  ];
}

/** The hash of a live token of this kind (for this address, if given), or undefined. */
function liveToken(services: Services, kind: EmailTokenKind, token: string, email?: string) {
  const tokenHash = hashSecret(token);
  const record = services.store.state.emailTokens.get(tokenHash);
  const live =
    record !== undefined &&
    record.kind === kind &&
    !record.used &&
    !record.superseded &&
    record.expiresAt > services.clock.now() &&
    (email === undefined || record.email === normalizeEmail(email));
  return live ? { tokenHash, email: record.email } : undefined;
}

/**
 * The events that approve an address: its access request, and its account if one was
 * registered while pending. An address without an account gets an approval link; one
 * whose account is already approved gets nothing. Exported for the control surface.
 */
export function approveAccess(services: Services, email: string): SandboxEvent[] {
  const user = services.store.state.usersByEmail.get(normalizeEmail(email));
  if (user?.approved) return [];
  const approved: SandboxEvent = { type: 'access.approved', at: services.clock.now(), email };
  return user ? [approved] : [approved, ...mailToken(services, 'access', email)];
}

/**
 * Both session cookies for a new access/refresh pair. The access cookie comes last: clients
 * that keep only the last Set-Cookie field of a response (Redocly Respect 2.77 reads the
 * headers into a plain object) then still hold the cookie every dashboard call needs, so the
 * Arazzo workflows (openapi/workflows/) can carry a session. Browsers and cookie jars do not
 * care about the order of cookies with different names.
 */
function sessionCookies(access: string, refresh: string): string[] {
  return [
    serializeCookie(REFRESH_COOKIE, refresh, { path: COOKIE_PATHS[REFRESH_COOKIE], maxAgeSeconds: REFRESH_TTL_MS / 1000 }),
    serializeCookie(ACCESS_COOKIE, access, { path: COOKIE_PATHS[ACCESS_COOKIE], maxAgeSeconds: ACCESS_TTL_MS / 1000 }),
  ];
}

const clearedCookies = () =>
  ([ACCESS_COOKIE, REFRESH_COOKIE] as const).map((name) => serializeCookie(name, '', { path: COOKIE_PATHS[name], maxAgeSeconds: 0 }));

function newSessionTokens(services: Services) {
  const at = services.clock.now();
  const access = randomToken();
  const refresh = randomToken();
  return {
    access,
    refresh,
    fields: {
      at,
      accessHash: hashSecret(access),
      accessExpiresAt: at + ACCESS_TTL_MS,
      refreshHash: hashSecret(refresh),
      refreshExpiresAt: at + REFRESH_TTL_MS,
    },
  };
}

export const accountHandlers: Handlers = {
  async requestAccess(ctx) {
    const { services } = ctx;
    const body = ctx.body as RequestAccessBody;
    const user = services.store.state.usersByEmail.get(normalizeEmail(body.email));
    // An approved account gets no second approval (and its request record stays as it was).
    if (!user?.approved) {
      await services.store.commit(
        {
          type: 'access.requested',
          at: services.clock.now(),
          email: body.email,
          name: body.name,
          organization: body.organization,
          buyerMode: body.buyerMode,
          useCase: body.useCase,
        },
        ...(services.config.autoApprove ? approveAccess(services, body.email) : []),
      );
    }
    return received('access');
  },

  async register(ctx) {
    const { services } = ctx;
    const body = ctx.body as RegisterBody;
    const email = normalizeEmail(body.email);
    let accessTokenHash: string | null = null;
    if (body.accessToken !== undefined) {
      const token = liveToken(services, 'access', body.accessToken, email);
      if (!token) throw fail('invalid_token', INVALID_TOKEN.access);
      accessTokenHash = token.tokenHash;
    }
    const exists = () => {
      if (services.store.state.usersByEmail.has(email)) {
        throw fail('account_exists', 'An account with this email already exists. Log in or reset your password.');
      }
    };
    exists();
    const passwordHash = await newPasswordHash(services, body.password);
    // Checked again: another request may have registered the address or used the token meanwhile.
    if (accessTokenHash !== null && !liveToken(services, 'access', body.accessToken!, email)) throw fail('invalid_token', INVALID_TOKEN.access);
    exists();
    const approved = accessTokenHash !== null || (services.store.state.accessRequests.get(email)?.approved ?? false);
    const userId = randomId('usr_', 16);
    await services.store.commit(
      {
        type: 'user.registered',
        at: services.clock.now(),
        userId,
        tenantId: randomId('tnt_', 16),
        email: body.email,
        name: body.name,
        passwordHash,
        accessTokenHash,
        approved,
        contractId: randomId('ctr_', 16),
      },
      ...mailToken(services, 'verify', body.email),
    );
    return ok(201, userView(services.store.state.users.get(userId)!));
  },

  async verifyEmail(ctx) {
    const { services } = ctx;
    const token = liveToken(services, 'verify', String(ctx.query.token ?? ''));
    const user = token && services.store.state.usersByEmail.get(token.email);
    if (!token || !user) throw fail('invalid_token', INVALID_TOKEN.verify);
    await services.store.commit({ type: 'email.verified', at: services.clock.now(), userId: user.id, tokenHash: token.tokenHash });
    return ok(200, { verified: true, email: user.email });
  },

  async resendVerificationEmail(ctx) {
    const { services } = ctx;
    const user = services.store.state.usersByEmail.get(normalizeEmail((ctx.body as EmailBody).email));
    if (user && !user.verified) await services.store.commit(...mailToken(services, 'verify', user.email));
    return received('verify');
  },

  async requestPasswordReset(ctx) {
    const { services } = ctx;
    const user = services.store.state.usersByEmail.get(normalizeEmail((ctx.body as EmailBody).email));
    if (user) await services.store.commit(...mailToken(services, 'reset', user.email));
    return received('reset');
  },

  async resetPassword(ctx) {
    const { services } = ctx;
    const body = ctx.body as ResetBody;
    const resetter = () => {
      const token = liveToken(services, 'reset', body.token);
      const user = token && services.store.state.usersByEmail.get(token.email);
      if (!token || !user) throw fail('invalid_token', INVALID_TOKEN.reset);
      return { token, user };
    };
    resetter();
    const passwordHash = await newPasswordHash(services, body.password);
    // Checked again: the token may have been used (or superseded) while the hash was made.
    const { token, user } = resetter();
    const at = services.clock.now();
    const families = [...services.store.state.sessions.values()].filter((s) => s.userId === user.id && !s.revoked);
    await services.store.commit(
      { type: 'password.reset', at, userId: user.id, passwordHash, tokenHash: token.tokenHash },
      ...families.map((s): SandboxEvent => ({ type: 'session.revoked', at, familyId: s.familyId, reason: 'password_reset' })),
    );
    return ok(200, { message: 'Your password has been reset. Log in with your new password.' });
  },

  async login(ctx) {
    const { services } = ctx;
    const body = ctx.body as LoginBody;
    const email = normalizeEmail(body.email);
    // Throttled addresses are refused before the password is looked at, right or wrong.
    const gate = services.limits.login.peek(email);
    if (!gate.allowed) throw rateLimited(gate);
    // Checked off the event loop, a few at a time: past the queue, refused and not counted.
    if (services.passwords.full()) throw passwordHashingBusy(services);
    // The attempt counts now (a success refunds it below), so concurrent guesses at one address
    // cannot get past the limit while their hashes are being checked.
    services.limits.login.take(email);
    const stored = services.store.state.usersByEmail.get(email)?.passwordHash;
    // Constant time whether or not the user exists (a dummy hash stands in).
    let verified: boolean;
    try {
      verified = await services.passwords.verify(body.password, stored);
    } catch (error) {
      throw error instanceof PasswordHashingBusy ? passwordHashingBusy(services) : error;
    }
    // (A password reset meanwhile makes the checked hash stale: the attempt failed.)
    const user = services.store.state.usersByEmail.get(email);
    if (!verified || !user || user.passwordHash !== stored) {
      throw fail('invalid_credentials');
    }
    services.limits.login.forget(email);
    const { access, refresh, fields } = newSessionTokens(services);
    await services.store.commit({ type: 'session.started', familyId: randomId('ses_', 16), userId: user.id, ...fields });
    return { status: 200, body: { success: true, data: userView(user) }, cookies: sessionCookies(access, refresh) };
  },

  async refreshSession(ctx) {
    const { services } = ctx;
    const { session, refreshHash } = callerOf(ctx, 'refresh');
    const reused = session.rotated.has(refreshHash);
    if (reused) {
      // A spent refresh value came back: someone holds a copy. End the whole family.
      await services.store.commit({ type: 'session.revoked', at: services.clock.now(), familyId: session.familyId, reason: 'refresh_reuse' });
      throw fail('unauthenticated');
    }
    if (refreshHash !== session.refreshHash || session.refreshExpiresAt <= services.clock.now()) throw fail('unauthenticated');
    const { access, refresh, fields } = newSessionTokens(services);
    await services.store.commit({ type: 'session.refreshed', familyId: session.familyId, ...fields });
    return {
      ...ok(200, { accessExpiresAt: iso(fields.accessExpiresAt), refreshExpiresAt: iso(fields.refreshExpiresAt) }),
      cookies: sessionCookies(access, refresh),
    };
  },

  async logout(ctx) {
    const { services } = ctx;
    const { session } = callerOf(ctx, 'session');
    await services.store.commit({ type: 'session.revoked', at: services.clock.now(), familyId: session.familyId, reason: 'logout' });
    return { ...ok(200, { message: 'You have been logged out.' }), cookies: clearedCookies() };
  },

  getCurrentUser(ctx) {
    const { user } = callerOf(ctx, 'session');
    return ok(200, currentUserView(user));
  },
};
