import type { PageRequest } from '../../ports/fleet-source.js';
import { type DatasetSource, filterBounds } from '../../source-config/index.js';

/** The URL of one page: the dataset's endpoint with the configured parameter names and date format. */
export function pageUrl(source: DatasetSource, { window, page, pageSize, fullSnapshot }: PageRequest): URL {
  const url = new URL(source.endpoint);
  const { query } = source;
  for (const [name, value] of Object.entries(query.fixed)) url.searchParams.set(name, value);
  // A snapshot asks for every row: no date filter, and no time zone for a filter that is not there.
  if (fullSnapshot !== true) {
    const bounds = filterBounds(window, source.dateFilter);
    url.searchParams.set(query.from, bounds.from);
    url.searchParams.set(query.to, bounds.to);
    if (query.timeZone !== null) url.searchParams.set(query.timeZone, window.timeZone);
  }
  url.searchParams.set(query.pageSize, String(pageSize));
  url.searchParams.set(query.page, String(page));
  return url;
}
