// Accounts: access requests, registration, e-mail verification and password reset, as far as
// a client without the e-mailed tokens can observe them (PRODUCT.md "Surfaces and auth",
// openapi tag "Dashboard auth"; OWASP API2:2023). Every call here is public: it is sent with no
// cookie and no CSRF header (the public routes need none).
//
// ACCT-003 registers one account per run (`conformance-<run tag>@conformance.invalid`, an
// address that can receive no mail): no documented endpoint deletes an account, so on a real
// deployment it stays behind, pending review. The others create nothing.
import type { Check } from '../../check.ts';
import { defineCheck } from '../../check.ts';
import { CSRF, type CheckContext } from '../../context.ts';
import { ensure, expectProblem, expectStatus, withoutRequestId } from '../../lib/assert.ts';
import type { Exchange } from '../../lib/http.ts';
import { sameJson } from '../../lib/json.ts';
import { expectNoCookie, expectNoNewSession, infrastructureCookies, parseSetCookie } from '../session/cookies.ts';
import { expectNoCredentialsIn } from '../session/index.ts';

const PASSWORD = 'conformance correct horse battery';
/** Well-formed (EmailToken: 32–128 base64url characters) and never issued. */
const unknownToken = (ctx: CheckContext) => `conformanceUnknownToken${ctx.runTag}`.padEnd(40, 'x');
const unknownEmail = (ctx: CheckContext, what: string) => `nobody-${what}-${ctx.runTag}-${Date.now().toString(36)}@conformance.invalid`;

/** A public POST: no cookie, no CSRF header. */
async function publicPost(ctx: CheckContext, path: string, json: unknown) {
  const dash = await ctx.dashboard();
  return dash.post(path, { noCookies: true, json });
}

/** Every answer is 202 with one and the same body (request ids aside): none tells the cases apart. */
function expectAlike(answers: Array<[string, Exchange]>, route: string, infra: Set<string>) {
  for (const [what, res] of answers) {
    expectStatus(res, 202, `${route} for ${what}`);
    expectNoNewSession(res, `${route} for ${what}`, infra);
  }
  const cookiesOf = (res: Exchange) => res.setCookies.map((c) => parseSetCookie(c).name).filter((n) => !infra.has(n)).sort();
  const [[firstWhat, first]] = answers as [[string, Exchange]];
  for (const [what, res] of answers.slice(1)) {
    ensure(sameJson(withoutRequestId(first.body), withoutRequestId(res.body)), `${route} answers ${firstWhat} and ${what} differently: it tells whether the email has an account`);
    ensure(sameJson(cookiesOf(first), cookiesOf(res)), `${route} sets other cookies for ${firstWhat} than for ${what}`);
  }
}

const accessRequest = (email: string) => ({ name: 'Conformance Check', email, organization: 'PacSpace conformance', buyerMode: 'DIRECT_INFERENCE_VENDOR', useCase: 'An automated conformance check; no access is needed.' });

export const accountChecks: Check[] = [
  defineCheck({
    id: 'ACCT-001',
    rule: 'request-access answers the same 202 for a new address, one with a pending request and one that has an account.',
    source: 'seed 003 Step 1: Request Access; PRODUCT.md; openapi op requestAccess; OWASP API2:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const fresh = unknownEmail(ctx, 'access');
      const path = '/dashboard/auth/request-access';
      const known = await publicPost(ctx, path, accessRequest(ctx.config.email!));
      const first = await publicPost(ctx, path, accessRequest(fresh));
      const again = await publicPost(ctx, path, accessRequest(fresh));
      expectAlike([['the account\'s address', known], ['a new address', first], ['an address with a request already', again]], 'request-access', await infrastructureCookies(ctx));
    },
  }),
  defineCheck({
    id: 'ACCT-002',
    rule: 'resend-verification-email answers the same 202 for an unknown address and the account\'s address.',
    source: 'openapi op resendVerificationEmail; OWASP API2:2023',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const path = '/dashboard/auth/resend-verification-email';
      const known = await publicPost(ctx, path, { email: ctx.config.email });
      const unknown = await publicPost(ctx, path, { email: unknownEmail(ctx, 'resend') });
      expectAlike([['the account\'s address', known], ['an unknown address', unknown]], 'resend-verification-email', await infrastructureCookies(ctx));
    },
  }),
  defineCheck({
    id: 'ACCT-003',
    rule: 'register without an access token creates an unverified owner, pending approval, answers no token, password or hash and sets no cookie; the unverified user can log in; resend-verification answers it like any address.',
    source: 'openapi op register; openapi op login; openapi op resendVerificationEmail; openapi User',
    needs: ['dashboard', 'writes'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      const email = `conformance-${ctx.runTag}@conformance.invalid`;
      const registered = await publicPost(ctx, '/dashboard/auth/register', { email, password: PASSWORD, name: `Conformance ${ctx.runTag}` });
      expectStatus(registered, 201, 'registering a new address without an access token');
      expectNoCookie(registered, 'register (it starts no session)', infra);
      expectNoCredentialsIn(registered, 'the register answer', [PASSWORD]);
      const u = registered.body?.data ?? {};
      ensure(typeof u.email === 'string' && u.email.toLowerCase() === email.toLowerCase(), 'register answers another email than the one registered');
      ensure(u.role === 'owner', `the registering user must be the tenant's owner, is ${u.role}`);
      ensure(u.isVerified === false, 'a new account must not be verified yet');

      // Unverified, it can still log in (one login, logged out again).
      const client = await ctx.loginClient(email, PASSWORD);
      const me = await client.get('/dashboard/auth/me');
      expectStatus(me, 200, 'me for the new, unverified account');
      ensure(me.body?.data?.isVerified === false && me.body?.data?.id === u.id, 'me for the new account is not the unverified user registered');
      // No access request was ever made for this address, so nothing approved it.
      ensure(me.body?.data?.approvalStatus === 'pending', `an account registered without an access token or request must be pending, is ${me.body?.data?.approvalStatus}`);
      expectNoCredentialsIn(me, 'the me answer', [PASSWORD, client.jar.get('pacspace_access'), client.jar.get('pacspace_refresh')]);
      expectStatus(await client.post('/dashboard/auth/logout', { headers: CSRF }), 200, 'logging the new account out');

      const path = '/dashboard/auth/resend-verification-email';
      const unverified = await publicPost(ctx, path, { email });
      const unknown = await publicPost(ctx, path, { email: unknownEmail(ctx, 'resend') });
      expectAlike([['an unverified account\'s address', unverified], ['an unknown address', unknown]], 'resend-verification-email', await infrastructureCookies(ctx));
    },
  }),
  defineCheck({
    id: 'ACCT-004',
    rule: 'register with an unknown access token is 400 invalid_token and creates nothing, also for an address that has an account (the token is checked first).',
    source: 'openapi op register',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      const email = unknownEmail(ctx, 'register');
      const res = await publicPost(ctx, '/dashboard/auth/register', { accessToken: unknownToken(ctx), email, password: PASSWORD, name: 'Conformance Check' });
      if (res.status === 201) ctx.secrets.add(PASSWORD, 'the throwaway password');
      expectProblem(res, 400, 'invalid_token', 'register with an access token never issued');
      expectNoCookie(res, 'a refused register', infra);
      // Nothing was created: the address still has no account (one failed login for an address no account has).
      expectProblem(await ctx.loginAttempt(email, PASSWORD), 401, 'invalid_credentials', 'logging in as the refused registration');
      const existing = await publicPost(ctx, '/dashboard/auth/register', { accessToken: unknownToken(ctx), email: ctx.config.email, password: PASSWORD, name: 'Conformance Check' });
      expectProblem(existing, 400, 'invalid_token', 'register with an unknown access token for the account\'s address');
    },
  }),
  defineCheck({
    id: 'ACCT-005',
    rule: 'verify with an unknown token is 400 invalid_token; a missing or malformed token is 422.',
    source: 'openapi op verifyEmail',
    needs: ['dashboard'],
    async run(ctx) {
      const dash = await ctx.dashboard();
      const verify = (query: string) => dash.get(`/dashboard/auth/verify${query}`, { noCookies: true });
      expectProblem(await verify(`?token=${unknownToken(ctx)}`), 400, 'invalid_token', 'verify with a token never issued');
      expectProblem(await verify(''), 422, 'validation_failed', 'verify without a token');
      expectProblem(await verify('?token=short'), 422, 'validation_failed', 'verify with a malformed token');
    },
  }),
  defineCheck({
    id: 'ACCT-006',
    rule: 'reset-password with an unknown token is 400 invalid_token and changes nothing (the sessions of the account stay valid).',
    source: 'openapi op resetPassword',
    needs: ['dashboard'],
    async run(ctx) {
      const infra = await infrastructureCookies(ctx);
      const res = await publicPost(ctx, '/dashboard/auth/reset-password', { token: unknownToken(ctx), password: 'conformance new password 1' });
      expectProblem(res, 400, 'invalid_token', 'reset-password with a token never issued');
      expectNoNewSession(res, 'a refused reset-password', infra);
      // A reset that went through would have revoked every session of the account.
      expectStatus(await (await ctx.dashboard()).get('/dashboard/auth/me'), 200, 'the run\'s session after a refused reset-password');
    },
  }),
];
