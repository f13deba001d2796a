import * as z from 'zod';
import { allDetailTypes } from '../events/index.js';
import { defineCommand } from './command-spec.js';
import { jsonFlag, stateDirFlag } from './common-flags.js';
import { instantFlag } from './time-flags.js';

export const eventsSpec = defineCommand({
  name: 'events',
  summary: 'list the archived events of the bus, or test an event pattern against an event',
  usage: ['[flags]', 'test-pattern PATTERN_JSON EVENT_JSON'],
  description: `Lists the events in <state-dir>/events/archive.ndjson: time, detail-type, run and a one-line summary
(with --json, the envelopes too). T is a UTC day YYYY-MM-DD or a time with its zone. test-pattern prints
true or false as aws events test-event-pattern does; each JSON is inline or file://PATH.`,
  flags: {
    run: { schema: z.string().min(1).optional(), value: 'ID', help: 'only the events of this run' },
    'detail-type': {
      schema: z.array(z.enum(allDetailTypes)).default([]),
      value: 'TYPE',
      multiple: true,
      choices: allDetailTypes,
      help: `only events of this detail-type: ${allDetailTypes.join(', ')}`,
    },
    since: { schema: instantFlag.optional(), value: 'T', help: 'only events at or after T' },
    until: { schema: instantFlag.optional(), value: 'T', help: 'only events before T' },
    'state-dir': stateDirFlag,
    json: jsonFlag,
  },
  operands: ['test-pattern'],
  examples: [
    'etl events --run 2026-11-24 --detail-type EtlFailed',
    `etl events test-pattern '{"detail-type":["EtlDone"]}' file://event.json`,
  ],
  load: async () => (await import('./events-command.js')).eventsCommand,
});
