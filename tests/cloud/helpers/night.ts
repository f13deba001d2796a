import { DetailType } from '../../../events/index.js';
import type { RunningSimulator } from '../../../simulator/index.js';
import type { CloudTwin } from '../../../twin/cloud-twin.js';
import { LambdaEnvironment } from '../../../twin/lambda/lambda-runner.js';
import { QueueMapping } from '../../../twin/lambda/queue-mapping.js';
import { functionOfConstruct, type TwinFunction } from '../../../twin/template/stack-model.js';

/** The function of a construct of the stack's Services. */
export const serviceFn = (twin: CloudTwin, construct: string): TwinFunction =>
  functionOfConstruct(twin.model, `Services/${construct}`);

/** Execution environments a test starts, so that it stops them all. */
export class Environments {
  readonly #started: LambdaEnvironment[] = [];

  constructor(
    private readonly twin: CloudTwin,
    private readonly simulator: RunningSimulator,
  ) {}

  /** An environment of the function, its calls to the fleet API's origins answered by the simulator. */
  start(fn: TwinFunction, extra: Record<string, string> = {}): LambdaEnvironment {
    const api = [fn.environment.FLEET_API_BASE_URL, fn.environment.FLEET_API_TOKEN_URL].flatMap((url) =>
      url === undefined ? [] : [new URL(url).origin],
    );
    const environment = new LambdaEnvironment({
      fn,
      environment: { ...this.twin.environmentOf(fn), ...extra },
      internet: Object.fromEntries(api.map((origin) => [origin, this.simulator.url])),
    });
    this.#started.push(environment);
    return environment;
  }

  async stopAll(): Promise<void> {
    for (const environment of this.#started) await environment.stop();
  }
}

/**
 * A night's downloads on the twin, up to DownloadsDrained: the schedule fires the planner, the tasks queue feeds the
 * downloader until it is empty, the bus routes the plans and pages to the completion tracker.
 */
export async function downloadNight(twin: CloudTwin, environments: Environments, fired: Date): Promise<void> {
  const planner = serviceFn(twin, 'Planner');
  twin.bus.attach(planner, environments.start(planner));
  const schedule = twin.model.scheduledRules.find((r) => r.targets.some((t) => t.arn === planner.arn));
  if (schedule === undefined) throw new Error('no schedule targets the planner');
  twin.bus.fireSchedule(schedule.arn, fired);
  await twin.bus.deliverPending({ to: [planner.logicalId] });
  const downloader = serviceFn(twin, 'Downloader');
  const mapping = twin.model.queueMappings.find((m) => m.functionLogicalId === downloader.logicalId);
  const queue = [...twin.model.queues.values()].find((q) => q.arn === mapping?.queueArn);
  if (mapping === undefined || queue === undefined) throw new Error('no queue feeds the downloader');
  const poller = new QueueMapping({
    mapping,
    queue,
    environment: environments.start(downloader),
    endpoint: twin.endpoint,
    credentials: twin.credentialsOf(downloader),
  });
  while ((await poller.pollOnce()) !== undefined);
  poller.close();
  const tracker = serviceFn(twin, 'CompletionTracker');
  twin.bus.attach(tracker, environments.start(tracker));
  await twin.bus.deliverPending({ to: [tracker.logicalId] });
  if (!twin.events.events.some((e) => e.detailType === DetailType.DownloadsDrained))
    throw new Error(`the night's downloads did not drain; refusals: ${JSON.stringify(twin.refusals)}`);
}
