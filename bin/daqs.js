#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npx daqs` from a checkout never runs stale output.
import { register } from 'tsx/esm/api';

register();
const { runMain } = await import('../src/cli/main.ts');
await runMain(process.argv.slice(2));
