import { dateFilterWarnings } from '../../../cli/date-filter-warnings.js';

describe('the warning for an API that may ignore the date filters', () => {
  it('warns for a dataset whose rows were mostly outside the window, naming both counts', () => {
    expect(
      dateFilterWarnings({
        outsideWindow: { vehicles: 3, sensors: 250_000 },
        datasets: { vehicles: { pages: 1, rows: 200 }, sensors: { pages: 6, rows: 1_000 } },
      }),
    ).toEqual([
      'most sensors rows the API sent were outside the window (250,000 left out, 1,000 kept): does it ignore the ' +
        'date filters? Check the query names and dateFilter of sensors in the source configuration',
    ]);
  });

  it('says nothing of the few rows of neighbouring nights a rounded window brings', () => {
    expect(
      dateFilterWarnings({
        outsideWindow: { sensors: 12 },
        datasets: { sensors: { pages: 1, rows: 12 } },
      }),
    ).toEqual([]);
  });
});
