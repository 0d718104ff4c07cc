import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Test files are mostly waiting on PostgreSQL and loopback HTTP, so run more than the cores.
    maxWorkers: 4,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A test that cannot fail is a defect: a file without tests is an error.
    passWithNoTests: false,
  },
});
