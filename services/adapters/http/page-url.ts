import type { PageRequest } from '../../ports/fleet-source.js';
import { type DatasetSource, filterBounds } from '../../source-config/index.js';

/** The URL of one page: the dataset's endpoint with the configured parameter names and date format. */
export function pageUrl(source: DatasetSource, { window, page, pageSize }: PageRequest): URL {
  const url = new URL(source.endpoint);
  const { query } = source;
  const bounds = filterBounds(window, source.dateFilter);
  for (const [name, value] of Object.entries(query.fixed)) url.searchParams.set(name, value);
  url.searchParams.set(query.from, bounds.from);
  url.searchParams.set(query.to, bounds.to);
  if (query.timeZone !== null) url.searchParams.set(query.timeZone, window.timeZone);
  url.searchParams.set(query.pageSize, String(pageSize));
  url.searchParams.set(query.page, String(page));
  return url;
}
