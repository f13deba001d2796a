import { jest } from '@jest/globals';
import type { RunningSimulator } from '../../simulator/index.js';
import { FakeSource } from '../helpers/fakes.js';
import { fleetSource, simulator } from '../integration/simulator/factories.js';
import { fleetSourceContract } from './fleet-source.contract.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

fleetSourceContract({
  name: 'FakeSource (the fake of the unit tests)',
  fresh: async () => ({
    source: new FakeSource({
      vehicles: Array.from({ length: 37 }, (_, i) => ({ vehicle_id: `v-${i}`, vehicle_type: 'bus' })),
      sensors: Array.from({ length: 1_234 }, (_, i) => ({ vehicle_id: `v-${i % 37}`, timestamp: i })),
    }),
  }),
});

let sim: RunningSimulator;
fleetSourceContract({
  name: 'FleetApiSource over the fleet API simulator',
  start: async () => {
    sim = await simulator();
  },
  stop: () => sim.close(),
  fresh: async () => ({ source: fleetSource(sim.url) }),
});
