import { defineConfig } from 'vitest/config';

// Everything (`npm test`). Root tests build real namespaces, qemu-ga and iperf traffic: they share two CPU cores and
// measure throughput, so they run one file at a time to keep their ratios meaningful.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
