import type { Secrets } from '../../services/ports/secrets.js';
import { isRetryable } from '../../services/shared/errors.js';
import { type AdapterFixture, describeContract } from './adapter-fixture.js';

export interface SecretsUnderTest {
  secrets: Secrets;
  /** Stores a value as the deployment would (put-secret-value, an exported variable); undefined removes it. */
  store(name: string, value: string | undefined): void;
}

const NAME = 'fleet-api/client-secret';

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected the call to fail');
  return error;
}

/** What the fleet API client relies on, whether the secret comes from Secrets Manager or the environment. */
export function secretsContract(fixture: AdapterFixture<SecretsUnderTest>): void {
  describeContract('Secrets', fixture, (fresh) => {
    it('gives the stored value, to every caller at once', async () => {
      const { secrets, store } = await fresh();
      store(NAME, 's3cr3t-value');
      expect(await Promise.all([1, 2, 3].map(() => secrets.get(NAME)))).toEqual([
        's3cr3t-value',
        's3cr3t-value',
        's3cr3t-value',
      ]);
    });

    it('refuses a secret that is not set, naming it, as a failure retrying cannot mend', async () => {
      const { secrets } = await fresh();
      const error = await failureOf(secrets.get(NAME));
      expect(error.message).toContain(`"${NAME}"`);
      expect(isRetryable(error)).toBe(false);
    });

    it('refuses an empty value, naming the secret, as a failure retrying cannot mend', async () => {
      const { secrets, store } = await fresh();
      store(NAME, '');
      const error = await failureOf(secrets.get(NAME));
      expect(error.message).toContain(`"${NAME}"`);
      expect(isRetryable(error)).toBe(false);
    });

    it('gives the rotated value once the old one is forgotten, and never names a value in an error', async () => {
      const { secrets, store } = await fresh();
      store(NAME, 'before-rotation');
      expect(await secrets.get(NAME)).toBe('before-rotation');

      store(NAME, 'after-rotation');
      secrets.forget?.(NAME);

      expect(await secrets.get(NAME)).toBe('after-rotation');
      store(NAME, undefined);
      secrets.forget?.(NAME);
      expect((await failureOf(secrets.get(NAME))).message).not.toContain('rotation');
    });
  });
}
