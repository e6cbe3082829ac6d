// Mutants of this area: each breaks exactly one rule row (conformance/rules/*.ts).
import { defineMutants } from '../mutant.ts';

export const ledgerMutants = defineMutants([]);
