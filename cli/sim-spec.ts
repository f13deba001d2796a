import * as z from 'zod';
import { wholeNumber } from './args.js';
import { defineCommand } from './command-spec.js';
import { faultFlags, ownFleetFlags } from './common-flags.js';

export const simSpec = defineCommand({
  name: 'sim',
  summary: 'serve the simulated fleet API on 127.0.0.1 until interrupted',
  usage: ['[flags]'],
  description: `Serves the built-in simulator of the fleet API (OAuth client credentials fleet-etl-local /
local-secret, /v1/vehicles and /v1/sensors with total_pages pagination) for pointing other tools, or
etl run --source etl.config.example.json, at it. Ctrl-C stops it and prints what it saw as JSON.`,
  flags: {
    port: { schema: wholeNumber(0, 65_535).default(8_080), value: 'N', help: 'the port (0: any free port)' },
    ...ownFleetFlags,
    'fleet-start': {
      schema: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
        .default(() => new Date(Date.now() - 7 * 86_400_000).toISOString().slice(0, 10)),
      value: 'YYYY-MM-DD',
      help: 'the day the simulated fleet starts; no vehicle exists before it',
      defaultText: 'a week ago, UTC',
    },
    ...faultFlags,
  },
  examples: ['etl sim --port 8080 --vehicles 50 --throttle-rate 0.2'],
  load: async () => (await import('./sim-command.js')).simCommand,
});
