// Per-operation rules over the whole contract: who may call each operation (auth class, R-OPS)
// and what it answers (success status, envelope, documented statuses, R-OPR). Both families are
// table-driven from generated/openapi.json (table.ts), so a new operation is covered as it lands.
import type { Check } from '../../check.ts';
import { oprChecks } from './opr.ts';
import { opsChecks } from './ops.ts';

export const operationChecks: Check[] = [...opsChecks, ...oprChecks];
