import { defineConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The vitest configuration every workspace package uses: a `unit` project (pure, fast, beside the
 * code) and an `integration` project (real QEMU, real /proc, real processes; run one file at a time).
 */
export function vmmVitestConfig(options: { integrationTimeoutMs?: number } = {}): ViteUserConfig {
  const timeout = options.integrationTimeoutMs ?? 120_000;
  return defineConfig({
    test: {
      projects: [
        {
          extends: true,
          test: {
            name: 'unit',
            include: ['src/**/*.test.ts', 'test/**/*.unit.test.ts'],
            typecheck: { enabled: true, include: ['src/**/*.test-d.ts', 'test/**/*.test-d.ts'] },
          },
        },
        {
          extends: true,
          test: {
            name: 'integration',
            include: ['test/**/*.integration.test.ts'],
            testTimeout: timeout,
            hookTimeout: timeout,
            fileParallelism: false,
          },
        },
      ],
    },
  });
}
