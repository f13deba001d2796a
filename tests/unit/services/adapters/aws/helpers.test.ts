import { classifyAwsError } from '../../../../../services/adapters/aws/aws-error.js';
import { batchesOf } from '../../../../../services/adapters/aws/batches.js';
import { backoffDelayMs, retryPolicy } from '../../../../../services/adapters/aws/retry.js';
import { TerminalError, TransientError } from '../../../../../services/shared/errors.js';
import { serviceError } from './factories.js';

describe('classifyAwsError', () => {
  it.each([
    ['throttling by name', serviceError('ThrottlingException', 400)],
    ['HTTP 429', serviceError('SomethingNew', 429)],
    ['a server fault', serviceError('InternalServerException', 500)],
    ['HTTP 503', serviceError('ServiceUnavailable', 503)],
    ['an SDK timeout', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a retryable trait', Object.assign(serviceError('Whatever', 400), { $retryable: {} })],
    ['an unknown error', new Error('something odd')],
  ])('calls %s transient', (_, error) => {
    const classified = classifyAwsError(error, 'doing it');

    expect(classified).toBeInstanceOf(TransientError);
    expect(classified.cause).toBe(error);
  });

  it.each([
    ['a validation error', serviceError('ValidationException', 400)],
    ['access denied', serviceError('AccessDeniedException', 403)],
    ['a missing resource', serviceError('ResourceNotFoundException', 404)],
  ])('calls %s terminal', (_, error) => {
    expect(classifyAwsError(error, 'doing it')).toBeInstanceOf(TerminalError);
  });

  it('says what was being done, the error name, status and message', () => {
    expect(classifyAwsError(serviceError('ValidationException', 400, 'bad input'), 'writing x').message).toBe(
      'writing x failed: ValidationException (HTTP 400): bad input',
    );
  });

  it('passes errors already classified through unchanged', () => {
    const terminal = new TerminalError('already decided');

    expect(classifyAwsError(terminal, 'x')).toBe(terminal);
  });
});

describe('batchesOf', () => {
  const limits = {
    maxCount: 3,
    maxBytes: 10,
    sizeOf: (s: string) => s.length,
    label: (s: string) => `entry ${s}`,
  };

  it('cuts by count and by bytes, keeping order', () => {
    expect(batchesOf(['a', 'b', 'c', 'd'], limits)).toEqual([['a', 'b', 'c'], ['d']]);
    expect(batchesOf(['aaaaa', 'bbbbb', 'c', 'ddd'], limits)).toEqual([
      ['aaaaa', 'bbbbb'],
      ['c', 'ddd'],
    ]);
    expect(batchesOf([], limits)).toEqual([]);
  });

  it('refuses an entry that alone is over the byte limit', () => {
    expect(() => batchesOf(['a', 'kkkkkkkkkkk'], limits)).toThrow(
      'entry kkkkkkkkkkk is 11 bytes, over the 10-byte limit',
    );
  });
});

describe('backoffDelayMs', () => {
  it('doubles the ceiling per failure, caps it, and jitters below it', () => {
    const top = retryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999_999 });

    expect([1, 2, 3, 4, 5, 6].map((failures) => backoffDelayMs(failures, top))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelayMs(3, retryPolicy({ random: () => 0 }))).toBe(0);
  });

  it('refuses a policy without attempts', () => {
    expect(() => retryPolicy({ maxAttempts: 0 })).toThrow(RangeError);
  });
});
