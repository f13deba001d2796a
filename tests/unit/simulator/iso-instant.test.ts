import fc from 'fast-check';
import { IsoInstantFormatter } from '../../../simulator/iso-instant.js';

describe('IsoInstantFormatter', () => {
  it('formats any instant exactly as Date#toISOString does', () => {
    const formatter = new IsoInstantFormatter();

    fc.assert(
      fc.property(fc.integer({ min: 0, max: Date.parse('9999-12-31T23:59:59.999Z') }), (epochMs) => {
        return formatter.format(epochMs) === new Date(epochMs).toISOString();
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the date right when consecutive instants cross midnight', () => {
    const formatter = new IsoInstantFormatter();
    const midnight = Date.parse('2026-03-02T00:00:00.000Z');

    const formatted = [midnight - 1, midnight, midnight + 1].map((ms) => formatter.format(ms));

    expect(formatted).toEqual([
      '2026-03-01T23:59:59.999Z',
      '2026-03-02T00:00:00.000Z',
      '2026-03-02T00:00:00.001Z',
    ]);
  });
});
