import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Integration suites start emulators; forks isolate their native handles.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
