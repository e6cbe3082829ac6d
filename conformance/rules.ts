// The rule inventory: every normative statement of the contract (generated/openapi.json), the
// product brief (PRODUCT.md) and the seed pages, each with a stable id, its source and the
// conformance checks that enforce it today — or why no check can, or that none does yet.
//
// This file and its per-area row files (rules/*.ts) are the one source of truth for the rule → check mapping; RULES.md (the table) and
// its check → rule index are generated from it by scripts/generate-rules.ts, and
// conformance/rules.test.ts keeps both honest: every operation, webhook event and problem code
// of the contract has a row, every check id named here exists, every check of the catalogue
// enforces at least one row, contract pointers resolve, and RULES.md is fresh.
//
// Editing:
// - Ids are `R-{AREA}-{NNN}` and stable: never renumber or reuse one. A retired rule's row is
//   deleted; a new rule takes the next free number of its area.
// - `checks` names the check ids that enforce the rule. When they enforce only part of it, say
//   which part is left in `gap`. A rule no HTTP client can ever see gets `unobservable` with the
//   reason instead; a rule with neither is "not yet checked" (most of them, today: that is the
//   point of the inventory).
// - `source` entries are free text, except these forms, which the test resolves:
//   `seed NNN "text"` (the text occurs in seed page NNN), `PRODUCT.md "Heading"`,
//   `openapi #/json/pointer`, `openapi op operationId`, `openapi info "Heading"` (a section of
//   info.description) and `openapi tag "Name"`.
// - `contract` on the OPS/OPR rows states an operation's auth class, success status and
//   documented error statuses; the test compares them with generated/openapi.json.

import { surfRules } from './rules/surf.ts';
import { authRules } from './rules/auth.ts';
import { keyRules } from './rules/key.ts';
import { sessRules } from './rules/sess.ts';
import { cookRules } from './rules/cook.ts';
import { csrfRules } from './rules/csrf.ts';
import { acctRules } from './rules/acct.ts';
import { ledgRules } from './rules/ledg.ts';
import { amtRules } from './rules/amt.ts';
import { idemRules } from './rules/idem.ts';
import { proofRules } from './rules/proof.ts';
import { hookRules } from './rules/hook.ts';
import { evtRules } from './rules/evt.ts';
import { envRules } from './rules/env.ts';
import { billRules } from './rules/bill.ts';
import { errRules } from './rules/err.ts';
import { codeRules } from './rules/code.ts';
import { hdrRules } from './rules/hdr.ts';
import { schRules } from './rules/sch.ts';
import { isoRules } from './rules/iso.ts';
import { secRules } from './rules/sec.ts';
import { opsRules } from './rules/ops.ts';
import { oprRules } from './rules/opr.ts';
import { clientRules } from './rules/client.ts';
import { sbxRules } from './rules/sbx.ts';

export type AuthClass =
  | 'public'
  | 'api key (balance:read)'
  | 'api key (balance:write)'
  | 'session'
  | 'session + CSRF'
  | 'refresh cookie + CSRF';

export type Rule = {
  /** `R-{AREA}-{NNN}`, stable. */
  id: string;
  /** The rule, as one checkable statement. */
  rule: string;
  /** Where it comes from: seed page, PRODUCT.md section, contract location, RFC, OWASP item. */
  source: string[];
  /** Ids of the catalogue's checks that enforce it. */
  checks?: string[];
  /** With `checks`: the part of the rule they leave unchecked. */
  gap?: string;
  /** Why no HTTP client of the target can observe it (then `checks` is empty). */
  unobservable?: string;
  /** The contract operations (operationId) and webhook events (type) the rule is about. */
  operations?: string[];
  /** The ProblemCode values the rule defines. */
  problemCodes?: string[];
  /** For the per-operation rows: what the contract says, compared with it by the test. */
  contract?: { operationId: string; auth?: AuthClass; success?: number; errors?: number[] };
};

/** The areas, in the order RULES.md lists them; a rule's area is the middle part of its id. */
export const areas = [
  { id: 'SURF', title: 'Surfaces, environments and routing' },
  { id: 'AUTH', title: 'API key authentication' },
  { id: 'KEY', title: 'API keys: format and life cycle (active → disabled ⇄ active, regenerated, deleted)' },
  { id: 'SESS', title: 'Dashboard sessions and their token families (access, refresh rotation, reuse, logout)' },
  { id: 'COOK', title: 'Session cookies' },
  { id: 'CSRF', title: 'CSRF protection' },
  { id: 'ACCT', title: 'Accounts: access requests, registration, e-mailed tokens' },
  { id: 'LEDG', title: 'Ledger: deltas (recorded → confirmed), derive, compare' },
  { id: 'AMT', title: 'Amounts and balances' },
  { id: 'IDEM', title: 'Idempotency (unused → in progress → stored → expired)' },
  { id: 'PROOF', title: 'Checkpoints and proofs (first, later and chained checkpoints)' },
  { id: 'HOOK', title: 'Webhooks: endpoints, signatures, secret rotation, delivery' },
  { id: 'EVT', title: 'Webhook events' },
  { id: 'ENV', title: 'Environment activation (not_provisioned → provisioning → active | error)' },
  { id: 'BILL', title: 'Plan and usage' },
  { id: 'ERR', title: 'Errors and request bodies' },
  { id: 'CODE', title: 'Problem codes: status and when' },
  { id: 'HDR', title: 'Headers' },
  { id: 'SCH', title: 'Schema constraints with a meaning' },
  { id: 'ISO', title: 'Tenant and environment isolation' },
  { id: 'SEC', title: 'Secrets' },
  { id: 'OPS', title: 'Operations: who may call them (auth class)' },
  { id: 'OPR', title: 'Operations: what they answer (success status, envelope, documented statuses)' },
  { id: 'CLIENT', title: 'Client obligations (what integrators and the SDK must do)' },
  { id: 'SBX', title: 'The local sandbox server only' },
] as const;

export type Status = 'checked' | 'partly checked' | 'not observable' | 'not yet checked';

export function statusOf(rule: Rule): Status {
  if (rule.unobservable) return 'not observable';
  if (!rule.checks?.length) return 'not yet checked';
  return rule.gap ? 'partly checked' : 'checked';
}

// The rows, one file per area under rules/, in the order of `areas`.
export const rules: Rule[] = [
  ...surfRules,
  ...authRules,
  ...keyRules,
  ...sessRules,
  ...cookRules,
  ...csrfRules,
  ...acctRules,
  ...ledgRules,
  ...amtRules,
  ...idemRules,
  ...proofRules,
  ...hookRules,
  ...evtRules,
  ...envRules,
  ...billRules,
  ...errRules,
  ...codeRules,
  ...hdrRules,
  ...schRules,
  ...isoRules,
  ...secRules,
  ...opsRules,
  ...oprRules,
  ...clientRules,
  ...sbxRules,
];
