// Rule rows of area SBX (see conformance/rules.ts for how to edit them).
// ─── The local sandbox server ────────────────────────────────────────────────────────
import type { Rule } from '../rules.ts';

export const sbxRules: Rule[] = [
  {
    id: 'R-SBX-001',
    rule: 'The local sandbox server answers only its own `Host` values; any other `Host` is 421 `misdirected_request`.',
    source: ['openapi #/servers', 'PRODUCT.md "The sandbox"'],
    unobservable: 'a guard of the local sandbox server\'s listeners, not part of a deployment\'s API (mock/control/exposure.test.ts covers it)',
  },
  {
    id: 'R-SBX-002',
    rule: 'The local sandbox server also accepts loopback webhook receivers, but never its own listeners (422, violation code `sandbox-itself`).',
    source: ['PRODUCT.md "The sandbox"', 'openapi #/components/schemas/WebhookUrl'],
    unobservable: 'applies to the local sandbox server only, which a deployment-neutral suite cannot tell it is talking to (mock/ tests cover it)',
  },
  {
    id: 'R-SBX-003',
    rule: 'A write is acknowledged only after its record is synced: a restart or crash loses no acknowledged write.',
    source: ['PRODUCT.md "The sandbox"'],
    unobservable: 'needs the target to crash (mock/state/crash.test.ts covers the sandbox)',
  },
];
