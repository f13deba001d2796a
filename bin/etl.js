#!/usr/bin/env node
// The `etl` command runs the TypeScript sources directly through tsx, so what developers edit is what runs.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../infra/local/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
