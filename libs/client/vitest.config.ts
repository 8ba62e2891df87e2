import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@lepton/source'] },
  test: {
    passWithNoTests: true,
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
