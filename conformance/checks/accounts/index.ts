// Accounts: access requests, registration, e-mail verification and password reset, as far as
// a client without the e-mailed tokens can observe them.
import type { Check } from '../../check.ts';

export const accountChecks: Check[] = [];
