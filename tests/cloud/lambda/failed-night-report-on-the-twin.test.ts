/**
 * The report bundle on the cloud twin, for a night that failed: the night is downloaded (the ledger has its plans
 * and pages), then the query runner announces that a SQL file failed. The report's rule routes that EtlFailed to the
 * report, which reads the run ledger with its role's one DynamoDB grant (Query) and writes report.json and
 * report.html to the results bucket, every request authorized as IAM would.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DetailType, EVENT_SOURCE } from '../../../events/index.js';
import { AnyReportSchema } from '../../../services/report/write-report.js';
import { type RunningSimulator, startSimulator } from '../../../simulator/index.js';
import { CloudTwin } from '../../../twin/cloud-twin.js';
import { unusedActions } from '../../../twin/iam/grant-usage.js';
import { roleOf } from '../../../twin/template/stack-model.js';
import { TWIN_REGION } from '../../../twin/twin-account.js';
import { downloadNight, Environments, serviceFn } from '../helpers/night.js';
import { discardTwinStack, synthesizeTwinStack, type TwinStack } from '../helpers/twin-stack.js';

const NIGHT = '2026-11-24';
const FIRED = new Date('2026-11-25T01:00:00.000Z');
const FLEET = { seed: 7, vehicles: 12, readingsPerVehicle: 20, fleetStart: NIGHT };
const CLIENT_SECRET = 'twin-client-secret';
const FAILED_FILE = '30_sensor_data.sql';

let stack: TwinStack;

beforeAll(() => {
  stack = synthesizeTwinStack({ bundle: true, config: { fleetApi: { pageSize: 40 } } });
}, 120_000);

afterAll(() => discardTwinStack(stack));

describe('the report of a failed night, on the cloud twin', () => {
  let twin: CloudTwin;
  let simulator: RunningSimulator;
  let environments: Environments;

  beforeAll(async () => {
    twin = await CloudTwin.start({ assemblyDir: stack.assemblyDir });
    simulator = await startSimulator({
      ...FLEET,
      clientId: serviceFn(twin, 'Planner').environment.FLEET_API_CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
    const secret = [...twin.model.secrets.values()][0];
    if (secret === undefined) throw new Error('no secret');
    twin.secrets.put(secret.arn, CLIENT_SECRET);
    environments = new Environments(twin, simulator);
    await downloadNight(twin, environments, FIRED);

    // The query runner's failure, as it publishes one: with its role, on the stage's bus.
    const runner = serviceFn(twin, 'QueryRunner');
    const events = new EventBridgeClient({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      credentials: twin.credentialsOf(runner),
    });
    try {
      const put = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: runner.environment.EVENT_BUS_NAME,
              Source: EVENT_SOURCE,
              DetailType: DetailType.EtlFailed,
              Detail: JSON.stringify({
                schemaVersion: 1,
                runId: NIGHT,
                stage: 'query-runner',
                file: FAILED_FILE,
                reason: `${FAILED_FILE}: line 3: syntax error`,
              }),
            },
          ],
        }),
      );
      expect(put.FailedEntryCount).toBe(0);
    } finally {
      events.destroy();
    }
    const report = serviceFn(twin, 'Report');
    twin.bus.attach(report, environments.start(report));
    await twin.bus.deliverPending({ to: [report.logicalId] });
  }, 240_000);

  afterAll(async () => {
    await environments?.stopAll();
    await simulator?.close();
    await twin?.stop();
  });

  it('routes the EtlFailed to the report, which succeeds with nothing refused', () => {
    const report = serviceFn(twin, 'Report');
    const delivered = twin.bus.outcomes.filter(
      (o) => o.kind === 'invoked' && o.functionLogicalId === report.logicalId,
    );
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.kind === 'invoked' && delivered[0].failureDestination).toBeUndefined();
    expect(twin.refusals).toEqual([]);
  });

  it('writes report.json saying what failed and where the night stopped, from the ledger', async () => {
    const report = serviceFn(twin, 'Report');
    const s3 = new S3Client({
      region: TWIN_REGION,
      endpoint: twin.endpoint,
      forcePathStyle: true,
      credentials: twin.credentialsOf(report),
    });
    try {
      const read = async (key: string) =>
        (await (
          await s3.send(new GetObjectCommand({ Bucket: report.environment.RESULTS_BUCKET, Key: key }))
        ).Body?.transformToString()) ?? '';
      const json = AnyReportSchema.parse(JSON.parse(await read(`reports/run=${NIGHT}/report.json`)));
      if (json.status !== 'failed') throw new Error(`expected a failed night's report, got ${json.status}`);
      expect(json.failure).toEqual({
        stage: 'query-runner',
        file: FAILED_FILE,
        reason: `${FAILED_FILE}: line 3: syntax error`,
      });
      expect(json.drained).toBe(true);
      for (const dataset of ['vehicles', 'sensors'] as const) {
        const reached = json.datasets[dataset];
        expect(reached?.plannedPages).toBeGreaterThan(0);
        expect(reached?.storedPages).toBe(reached?.plannedPages);
      }
      const html = await read(`reports/run=${NIGHT}/report.html`);
      expect(html).toContain(`stopped at ${FAILED_FILE}`);
    } finally {
      s3.destroy();
    }
  });

  it('was granted Query on the run ledger, and used it', () => {
    const role = roleOf(twin.model, serviceFn(twin, 'Report'));
    const granted = role.policies.flatMap((policy) =>
      policy.document.Statement.flatMap((statement) =>
        statement.Effect === 'Allow' ? [statement.Action].flat() : [],
      ),
    );
    expect(granted.filter((action) => action?.startsWith('dynamodb:'))).toEqual(['dynamodb:Query']);
    const unused = unusedActions(role, twin.authorizer.allowedRequests()).map((grant) => grant.action);
    expect(unused).not.toContain('dynamodb:Query');
  });
});
