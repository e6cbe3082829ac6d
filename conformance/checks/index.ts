// The catalogue, in run order: checks that only read come first, checks that change the
// target after, and the whole-run checks (contract, secret scan) last.
import type { Check } from '../check.ts';
import { authChecks } from './auth/index.ts';
import { runChecks } from './run/index.ts';

export const catalogue: Check[] = [...authChecks, ...runChecks];

const ids = new Set<string>();
for (const c of catalogue) {
  if (ids.has(c.id)) throw new Error(`duplicate check id ${c.id}`);
  ids.add(c.id);
}
