import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { SensorRow, VehicleRow } from '../services/shared/rows.js';

export interface PageEnvelope {
  page: number;
  page_size: number;
  total_pages: number;
  total_items: number;
}

/** Rows per write: big enough that syscalls do not dominate, small enough to interleave concurrent pages. */
const ROWS_PER_CHUNK = 2_000;

/** Where a body is cut short (a fault): in the middle of row `row`, or of the envelope when the page has no rows. */
export interface BodyCut {
  row: number;
  /** Drop the connection (the client sees a network error) rather than end the response cleanly. */
  dropConnection: boolean;
}

export type BodyOutcome = 'served' | 'cut' | 'client-gone';

/**
 * Writes the envelope and its rows as JSON, a chunk at a time, honouring backpressure. Rows are serialised by
 * hand in the schema's key order: a 50,000-row page is never held as one array of objects nor stringified twice.
 * With `cut`, the body stops halfway through row `cut.row` (or through the envelope, for a page without rows).
 */
export async function writePageBody<Row>(
  response: ServerResponse,
  envelope: PageEnvelope,
  rows: Iterable<Row>,
  serialise: (row: Row) => string,
  cut?: BodyCut,
): Promise<BodyOutcome> {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  let chunk: string[] = [];
  let separator = '';
  let pending = `{"page":${envelope.page},"page_size":${envelope.page_size},"total_pages":${envelope.total_pages},"total_items":${envelope.total_items},"data":[`;
  let index = 0;
  for (const row of rows) {
    if (cut !== undefined && index === cut.row) {
      const text = serialise(row);
      const partial = chunk.length > 0 ? `${separator}${chunk.join(',')},` : separator;
      return stopShort(response, `${pending}${partial}${text.slice(0, Math.ceil(text.length / 2))}`, cut);
    }
    index += 1;
    chunk.push(serialise(row));
    if (chunk.length === ROWS_PER_CHUNK) {
      pending += separator + chunk.join(',');
      separator = ',';
      chunk = [];
      if (!(await write(response, pending))) {
        return 'client-gone';
      }
      pending = '';
    }
  }
  if (cut !== undefined) {
    // No rows to cut into: cut the envelope.
    return stopShort(response, pending.slice(0, Math.max(1, Math.floor(pending.length / 2))), cut);
  }
  if (chunk.length > 0) {
    pending += separator + chunk.join(',');
  }
  response.end(`${pending}]}`);
  return 'served';
}

function stopShort(response: ServerResponse, text: string, cut: BodyCut): BodyOutcome {
  if (cut.dropConnection) {
    response.write(text);
    // Not `destroy()` at once: the text should reach the client, then the connection breaks mid-body.
    setImmediate(() => response.destroy());
  } else {
    response.end(text);
  }
  return 'cut';
}

/** Resolves false when the client went away, so generation stops instead of filling a dead socket. */
async function write(response: ServerResponse, text: string): Promise<boolean> {
  if (response.destroyed) {
    return false;
  }
  if (!response.write(text)) {
    const stopWaiting = new AbortController();
    const { signal } = stopWaiting;
    try {
      await Promise.race([once(response, 'drain', { signal }), once(response, 'close', { signal })]);
    } finally {
      stopWaiting.abort();
    }
  }
  return !response.destroyed;
}

export function sensorJson(row: SensorRow): string {
  const value = row.sensor_value === null ? 'null' : row.sensor_value;
  return `{"vehicle_id":${JSON.stringify(row.vehicle_id)},"timestamp":${row.timestamp},"sensor_value":${value},"created_at":"${row.created_at}"}`;
}

export function vehicleJson(row: VehicleRow): string {
  return `{"vehicle_id":${JSON.stringify(row.vehicle_id)},"vehicle_type":${JSON.stringify(row.vehicle_type)},"created_at":"${row.created_at}"}`;
}
