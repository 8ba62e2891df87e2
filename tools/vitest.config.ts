import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@lepton/source'] },
  test: {
    passWithNoTests: true,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'conformance/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
