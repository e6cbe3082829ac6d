import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // The packaging test builds, packs and installs the packages: `npm run test:packaging`.
    exclude: ['**/node_modules/**', '**/dist/**', 'test/packaging/**'],
    // Most test time is waiting on sockets, timers and child processes, not computing: more
    // workers than the 2 cores of the CI machine (each test file starts its own sandbox).
    maxWorkers: 4,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
