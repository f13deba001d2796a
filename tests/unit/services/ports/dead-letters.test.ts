import type { DeadLetterMessage } from '../../../../services/ports/dead-letters.js';
import { downloadTaskOf, pageStoredSince } from '../../../../services/ports/dead-letters.js';
import { runId, window } from '../../../helpers/samples.js';

const letter = (body: string): DeadLetterMessage => ({
  messageId: 'm-1',
  body,
  receiveCount: 5,
  deadLetteredAt: undefined,
});
const task = { runId, dataset: 'sensors', window, page: 3, pageSize: 100, totalPages: 4 } as const;

describe('a dead letter read as a download task', () => {
  it('is the task its body holds', () => {
    expect(downloadTaskOf(letter(JSON.stringify(task)))).toEqual(task);
  });

  it('is nothing for a body that is not JSON, or JSON that is not a task', () => {
    expect(downloadTaskOf(letter('{"runId": cut'))).toBeUndefined();
    expect(downloadTaskOf(letter(JSON.stringify({ ...task, page: 0 })))).toBeUndefined();
  });

  it('is resolved once the ledger holds its page, and undecided where the ledger cannot tell', async () => {
    const stored = {
      storedPage: async (_run: string, _dataset: string, page: number) =>
        page === 3 ? { rows: 100 } : undefined,
    };
    const missing = { storedPage: async () => undefined };
    await expect(pageStoredSince(letter(JSON.stringify(task)), stored)).resolves.toBe(true);
    await expect(pageStoredSince(letter(JSON.stringify(task)), missing)).resolves.toBe(false);
    await expect(pageStoredSince(letter('not json'), stored)).resolves.toBeUndefined();
    await expect(pageStoredSince(letter(JSON.stringify(task)), undefined)).resolves.toBeUndefined();
    await expect(pageStoredSince(letter(JSON.stringify(task)), {})).resolves.toBeUndefined();
  });
});
