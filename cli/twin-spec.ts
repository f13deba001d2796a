import * as z from 'zod';
import { wholeNumber } from './args.js';
import { defineCommand } from './command-spec.js';
import { jsonFlag, ownFleetFlags } from './common-flags.js';
import { calendarDayFlag } from './time-flags.js';

export const TWIN_ACTIONS = ['run'] as const;

export const twinSpec = defineCommand({
  name: 'twin',
  summary: 'rehearse a deployment: one night of the synthesized stack on the cloud twin',
  usage: ['run [flags]'],
  description: `Synthesizes the stack as cdk synth does with the same -c settings (-c FILE.json is
-c fleet-etl:configFile=FILE.json), or takes the assembly --app names, and runs one night of it on the cloud
twin: the real bundles, every AWS call authorized by the template's IAM on loopback, the fleet API simulated.
Prints the stages reached, each denied call with the grant that would allow it, and a verdict: exit 0 when
the night reached EtlDone (or the furthest stage the twin emulates) with nothing refused or failed, 1
otherwise. What the twin does not emulate: twin/README.md.`,
  flags: {
    date: {
      schema: calendarDayFlag.optional(),
      value: 'YYYY-MM-DD',
      help: 'the night to run',
      defaultText: 'yesterday, UTC',
    },
    context: {
      schema: z.array(z.string().min(1)).default([]),
      value: 'KEY=VALUE|FILE.json',
      short: 'c',
      multiple: true,
      help: "a cdk context setting, as cdk synth's -c takes it, or the deployment configuration file",
    },
    app: {
      schema: z.string().min(1).optional(),
      value: 'DIR',
      help: 'a cloud assembly already synthesized (cdk.out) instead of synthesizing',
    },
    ...ownFleetFlags,
    'max-rounds': {
      schema: wholeNumber(1, 1_000).default(50),
      value: 'N',
      help: 'rounds of deliveries and queue polls before the night is declared stuck',
    },
    json: { ...jsonFlag, help: 'print the night report as the last line on stdout' },
  },
  operands: TWIN_ACTIONS,
  examples: ['etl twin run --date 2026-11-24 -c deploy/prod.json', 'etl twin run --app cdk.out --json'],
  load: async () => (await import('./twin-command.js')).twinCommand,
});
