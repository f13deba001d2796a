import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from '../../../cli/args.js';
import { eventsCommand } from '../../../cli/events-command.js';
import { envelope } from '../../helpers/fakes.js';
import { stdoutOf } from '../../helpers/stdout.js';

const event = JSON.stringify(envelope('EtlDone', { runId: '2026-11-24' }));

describe('etl events test-pattern', () => {
  it('prints true when the pattern matches, as aws events test-event-pattern answers', async () => {
    const pattern = JSON.stringify({ source: ['fleet-etl'], detail: { runId: [{ prefix: '2026-11' }] } });
    expect(await stdoutOf(() => eventsCommand(['test-pattern', pattern, event]))).toEqual({
      code: 0,
      out: 'true\n',
    });
  });

  it('prints false when it does not', async () => {
    const pattern = JSON.stringify({ 'detail-type': ['EtlFailed'] });
    expect(await stdoutOf(() => eventsCommand(['test-pattern', pattern, event]))).toEqual({
      code: 0,
      out: 'false\n',
    });
  });

  it('reads file:// arguments', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pattern-')), 'event.json');
    writeFileSync(file, event);
    const pattern = JSON.stringify({ 'replay-name': [{ exists: false }] });
    expect((await stdoutOf(() => eventsCommand(['test-pattern', pattern, `file://${file}`]))).out).toBe(
      'true\n',
    );
  });

  it('refuses a pattern the local bus cannot evaluate as EventBridge does, saying why', async () => {
    const pattern = JSON.stringify({ source: [{ wildcard: 'a**' }] });
    await expect(eventsCommand(['test-pattern', pattern, event])).rejects.toThrow(UsageError);
    await expect(eventsCommand(['test-pattern', pattern, event])).rejects.toThrow(
      /invalid pattern: PATTERN_JSON\.source\[0\]\.wildcard: consecutive wildcard/,
    );
  });

  it('names the argument that is not JSON, and an event missing envelope fields', async () => {
    await expect(eventsCommand(['test-pattern', '{source', event])).rejects.toThrow(
      /PATTERN_JSON is not valid JSON/,
    );
    await expect(eventsCommand(['test-pattern', '{"source":["x"]}', '{"source":"x"}'])).rejects.toThrow(
      /EVENT_JSON is not an EventBridge event/,
    );
  });
});
