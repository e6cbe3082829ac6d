// Runs the catalogue against a target with vitest and turns vitest's results into a report.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startVitest } from 'vitest/node';
import type { Reporter, TestCase } from 'vitest/node';
import { catalogue } from './checks/index.ts';
import { CONFIG_ENV, type ConformanceConfig } from './config.ts';
import type { CheckResult, RunReport } from './report/format.ts';
import { createRedactor } from './report/redact.ts';

const here = dirname(fileURLToPath(import.meta.url));

export async function runConformance(config: ConformanceConfig): Promise<RunReport> {
  const startedAt = new Date();
  const redact = createRedactor([config.password, config.apiKey, config.apiKey?.split('.')[1]]);
  const byId = new Map(catalogue.map((c) => [c.id, c]));
  const results: CheckResult[] = [];

  const collector: Reporter = {
    onTestCaseResult(test: TestCase) {
      const id = test.name.split(' ')[0]!;
      const check = byId.get(id);
      const result = test.result();
      const status = result.state === 'passed' ? 'passed' : result.state === 'failed' ? 'failed' : 'skipped';
      const message =
        result.state === 'failed'
          ? (result.errors ?? []).map((e) => e.message).join('\n')
          : result.state === 'skipped'
            ? result.note
            : undefined;
      results.push({
        id,
        rule: check?.rule ?? test.name,
        source: check?.source ?? '',
        status,
        ...(message ? { message: redact(message) } : {}),
        durationMs: Math.round(test.diagnostic()?.duration ?? 0),
      });
    },
  };

  const vitest = await startVitest(
    'test',
    [],
    {
      watch: false,
      config: false,
      root: here,
      include: ['suite.conformance.ts'],
      reporters: [collector],
      env: { [CONFIG_ENV]: JSON.stringify(config) },
      testTimeout: 120_000,
      hookTimeout: 120_000,
      fileParallelism: false,
    },
    { logLevel: 'silent' },
  );
  await vitest?.close();
  const order = new Map(catalogue.map((c, i) => [c.id, i]));
  results.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
  return { target: config.baseUrl, startedAt: startedAt.toISOString(), durationMs: Date.now() - startedAt.getTime(), results };
}

export const suiteFile = join(here, 'suite.conformance.ts');
