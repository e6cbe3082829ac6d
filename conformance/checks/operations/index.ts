// Per-operation rules over the whole contract: who may call each operation (auth class) and what
// it answers (success status, envelope, documented statuses).
import type { Check } from '../../check.ts';

export const operationChecks: Check[] = [];
