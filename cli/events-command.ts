import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { type ArchivedEvent, envelopeOf, readArchive, runIdOf, selectEvents } from '../local/archive.js';
import { compilePattern, EventPatternError, matchesPattern } from '../local/event-pattern.js';
import { progressLine } from '../local/progress.js';
import { stateLayout } from '../local/runtime.js';
import { describeError } from '../services/shared/errors.js';
import { UsageError } from './args.js';
import { parseFlags } from './command-spec.js';
import { eventsSpec } from './events-spec.js';
import { renderTable } from './render.js';

/**
 * `etl events`: what happened, from the local archive, one line per event (time, detail-type, run, summary), to
 * see a run's story and pick a replay window. `etl events test-pattern PATTERN EVENT` checks a rule's pattern
 * against an event as `aws events test-event-pattern` does, with the local bus's matcher.
 */
export async function eventsCommand(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'test-pattern') return testPattern(argv.slice(1));
  const flags = parseFlags(eventsSpec, argv);
  const { archive } = stateLayout(flags['state-dir']);
  const { events, truncatedLastLine } = readArchive(archive);
  const selected = selectEvents(events, {
    detailTypes: flags['detail-type'],
    ...(flags.run === undefined ? {} : { runId: flags.run }),
    ...(flags.since === undefined ? {} : { since: flags.since }),
    ...(flags.until === undefined ? {} : { until: flags.until }),
  });
  const rows = selected.map(row);
  if (flags.json) {
    // With the envelopes themselves, for `etl events test-pattern` and other tools.
    const listed = selected.map((event) => ({ ...row(event), event: envelopeOf(event) }));
    process.stdout.write(`${JSON.stringify({ archive, events: listed })}\n`);
    return 0;
  }
  if (truncatedLastLine !== undefined) {
    process.stderr.write(
      `skipped line ${truncatedLastLine} of ${archive}: cut short by a crash while appending\n`,
    );
  }
  process.stdout.write(`${rows.length} of ${events.length} archived event(s) in ${archive}\n`);
  if (rows.length > 0) {
    const table = rows.map((r) => ({
      time: r.time,
      detail_type: r.detailType,
      run: r.runId ?? '',
      summary: r.summary,
    }));
    process.stdout.write(`${renderTable(['time', 'detail_type', 'run', 'summary'], table)}\n`);
  }
  return 0;
}

function row(event: ArchivedEvent) {
  let summary: string;
  try {
    summary = progressLine(event) ?? '';
  } catch (error) {
    // An event that no longer parses (an older schema version) is still listed, with why it did not.
    summary = `(does not match today's schema: ${describeError(error).split('\n')[0]})`;
  }
  return { id: event.id, time: event.time, detailType: event['detail-type'], runId: runIdOf(event), summary };
}

/** The fields TestEventPattern requires of an event (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TestEventPattern.html). */
const TestEventSchema = z.looseObject({
  id: z.string(),
  account: z.string(),
  source: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  'detail-type': z.string(),
});

function testPattern(argv: readonly string[]): number {
  if (argv.length !== 2) {
    throw new UsageError(
      'etl events test-pattern takes PATTERN_JSON and EVENT_JSON (each inline or file://PATH)',
    );
  }
  const [patternText = '', eventText = ''] = argv;
  const pattern = jsonArgument(patternText, 'PATTERN_JSON');
  const event = jsonArgument(eventText, 'EVENT_JSON');
  const envelope = TestEventSchema.safeParse(event);
  if (!envelope.success) {
    throw new UsageError(`EVENT_JSON is not an EventBridge event: ${z.prettifyError(envelope.error)}`);
  }
  try {
    process.stdout.write(`${matchesPattern(compilePattern(pattern, 'PATTERN_JSON'), event)}\n`);
  } catch (error) {
    if (error instanceof EventPatternError) throw new UsageError(`invalid pattern: ${error.message}`);
    throw error;
  }
  return 0;
}

/** JSON given inline or, as the AWS CLI takes it, as `file://path`. */
function jsonArgument(text: string, name: string): unknown {
  let source = text;
  if (text.startsWith('file://')) {
    try {
      source = readFileSync(text.slice('file://'.length), 'utf8');
    } catch (error) {
      throw new UsageError(`${name}: cannot read ${text}: ${describeError(error)}`);
    }
  }
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new UsageError(`${name} is not valid JSON: ${describeError(error)}`);
  }
}
