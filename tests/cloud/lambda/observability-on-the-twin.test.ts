import { readFileSync } from 'node:fs';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { fromRepositoryRoot } from '../../../infra/repository.js';
import type { DownloadTask } from '../../../services/ports/task-queue.js';
import { EMF_METRICS, type EmfMetricName } from '../../../services/shared/metrics-catalog.js';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { functionOfConstruct, type TwinFunction } from '../../../twin/template/stack-model.js';
import { runId, window } from '../../helpers/samples.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

/**
 * The downloader bundle `cdk synth` built, run on the twin with the template's environment: what it writes to
 * stdout and stderr is what CloudWatch Logs would receive. Its JSON log lines must carry the Lambda context and
 * the task's run, dataset and page; its EMF lines must name declared metrics in the stage's namespace; and the
 * Logs Insights query docs/deploy.md gives operators must find that night's lines with the fields it shows.
 */

const CLIENT_SECRET = 'twin-client-secret';

let stack: TwinStack;
let twin: CloudTwin;
let simulator: RunningSimulator;
let downloader: LambdaEnvironment;
let fn: TwinFunction;

beforeAll(async () => {
  stack = synthesizeTwinStack({ bundle: true });
  twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
  fn = functionOfConstruct(twin.model, 'Services/Downloader');
  simulator = await startSimulator({
    seed: 42,
    vehicles: 20,
    readingsPerVehicle: 10,
    fleetStart: '2026-11-01',
    clientId: fn.environment.FLEET_API_CLIENT_ID,
    clientSecret: CLIENT_SECRET,
  });
  const [secret] = twin.model.secrets.values();
  if (secret === undefined) throw new Error('the stack has no secret');
  twin.secrets.put(secret.arn, CLIENT_SECRET);
  const origin = (variable: string) => new URL(fn.environment[variable] ?? '').origin;
  downloader = new LambdaEnvironment({
    fn,
    environment: twin.environmentOf(fn),
    internet: {
      [origin('FLEET_API_BASE_URL')]: simulator.url,
      [origin('FLEET_API_TOKEN_URL')]: simulator.url,
    },
  });
}, 120_000);

afterAll(async () => {
  await downloader?.stop();
  await simulator?.close();
  await twin?.stop();
  discardTwinStack(stack);
});

const task: DownloadTask = { runId, dataset: 'vehicles', window, page: 1, pageSize: 50_000, totalPages: 1 };
const batch = (...bodies: string[]) => ({
  Records: bodies.map(
    (body, i) =>
      ({
        messageId: `message-${i}`,
        receiptHandle: `receipt-${i}`,
        body,
        attributes: { ApproximateReceiveCount: '1' },
        eventSource: 'aws:sqs',
      }) as unknown as SQSRecord,
  ),
});

const EmfSchema = z.looseObject({
  _aws: z.object({
    CloudWatchMetrics: z.array(
      z.object({
        Namespace: z.string(),
        Dimensions: z.array(z.array(z.string())),
        Metrics: z.array(z.object({ Name: z.string() })),
      }),
    ),
  }),
});

/** The function's output as CloudWatch Logs would hold it: one JSON object per line, or the raw line. */
function outputLines(): (Record<string, unknown> | string)[] {
  // `logs` holds the function's output line by line (LambdaEnvironment reads its pipes in lines).
  return downloader.logs
    .join('\n')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        return line;
      }
    });
}

/** The Logs Insights query under "Logs" in docs/deploy.md, as an operator would paste it. */
function documentedQuery(): string {
  const doc = readFileSync(fromRepositoryRoot('docs/deploy.md'), 'utf8');
  const query = /<!-- logs-insights: one night -->\s*```text\n([\s\S]*?)```/.exec(doc)?.[1];
  if (query === undefined) throw new Error('docs/deploy.md has no Logs Insights query marked "one night"');
  return query;
}

/**
 * Runs the query's `fields` and `filter` commands over the lines, as Logs Insights would over JSON log events
 * (only `=` and `and` in a filter, which is what the documented query uses; anything else fails this test).
 */
function runQuery(query: string, lines: Record<string, unknown>[]) {
  const commands = query.split('|').map((command) => command.trim());
  let rows = lines;
  let fields: string[] = [];
  for (const command of commands) {
    const [verb, ...rest] = command.split(/\s+/);
    const args = rest.join(' ');
    if (verb === 'fields') fields = args.split(',').map((f) => f.trim());
    else if (verb === 'filter') {
      const conditions = args.split(/\s+and\s+/).map((condition) => {
        const match = /^([\w.]+)\s*=\s*"([^"]*)"$/.exec(condition);
        if (match?.[1] === undefined) throw new Error(`this test reads no such condition: ${condition}`);
        return { field: match[1], value: match[2] };
      });
      rows = rows.filter((row) => conditions.every(({ field, value }) => String(row[field]) === value));
    } else if (verb !== 'sort') throw new Error(`this test reads no such command: ${command}`);
  }
  return { fields, rows };
}

describe('the downloader bundle writes what CloudWatch reads', () => {
  it('JSON log lines with the Lambda context and the task, and EMF lines of declared metrics', async () => {
    // Act: the page is stored, then announced again from the lake on a redelivery, beside a message that is no task.
    await expect(downloader.invoke(batch(JSON.stringify(task)))).resolves.toMatchObject({ ok: true });
    await expect(downloader.invoke(batch(JSON.stringify(task), 'not a task'))).resolves.toMatchObject({
      ok: true,
      result: { batchItemFailures: [{ itemIdentifier: 'message-1' }] },
    });

    // Assess
    const lines = outputLines();
    // Every object the function writes is whole JSON (the twin runs the machine's Node.js, whose process warnings,
    // such as the AWS SDK's about Node.js 20, are text lines of the runtime, not of the function).
    expect(lines.filter((line) => typeof line === 'string' && line.startsWith('{'))).toEqual([]);
    const objects = lines.filter((line): line is Record<string, unknown> => typeof line !== 'string');
    const logs = objects.filter((o) => !('_aws' in o));
    expect(logs).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'page already stored; announcing it again',
        service: 'downloader',
        function_name: fn.environment.AWS_LAMBDA_FUNCTION_NAME ?? expect.any(String),
        function_request_id: expect.any(String),
        cold_start: false,
        runId,
        dataset: 'vehicles',
        page: 1,
      }),
      expect.objectContaining({ level: 'ERROR', message: 'page failed', messageId: 'message-1' }),
    ]);
    const emf = objects.filter((o) => '_aws' in o).map((o) => EmfSchema.parse(o));
    const names = emf.flatMap((line) =>
      line._aws.CloudWatchMetrics.flatMap((directive) => {
        expect(directive.Namespace).toBe(fn.environment.POWERTOOLS_METRICS_NAMESPACE);
        return directive.Metrics.map((metric) => {
          const declared = EMF_METRICS[metric.Name as EmfMetricName];
          expect(directive.Dimensions).toEqual([['service', ...declared.dimensions]]);
          return metric.Name;
        });
      }),
    );
    // Both invocations report their duration and API traffic; the first stored a page (no row quarantined).
    expect(names.filter((n) => n === 'StageDuration')).toHaveLength(2);
    expect(names).toEqual(
      expect.arrayContaining(['ApiPageRequests', 'ApiTokenRequests', 'BudgetWaits', 'RowsQuarantined']),
    );
    const pages = emf.find((line) =>
      line._aws.CloudWatchMetrics.some((d) => d.Metrics.some((m) => m.Name === 'ApiPageRequests')),
    );
    expect(pages?.ApiPageRequests).toBe(1);
  }, 60_000);

  // Reads the lines the invocations of the test above wrote.
  it("answers the documented Logs Insights query with that night's lines and every field the query shows", () => {
    const logs = outputLines().filter(
      (line): line is Record<string, unknown> => typeof line !== 'string' && !('_aws' in line),
    );
    const { fields, rows } = runQuery(documentedQuery(), logs);
    expect(rows.length).toBeGreaterThan(0);
    // @-fields are CloudWatch's own (@timestamp, @message); the rest must be in every line the query selects.
    for (const row of rows) {
      for (const field of fields.filter((f) => !f.startsWith('@')))
        expect({ field, in: field in row }).toEqual({ field, in: true });
    }
  });
});
