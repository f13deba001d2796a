import { DetailType, toOutgoingEvent } from '../../../events/index.js';
import { declaredPublisher, UndeclaredDetailTypeError } from '../../../local/declared-publisher.js';
import { RecordingPublisher } from '../../helpers/fakes.js';
import { validDetails } from '../../helpers/samples.js';

const { schemaVersion: _pp, ...plannedInput } = validDetails.PagesPlanned;
const { schemaVersion: _ef, ...failedInput } = validDetails.EtlFailed;
const planned = toOutgoingEvent(DetailType.PagesPlanned, plannedInput);
const failed = toOutgoingEvent(DetailType.EtlFailed, failedInput);

describe('a service’s publisher on the local bus', () => {
  it('sends the detail-types the service declares', async () => {
    const bus = new RecordingPublisher();
    const publisher = declaredPublisher('planner', { publishes: ['PagesPlanned', 'EtlFailed'] }, bus);

    await publisher.publish([planned, failed]);

    expect(bus.events.map((e) => e.detailType)).toEqual(['PagesPlanned', 'EtlFailed']);
  });

  it('refuses a call with an undeclared detail-type, naming the service and the type, and sends none of it', async () => {
    const bus = new RecordingPublisher();
    const publisher = declaredPublisher('planner', { publishes: ['PagesPlanned'] }, bus);

    const refused = publisher.publish([planned, failed]);

    await expect(refused).rejects.toThrow(UndeclaredDetailTypeError);
    await expect(refused).rejects.toThrow(
      'service planner may not publish EtlFailed: services/topology.ts declares that it publishes PagesPlanned',
    );
    expect(bus.events).toEqual([]);
  });

  it('refuses everything for a service that declares it publishes nothing', async () => {
    const publisher = declaredPublisher('report', { publishes: [] }, new RecordingPublisher());

    await expect(publisher.publish([failed])).rejects.toThrow(
      'service report may not publish EtlFailed: services/topology.ts declares that it publishes nothing',
    );
  });
});
