/**
 * Replay names, apart from the replay itself (which loads the local runtime), so that `etl replay --help` and its
 * flag declarations stay light.
 */

/** EventBridge's rule for replay names (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_StartReplay.html). */
export const REPLAY_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;

/** `replay-20261125T093000Z`: unique enough for one machine, and valid in AWS too. */
export function defaultReplayName(now: Date): string {
  return `replay-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')}`;
}
