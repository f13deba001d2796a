import type middy from '@middy/core';
import type { SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import type { EmfEmitter } from '../adapters/aws/lambda/emf-metrics.js';
import { parseTaskRecord } from './handler.js';

/** What the downloader's handler answers before the partial-batch middleware turns it into batchItemFailures. */
const SettledPagesSchema = z.array(
  z.union([
    z.object({ status: z.literal('fulfilled'), value: z.object({ rejectedRows: z.number().int().min(0) }) }),
    z.object({ status: z.literal('rejected') }),
  ]),
);

/**
 * Emits `RowsQuarantined` per dataset from the pages an invocation stored: the one number of a page that no event
 * carries (PageDownloaded has rows, bytes and the rows outside the window). Added to the handler after the
 * partial-batch middleware, so Middy runs its `after` first, while the response is still the settled outcome of
 * each record, in the records' order (Promise.allSettled keeps it). Part of the downloader's Lambda entry
 * (lambda.ts), in a file of its own so that a test can use it without the entry's environment.
 */
export function quarantinedRowsMetric(metrics: EmfEmitter): middy.MiddlewareObj<SQSEvent> {
  return {
    after: (request) => {
      const settled = SettledPagesSchema.safeParse(request.response);
      if (!settled.success) return;
      const byDataset = new Map<string, number>();
      settled.data.forEach((outcome, index) => {
        const record = request.event.Records[index];
        if (outcome.status !== 'fulfilled' || record === undefined) return;
        const { dataset } = parseTaskRecord(record);
        byDataset.set(dataset, (byDataset.get(dataset) ?? 0) + outcome.value.rejectedRows);
      });
      metrics.emit(
        [...byDataset].map(([dataset, value]) => ({
          name: 'RowsQuarantined',
          value,
          dimensions: { Dataset: dataset },
        })),
      );
    },
  };
}
