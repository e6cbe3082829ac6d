// generated/ is committed; this fails when it no longer matches what openapi/ produces.
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundles, renderBundle } from './generate.ts';

describe('generated/ is fresh', () => {
  it.each(bundles.map((b) => [b.api, b] as const))('%s: bundle and types match the contract', async (_api, b) => {
    const stale: string[] = [];
    for (const [file, expected] of await renderBundle(b.api, b.name)) {
      const actual = await readFile(file, 'utf8').catch(() => '');
      if (actual !== expected) stale.push(relative(process.cwd(), file));
    }
    expect(stale, 'run `npm run generate` and commit generated/').toEqual([]);
  });
});
