import type { EventBridgeEvent } from 'aws-lambda';
import { TWIN_ACCOUNT, TWIN_REGION } from '../twin-account.js';

/**
 * An event as EventBridge delivers it to a target and matches it against patterns: the envelope around what
 * PutEvents was given (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html). A replayed
 * event carries the replay's name, which is how rules tell replays from live events.
 */
export type BusEvent = EventBridgeEvent<string, unknown> & { 'replay-name'?: string };

/** An entry PutEvents accepted, as the front recorded it. */
export interface AcceptedEntry {
  id: string;
  busArn: string;
  source: string;
  detailType: string;
  detail: unknown;
  /** ISO time: the entry's Time, or when it was put. */
  time: string;
  resources: readonly string[];
}

export function busEventOf(entry: AcceptedEntry): BusEvent {
  return {
    version: '0',
    id: entry.id,
    'detail-type': entry.detailType,
    source: entry.source,
    account: TWIN_ACCOUNT,
    // EventBridge's time has whole seconds.
    time: entry.time.replace(/\.\d+Z$/, 'Z'),
    region: TWIN_REGION,
    resources: [...entry.resources],
    detail: entry.detail,
  };
}
