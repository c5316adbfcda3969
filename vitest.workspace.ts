import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the `agentrix-source` export
// condition), so tests never run against a stale build.
// Only add our condition to vite's defaults: vitest hands these conditions to node, which then
// applies them to CommonJS `require` too, so listing `import` here would make `require('pg')`
// load ESM files.
const conditions = ['agentrix-source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions: ['agentrix-source', 'module', 'browser', 'development|production'] },
  ssr: { resolve: { conditions, externalConditions: ['agentrix-source'] } },
  test: {
    reporters: ['default', './scripts/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/src/**/*.int.test.ts', 'tests/**/*.int.test.ts', 'examples/**/*.int.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
