// Rule rows of area ENV (see conformance/rules.ts for how to edit them).
// ─── Environment activation ──────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const envRules: Rule[] = [
  {
    id: 'R-ENV-001',
    rule: '`not_provisioned` → `provisioning` (provision answers 201 with status `provisioning`) → `active` (the `environment.activated` event) or `error`; an environment in `error` can be provisioned again.',
    source: ['seed 004 "Status Values"', 'seed 004 "Provision an Environment"', 'openapi #/components/schemas/EnvironmentStatus'],
    checks: ['ENV-002'],
    gap: '`error` is only seen if provisioning happens to fail; the transition is observable only while mainnet is not yet provisioned',
    operations: ['provisionEnvironment', 'getEnvironmentStatus', 'environment.activated'],
  },
  {
    id: 'R-ENV-002',
    rule: 'Provisioning an environment that is `provisioning` or `active` is 409 `environment_already_provisioned` and changes nothing.',
    source: ['openapi op provisionEnvironment'],
    checks: ['ENV-002'],
    operations: ['provisionEnvironment'],
  },
  {
    id: 'R-ENV-003',
    rule: 'Only an `active` environment accepts Balance API requests, and only an active `mainnet` allows `live` keys.',
    source: ['seed 004 "Status Values"', 'openapi #/components/schemas/EnvironmentStatus'],
    checks: ['ENV-001', 'ENV-002'],
    gap: 'that an environment which is not active refuses Balance API requests is not tried: an approved account\'s testnet is active, and no live key can exist before mainnet is',
  },
  {
    id: 'R-ENV-004',
    rule: 'A newly approved account\'s Sandbox (`testnet`) is activated on approval.',
    source: ['seed 003 "Environment activation typically completes shortly after approval"', 'openapi op provisionEnvironment'],
    unobservable: 'needs a newly approved account: approval is PacSpace\'s decision and its link is e-mailed',
  },
  {
    id: 'R-ENV-005',
    rule: '`GET /dashboard/contracts` lists only provisioned environments (`provisioning`, `active` or `error`), `testnet` first; an empty array if none.',
    source: ['seed 004 "List Environments"', 'openapi op listContracts'],
    checks: ['ENV-001', 'ENV-002'],
    operations: ['listContracts'],
  },
  {
    id: 'R-ENV-006',
    rule: 'Environment status lists both environments, `testnet` first; `provisionedAt` is present exactly when the status is `active`.',
    source: ['seed 004 "Check Environment Status"', 'openapi op getEnvironmentStatus', 'openapi #/components/schemas/EnvironmentStatusReport'],
    checks: ['ENV-001', 'ENV-002'],
    operations: ['getEnvironmentStatus'],
  },
  {
    id: 'R-ENV-007',
    rule: '`GET /dashboard/environments` shows both networks whatever their state: name Sandbox/Production, `keyEnvironment` test/live, `apiBaseUrl`, and `provisionedAt` null unless active.',
    source: ['openapi op listEnvironments', 'openapi #/components/schemas/Environment'],
    checks: ['ENV-001'],
    operations: ['listEnvironments'],
  },
];
