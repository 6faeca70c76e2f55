import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';

// `npm run test:unit`: the tier a contributor runs in seconds without root, apt, namespaces, a
// browser or the network. Files that need any of those say so in their name: *.root.test.ts
// (namespaces, tc, qemu-ga, iperf), *.e2e.test.ts (whole experiments, the installed package,
// Prometheus evaluating the dashboard and alerts),
// *.browser.test.ts (headless Chromium). `npm test` runs everything.
export default mergeConfig(base, defineConfig({
  test: {
    exclude: ['**/node_modules/**', '**/*.root.test.ts', '**/*.e2e.test.ts', '**/*.browser.test.ts'],
    // No file here measures throughput, so they may share the cores; the slowest ones mostly
    // wait on real timers, so run more files at once than there are cores.
    fileParallelism: true,
    maxWorkers: 4,
    minWorkers: 1,
  },
}));
