// The mutants match the rule inventory: every rule a client can observe has at least one mutant
// breaking it, and every mutant names rules that exist and are checked.
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../conformance/checks/index.ts';
import { rules, statusOf } from '../../conformance/rules.ts';
import { checksFor, enforcing } from './checks-for.ts';
import { mutants } from './mutants/index.ts';
import { singleVariations, variations } from './variations.ts';

describe('mutants ↔ rule inventory', () => {
  const byId = new Map(rules.map((r) => [r.id, r]));

  it('every mutant names existing, checked rules and has a kebab-case id starting with its first rule\'s area', () => {
    const problems: string[] = [];
    for (const m of mutants) {
      if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(m.id)) problems.push(`${m.id}: not kebab-case`);
      if (!m.rules.length) problems.push(`${m.id}: names no rule`);
      for (const id of m.rules) {
        const rule = byId.get(id);
        if (!rule) problems.push(`${m.id}: unknown rule ${id}`);
        else if (!rule.checks?.length) problems.push(`${m.id}: rule ${id} has no check to catch it`);
      }
      const area = m.rules[0]?.split('-')[1]?.toLowerCase();
      if (area && !m.id.startsWith(`${area}-`)) problems.push(`${m.id}: should start with "${area}-"`);
    }
    expect(problems).toEqual([]);
  });

  it('every rule a client can observe has at least one mutant', () => {
    const broken = new Set(mutants.flatMap((m) => m.rules));
    const missing = rules.filter((r) => statusOf(r) !== 'not observable' && !broken.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
  });

  it('there are well over 100 mutants, and variations are named apart from them', () => {
    expect(mutants.length).toBeGreaterThan(100);
    const ids = new Set(mutants.map((m) => m.id));
    expect([...variations, ...singleVariations].filter((v) => ids.has(v.id))).toEqual([]);
    // Every single variation is part of what `npm test` runs, alone or combined.
    const covered = variations.flatMap((v) => v.parts ?? [v.id]);
    expect(covered.sort()).toEqual(singleVariations.map((v) => v.id).sort());
  });

  it('a mutant runs the checks of its rules (whole-run ones beside them), or the whole suite when only whole-run checks enforce them', () => {
    const ids = new Set(catalogue.map((c) => c.id));
    for (const m of mutants) for (const c of checksFor(m)) expect(ids.has(c)).toBe(true);
    const wholeRunOnly = rules.find((r) => r.checks?.length && r.checks.every((c) => c === 'CONTRACT-001' || c === 'REVEAL-002'))!;
    expect(checksFor({ rules: [wholeRunOnly.id] })).toEqual([]);
    const mixed = rules.find((r) => r.checks?.includes('REVEAL-002') && r.checks.some((c) => c !== 'REVEAL-002' && c !== 'CONTRACT-001'))!;
    expect(checksFor({ rules: [mixed.id] }).sort()).toEqual([...mixed.checks!].sort());
    const narrow = rules.find((r) => r.checks?.length && !r.checks.some((c) => c === 'CONTRACT-001' || c === 'REVEAL-002'))!;
    expect(checksFor({ rules: [narrow.id] })).toEqual(narrow.checks);
  });

  it('a mutant is caught only by the checks of its rules, whole-run ones included; one naming no checked rule by any', () => {
    const wholeRunOnly = rules.find((r) => r.checks?.length && r.checks.every((c) => c === 'CONTRACT-001' || c === 'REVEAL-002'))!;
    expect([...enforcing({ rules: [wholeRunOnly.id] })].sort()).toEqual([...wholeRunOnly.checks!].sort());
    const two = rules.filter((r) => r.checks?.length).slice(0, 2);
    expect([...enforcing({ rules: two.map((r) => r.id) })].sort()).toEqual([...new Set(two.flatMap((r) => r.checks!))].sort());
    expect(enforcing({ rules: [] }).size).toBe(0);
  });
});
