// The catalogue, in run order: checks that only read come first, checks that change the
// target after, and the whole-run checks (contract, secret scan) last.
import type { Check } from '../check.ts';
import { accountChecks } from './accounts/index.ts';
import { authChecks } from './auth/index.ts';
import { billingChecks } from './billing/index.ts';
import { environmentChecks } from './environments/index.ts';
import { errorChecks } from './errors/index.ts';
import { isolationChecks } from './isolation/index.ts';
import { keyChecks } from './keys/index.ts';
import { ledgerChecks } from './ledger/index.ts';
import { operationChecks } from './operations/index.ts';
import { sessionChecks } from './session/index.ts';
import { webhookChecks } from './webhooks/index.ts';
import { runChecks } from './run/index.ts';

export const catalogue: Check[] = [
  ...authChecks,
  ...keyChecks,
  ...sessionChecks,
  ...accountChecks,
  ...ledgerChecks,
  ...billingChecks,
  ...webhookChecks,
  ...environmentChecks,
  ...isolationChecks,
  ...operationChecks,
  ...errorChecks.filter((c) => c.id !== 'ERR-007'),
  // The rate-limit probe exhausts the key's bucket, so it runs after every other request.
  ...errorChecks.filter((c) => c.id === 'ERR-007'),
  ...runChecks,
];

const ids = new Set<string>();
for (const c of catalogue) {
  if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
  ids.add(c.id);
}
