import { MAX_PAGE_SIZE } from '../../../simulator/index.js';
import { parsePageQuery } from '../../../simulator/page-query.js';

function query(overrides: Record<string, string | undefined> = {}): URLSearchParams {
  const params: Record<string, string | undefined> = {
    fromCreationDate: '2026-03-02T00:00:00.000Z',
    toCreationDate: '2026-03-03T00:00:00.000Z',
    timeZone: 'UTC',
    pageSize: '500',
    page: '2',
    ...overrides,
  };
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) search.set(name, value);
  }
  return search;
}

describe('parsePageQuery', () => {
  it('accepts a well-formed query', () => {
    const result = parsePageQuery(query());

    expect(result).toEqual({
      ok: true,
      query: {
        fromCreationDate: '2026-03-02T00:00:00.000Z',
        toCreationDate: '2026-03-03T00:00:00.000Z',
        timeZone: 'UTC',
        pageSize: 500,
        page: 2,
      },
    });
  });

  it('accepts instants with an offset and any IANA zone', () => {
    const result = parsePageQuery(
      query({
        fromCreationDate: '2026-03-02T01:00:00+01:00',
        toCreationDate: '2026-03-03T01:00:00+01:00',
        timeZone: 'Europe/Madrid',
      }),
    );

    expect(result.ok).toBe(true);
  });

  it('defaults page to 1 and the time zone to UTC', () => {
    const result = parsePageQuery(query({ page: undefined, timeZone: undefined }));

    expect(result.ok && result.query).toMatchObject({ page: 1, timeZone: 'UTC' });
  });

  it.each([
    ['pageSize', String(MAX_PAGE_SIZE + 1)],
    ['pageSize', '0'],
    ['pageSize', '1e3'],
    ['page', '0'],
    ['page', '-1'],
    ['timeZone', 'Mars/Olympus_Mons'],
    ['fromCreationDate', '2026-03-02'],
    ['toCreationDate', 'tomorrow'],
  ])('names %s when it is %s', (parameter, value) => {
    const result = parsePageQuery(query({ [parameter]: value }));

    expect(result).toMatchObject({ ok: false, error: { error: 'invalid_request', parameter } });
    expect(result.ok || result.error.message).toContain(parameter);
  });

  it('names a missing date', () => {
    const result = parsePageQuery(query({ fromCreationDate: undefined }));

    expect(result).toMatchObject({ ok: false, error: { parameter: 'fromCreationDate' } });
  });

  it('refuses a window that ends before it starts', () => {
    const result = parsePageQuery(query({ toCreationDate: '2026-03-01T00:00:00.000Z' }));

    expect(result).toMatchObject({ ok: false, error: { parameter: 'toCreationDate' } });
  });
});
