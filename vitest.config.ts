import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real sshd/lab namespaces: keep files from fighting over them.
    fileParallelism: true,
    maxWorkers: 2,
    pool: 'forks',
  },
});
