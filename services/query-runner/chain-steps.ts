import { createHash } from 'node:crypto';
import { DetailType, type FleetEvent } from '../../events/index.js';
import type { ObjectStore } from '../ports/object-store.js';

const ATTEMPT = /^[0-9A-Za-z-]{1,128}$/;

/**
 * The chain of SQL files an event belongs to: the id of the DownloadsDrained that started it, which every
 * SqlFileExecuted of the chain carries on (`attempt`). An id that would not make a safe key (not an EventBridge or
 * local bus id) is hashed. A SqlFileExecuted from before `attempt` existed is its own chain, as it used to be.
 */
export function chainOf(event: FleetEvent): string {
  const id =
    event['detail-type'] === DetailType.SqlFileExecuted ? (event.detail.attempt ?? event.id) : event.id;
  return ATTEMPT.test(id) ? id : createHash('sha256').update(id).digest('hex');
}

/**
 * Which steps of a chain were announced: step `index` is SqlFileExecuted of file `index`, step `total` is EtlDone.
 * A step is recorded after its event went out, so a redelivery of the event that led to it (EventBridge is at
 * least once) finds it and announces nothing again: the chain does not fork. Recording after publishing keeps the
 * chain going if the runner dies in between (the redelivery announces the step again, at least once); two copies
 * of an event handled at the same moment can still both announce, and then the next step is where they meet.
 */
export class ChainSteps {
  constructor(private readonly store: ObjectStore) {}

  static key(runId: string, chain: string, step: number): string {
    return `query-runner/run=${runId}/chain=${chain}/step-${String(step).padStart(4, '0')}.json`;
  }

  async announced(runId: string, chain: string, step: number): Promise<boolean> {
    return this.store.exists(ChainSteps.key(runId, chain, step));
  }

  async record(runId: string, chain: string, step: number, detailType: string): Promise<void> {
    await this.store.put(
      ChainSteps.key(runId, chain, step),
      JSON.stringify({ runId, chain, step, detailType }),
      { contentType: 'application/json' },
    );
  }
}
