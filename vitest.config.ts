import { defineConfig } from 'vitest/config';

const shared = {
  globalSetup: ['test/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
};

export default defineConfig({
  test: {
    // A test that cannot fail is a defect: a file without tests is an error.
    passWithNoTests: false,
    projects: [
      {
        test: {
          ...shared,
          name: 'suite',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ['test/boot.test.ts', 'test/outage*.test.ts', 'test/browser/**'],
          // Test files mostly wait on PostgreSQL and loopback HTTP, so run a few more than the 2 cores.
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...shared,
          // The console in Debian's Chromium (playwright-core): one browser at a time, after the suite.
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          maxWorkers: 1,
          testTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          // Start-up times are measured on a quiet machine: after everything else, alone.
          name: 'boot',
          include: ['test/boot.test.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          ...shared,
          // Outages are timed (ready again within 10 s): one at a time, after everything else.
          name: 'outage',
          include: ['test/outage*.test.ts'],
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
