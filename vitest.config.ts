import { defineConfig } from 'vitest/config'

// Two projects: unit tests, and end-to-end tests (`*.e2e.test.ts`: real processes, real git, big
// files), which are slower and run after them. `npm test` runs both; `npx vitest --project unit`
// runs the quick ones.
export default defineConfig({
  test: {
    // The AWS SDK warns on every load that Node 20 support ends; the version is pinned on purpose.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'src/**/*.test.ts',
            'bench/**/*.test.ts',
            'lint/**/*.test.ts',
            'services/**/*.test.ts',
          ],
          exclude: ['**/*.e2e.test.ts', 'node_modules/**', 'dist/**'],
          testTimeout: 30_000,
          // Bounds every property test's time, shrinking included (see the file).
          setupFiles: ['./vitest.setup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['src/**/*.e2e.test.ts', 'services/**/*.e2e.test.ts'],
          testTimeout: 120_000,
          setupFiles: ['./vitest.setup.ts'],
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
