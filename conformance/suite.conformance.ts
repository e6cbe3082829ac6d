// The vitest module the CLI runs: one test per check of the catalogue, in catalogue order,
// against the target in PACSPACE_CONFORMANCE_CONFIG. Checks whose inputs were not given are
// skipped with the reason. Named *.conformance.ts so the project's own `vitest run` does not
// pick it up without a target.
import { afterAll, describe, it } from 'vitest';
import { catalogue } from './checks/index.ts';
import { skipReason } from './check.ts';
import { configFromEnv } from './config.ts';
import { createContext } from './context.ts';

const config = configFromEnv();
const ctx = createContext(config);
const selected = catalogue.filter(
  (c) => (config.only.length === 0 || config.only.includes(c.id)) && !config.skip.includes(c.id),
);

describe.sequential('PacSpace conformance', () => {
  afterAll(() => ctx.cleanup());
  for (const check of selected) {
    it(`${check.id} ${check.rule}`, async (t) => {
      const reason = skipReason(check, config);
      if (reason) {
        t.skip(reason);
        return;
      }
      await check.run(ctx);
    });
  }
});
