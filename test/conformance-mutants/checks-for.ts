// Which checks a mutant must be caught by: those that enforce its rules in the inventory.
import { catalogue } from '../../conformance/checks/index.ts';
import { runChecks } from '../../conformance/checks/run/index.ts';
import { rules } from '../../conformance/rules.ts';
import type { Mutant } from './mutant.ts';

const ruleById = new Map(rules.map((r) => [r.id, r]));
const wholeRun = new Set(runChecks.map((c) => c.id));
const catalogueIds = new Set(catalogue.map((c) => c.id));

/** Every check that enforces one of a mutant's rules (whole-run ones included): a mutant is caught only when one of them fails. */
export function enforcing(mutant: Pick<Mutant, 'rules'>): Set<string> {
  return new Set(mutant.rules.flatMap((id) => ruleById.get(id)?.checks ?? []).filter((c) => catalogueIds.has(c)));
}

/**
 * The check ids that enforce a mutant's rules; [] means "the whole suite". A whole-run check
 * (contract validation, secret scan) judges the exchanges of the checks that ran beside it: with
 * other checks of the rules it runs with them; alone it needs the whole suite.
 */
export function checksFor(mutant: Pick<Mutant, 'rules'>): string[] {
  const ids = new Set<string>();
  for (const id of mutant.rules) for (const c of ruleById.get(id)?.checks ?? []) ids.add(c);
  const known = [...ids].filter((c) => catalogueIds.has(c));
  return known.every((c) => wholeRun.has(c)) ? [] : known;
}

