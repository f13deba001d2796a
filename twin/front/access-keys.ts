import { createHash } from 'node:crypto';
import type { Caller } from '../iam/iam-authorizer.js';

/** The temporary credentials Lambda hands a function (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). */
export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex').toUpperCase();

/**
 * One made-up session per function: the access key id is what identifies the caller's role at the front, as the
 * key of an assumed-role session identifies it in AWS. Temporary keys start with `ASIA`.
 */
export class CallerRegistry {
  readonly #callers = new Map<string, Caller>();

  /** Issues (or returns again) the credentials of a caller. */
  credentialsFor(caller: Caller): SessionCredentials {
    const via = caller.calledVia === undefined ? '' : `/via/${caller.calledVia}`;
    const seed = digest(`${caller.role.arn}/${caller.sessionName}${via}`);
    const accessKeyId = `ASIA${seed.slice(0, 16)}`;
    this.#callers.set(accessKeyId, caller);
    return { accessKeyId, secretAccessKey: seed.slice(16, 56), sessionToken: `twin-${seed.slice(0, 32)}` };
  }

  callerOf(accessKeyId: string): Caller | undefined {
    return this.#callers.get(accessKeyId);
  }
}
