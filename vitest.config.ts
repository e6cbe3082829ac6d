import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // The packaging test builds, packs and installs the packages: `npm run test:packaging`.
    exclude: ['**/node_modules/**', '**/dist/**', 'test/packaging/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
