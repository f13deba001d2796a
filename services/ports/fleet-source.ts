import type { Dataset, DateWindow } from '../../events/index.js';

export interface PageRequest {
  dataset: Dataset;
  window: DateWindow;
  page: number;
  pageSize: number;
}

/** One page as the API returned it, rows already validated against the dataset's row schema. */
export interface FetchedPage {
  totalPages: number;
  rows: unknown[];
}

/** The fleet REST API (OAuth, `total_pages` pagination). The simulator and real APIs sit behind it. */
export interface FleetSource {
  fetchPage(request: PageRequest): Promise<FetchedPage>;
}
