import * as z from 'zod';
import { allDetailTypes } from '../events/index.js';
import { REPLAY_NAME } from '../local/replay-name.js';
import { wholeNumber } from './args.js';
import { defineCommand } from './command-spec.js';
import { jsonFlag, stateDirFlag, waitFlag } from './common-flags.js';
import { instantFlag } from './time-flags.js';

export const BUS_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/([.\-_A-Za-z0-9]+)$/;
const ARCHIVE_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:archive\/.+$/;
const RULE_ARN = /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:rule\/.+$/;

export const replaySpec = defineCommand({
  name: 'replay',
  summary: "send archived events again to the consumers' rules, locally or as an EventBridge replay",
  usage: ['[--since T] [--until T] [--consumer NAME ...] [flags]'],
  description: `Sends the archived events of <state-dir>/events/archive.ndjson again, with replay-name, to the
rules of the named consumers (every rule when none is named). T is a UTC day YYYY-MM-DD or a time with its
zone. The ledger and the query stage ignore replays, so a replay never redoes pipeline work. With
--archive-arn and --bus-arn (and --since, --until) it starts an EventBridge replay in AWS and follows it to
its end (credentials and region from the AWS environment).`,
  flags: {
    since: { schema: instantFlag.optional(), value: 'T', help: 'events at or after T' },
    until: { schema: instantFlag.optional(), value: 'T', help: 'events before T' },
    'detail-type': {
      schema: z.array(z.enum(allDetailTypes)).default([]),
      value: 'TYPE',
      multiple: true,
      choices: allDetailTypes,
      help: 'only events of this detail-type (locally)',
    },
    consumer: {
      schema: z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'expected a consumer name')).default([]),
      value: 'NAME',
      multiple: true,
      help: "send to this consumer's rule, e.g. report",
      defaultText: 'every rule',
    },
    'state-dir': stateDirFlag,
    'replay-name': {
      schema: z.string().regex(REPLAY_NAME, '1 to 64 letters, digits, ".", "-" or "_"').optional(),
      value: 'NAME',
      help: 'the replay-name the events carry',
      defaultText: 'replay-<UTC time>',
    },
    'archive-arn': {
      schema: z.string().regex(ARCHIVE_ARN, 'expected an EventBridge archive ARN').optional(),
      value: 'ARN',
      help: 'replay this EventBridge archive in AWS (with --bus-arn)',
    },
    'bus-arn': {
      schema: z.string().regex(BUS_ARN, 'expected an EventBridge bus ARN').optional(),
      value: 'ARN',
      help: 'the bus the AWS replay sends to',
    },
    'rule-arn': {
      schema: z.array(z.string().regex(RULE_ARN, 'expected an EventBridge rule ARN')).default([]),
      value: 'ARN',
      multiple: true,
      help: 'in AWS, send to this rule',
    },
    'poll-seconds': {
      schema: wholeNumber(1, 3_600).default(5),
      value: 'S',
      help: 'in AWS, how often the replay is looked at',
    },
    json: jsonFlag,
    wait: waitFlag(),
  },
  examples: ['etl replay --since 2026-11-24 --until 2026-11-25 --consumer report'],
  load: async () => (await import('./replay-command.js')).replayCommand,
});
