// Plan and usage: the billing summary and the Free plan's limit.
import type { Check } from '../../check.ts';

export const billingChecks: Check[] = [];
