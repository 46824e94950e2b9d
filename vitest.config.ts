import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Inference workers and ffmpeg children are real processes; two files at a time fit a 2-core machine.
    maxWorkers: 2,
    pool: 'forks',
  },
});
