// Rule rows of area ACCT (see conformance/rules.ts for how to edit them).
// ─── Accounts ────────────────────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';
import { NOT_BY_EMAIL } from './reasons.ts';

export const acctRules: Rule[] = [
  {
    id: 'R-ACCT-001',
    rule: 'request-access answers 202 with the same body whatever the email (new, pending, or already registered), so it cannot be used to discover accounts.',
    source: ['seed 003 "Step 1: Request Access"', 'PRODUCT.md "Surfaces and auth"', 'openapi op requestAccess'],
    operations: ['requestAccess'],
    checks: ['ACCT-001'],
  },
  {
    id: 'R-ACCT-002',
    rule: 'An approved access request e-mails a single-use access token (valid 7 days, bound to the email); a repeated request for an approved address without an account sends a new link that supersedes the earlier ones.',
    source: ['openapi op requestAccess'],
    unobservable: NOT_BY_EMAIL,
    operations: ['requestAccess'],
  },
  {
    id: 'R-ACCT-003',
    rule: 'register creates the account and its tenant: the user is its `owner`, with `isVerified: false`, and no session is started.',
    source: ['openapi op register'],
    operations: ['register'],
    checks: ['ACCT-003'],
  },
  {
    id: 'R-ACCT-004',
    rule: 'register with an unknown, expired, used or other-email `accessToken` is 400 `invalid_token` and creates nothing.',
    source: ['openapi op register'],
    operations: ['register'],
    checks: ['ACCT-004'],
    gap: 'only a token never issued is tried: an expired, used or other-email token needs the e-mailed one',
  },
  {
    id: 'R-ACCT-005',
    rule: 'register with a valid `accessToken` approves the account at once; without one the account is approved only if its access request already is, and stays pending until then.',
    source: ['openapi op register', 'openapi #/components/schemas/RegisterRequest'],
    operations: ['register'],
    checks: ['ACCT-003'],
    gap: 'only an account registered without token or request is judged (pending); approval with an access token, or by PacSpace later, needs the e-mailed token',
  },
  {
    id: 'R-ACCT-006',
    rule: 'Verifying with the latest verification token sets `isVerified: true`; the token is single use and valid 24 hours, and each new one supersedes the earlier ones.',
    source: ['openapi op verifyEmail', 'openapi op resendVerificationEmail'],
    unobservable: NOT_BY_EMAIL,
    operations: ['verifyEmail', 'resendVerificationEmail'],
  },
  {
    id: 'R-ACCT-007',
    rule: 'verify with an unknown, expired, superseded or used token is 400 `invalid_token`; a missing or malformed `token` is 422.',
    source: ['openapi op verifyEmail'],
    operations: ['verifyEmail'],
    checks: ['ACCT-005'],
    gap: 'only a token never issued is tried: an expired, superseded or used one needs the e-mailed token',
  },
  {
    id: 'R-ACCT-008',
    rule: 'resend-verification-email answers 202 with the same body whether the email is unknown, unverified or verified.',
    source: ['openapi op resendVerificationEmail'],
    operations: ['resendVerificationEmail'],
    checks: ['ACCT-002', 'ACCT-003'],
  },
  {
    id: 'R-ACCT-009',
    rule: 'request-password-reset answers 202 with the same body whether or not the email belongs to an account.',
    source: ['PRODUCT.md "Surfaces and auth"', 'openapi op requestPasswordReset', 'OWASP API2:2023'],
    operations: ['requestPasswordReset'],
    checks: ['SESSION-007'],
  },
  {
    id: 'R-ACCT-010',
    rule: 'A reset token is single use, valid 1 hour, and only the latest is valid; the password changes only with reset-password.',
    source: ['openapi op requestPasswordReset', 'openapi op resetPassword'],
    operations: ['resetPassword'],
    checks: ['SESSION-007'],
    gap: 'only that asking for a reset changes nothing (the session stays valid) is judged; single use, the 1-hour lifetime and supersession need the e-mailed token',
  },
  {
    id: 'R-ACCT-011',
    rule: 'reset-password with an unknown, expired, superseded or used token is 400 `invalid_token` and changes nothing.',
    source: ['openapi op resetPassword'],
    operations: ['resetPassword'],
    checks: ['ACCT-006'],
    gap: 'only a token never issued is tried: an expired, superseded or used one needs the e-mailed token',
  },
  {
    id: 'R-ACCT-012',
    rule: 'A user (login, register, me) never contains the password, a password hash or a session token.',
    source: ['openapi #/components/schemas/User'],
    operations: ['login', 'register', 'getCurrentUser'],
    checks: ['SESSION-001', 'ACCT-003', 'REVEAL-002'],
  },
];
