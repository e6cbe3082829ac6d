// Whole-run checks: they judge every exchange the other checks recorded, so they run last.
import { defineCheck } from '../../check.ts';
import { ensure } from '../../lib/assert.ts';
import { loadContract } from '../../lib/contract.ts';

export const runChecks = [
  defineCheck({
    id: 'CONTRACT-001',
    rule: 'Every response of the run matches the contract: documented status, body schema and required headers.',
    source: 'openapi/ (generated/openapi.json)',
    needs: [],
    async run(ctx) {
      const contract = loadContract();
      const problems = ctx.recorder.exchanges.flatMap((ex) => contract.check(ex).map((p) => `#${ex.id} ${p}`));
      ensure(problems.length === 0, `${problems.length} response(s) break the contract:\n${problems.slice(0, 20).join('\n')}`);
    },
  }),
  defineCheck({
    id: 'REVEAL-002',
    rule: 'No secret seen in the run appears in any response body or header other than the one that revealed it.',
    source: 'PRODUCT.md Keys (reveal-once); seed 001; OWASP API3:2023',
    needs: [],
    async run(ctx) {
      const leaks: string[] = [];
      for (const ex of ctx.recorder.exchanges) {
        const haystack = `${JSON.stringify(ex.headers)}\n${ex.setCookies.join('\n')}\n${ex.text}`;
        for (const secret of ctx.secrets.all()) {
          if (!secret.revealedIn.has(ex.id) && haystack.includes(secret.value)) {
            leaks.push(`#${ex.id} ${ex.method} ${ex.path} → ${ex.status} contains ${secret.label}`);
          }
        }
      }
      ensure(leaks.length === 0, `secrets leaked:\n${leaks.join('\n')}`);
    },
  }),
];
