import { defineConfig } from 'vitest/config';

// The suites that load a whole two-region twin (both apps under generated load, a region killed, workflows run)
// judge the outcome after waits sized for a machine doing only that. On two cores they run after the rest, one at
// a time, instead of competing with every other suite for the CPU.
const WHOLE_TWIN_UNDER_LOAD = ['tests/integration/drills.test.ts', 'tests/integration/pipeline-e2e.test.ts', 'tests/integration/dashboard-browser.test.ts', 'tests/integration/rotate-cli.test.ts', 'tests/integration/fix-failover.test.ts', 'tests/integration/chaos-matrix.test.ts'];

export default defineConfig({
  test: {
    // Integration suites start emulators; forks isolate their native handles.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'suites', include: ['tests/**/*.test.ts', 'dashboard/src/**/*.test.ts'], exclude: WHOLE_TWIN_UNDER_LOAD, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'twin-under-load', include: WHOLE_TWIN_UNDER_LOAD, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
