// Every mutant, one file per area of the rule inventory.
import type { Mutant } from '../mutant.ts';
import { authAndKeysMutants } from './auth-and-keys.ts';
import { errorsAndHeadersMutants } from './errors-and-headers.ts';
import { ledgerMutants } from './ledger.ts';
import { operationsAndSchemasMutants } from './operations-and-schemas.ts';
import { sessionsAndAccountsMutants } from './sessions-and-accounts.ts';
import { webhooksMutants } from './webhooks.ts';

export const mutants: Mutant[] = [
  ...authAndKeysMutants,
  ...sessionsAndAccountsMutants,
  ...ledgerMutants,
  ...webhooksMutants,
  ...errorsAndHeadersMutants,
  ...operationsAndSchemasMutants,
];

const ids = new Set<string>();
for (const m of mutants) {
  if (ids.has(m.id)) throw new Error(`duplicate mutant id ${m.id}`);
  ids.add(m.id);
}
