import { defineConfig } from 'vitest/config';

// The conformance runner lives beside the tools project but has its own suite (run here: `npx vitest run`).
export default defineConfig({
  resolve: { conditions: ['@lepton/source'] },
  test: {
    include: ['**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
