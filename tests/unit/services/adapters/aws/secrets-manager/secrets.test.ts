import {
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { SecretsManagerSecrets } from '../../../../../../services/adapters/aws/secrets-manager/secrets.js';
import { TerminalError, TransientError } from '../../../../../../services/shared/errors.js';
import { clientConfig, deferred, manualClock } from '../factories.js';

const client = new SecretsManagerClient(clientConfig);
const secretsManager = mockClient(client);
const NAME = 'fleet-etl/api-client-secret';
const VALUE = 's3cr3t-value-do-not-log';

beforeEach(() => {
  secretsManager.reset();
});

describe('SecretsManagerSecrets', () => {
  it('reads a secret by name and serves it from memory within the TTL', async () => {
    const clock = manualClock();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: NAME })
      .resolves({ Name: NAME, SecretString: VALUE });
    const secrets = new SecretsManagerSecrets(client, { clock });

    expect(await secrets.get(NAME)).toBe(VALUE);
    clock.advance(5 * 60_000 - 1);
    expect(await secrets.get(NAME)).toBe(VALUE);

    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: NAME },
    ]);
  });

  it('reads it again after forget, so a value the provider refused (rotated) is replaced at once', async () => {
    const clock = manualClock();
    secretsManager
      .on(GetSecretValueCommand, { SecretId: NAME })
      .resolvesOnce({ Name: NAME, SecretString: VALUE })
      .resolvesOnce({ Name: NAME, SecretString: 'rotated-value' });
    const secrets = new SecretsManagerSecrets(client, { clock });

    expect(await secrets.get(NAME)).toBe(VALUE);
    secrets.forget(NAME);

    expect(await secrets.get(NAME)).toBe('rotated-value');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads it again once the TTL has passed, so a rotation is picked up', async () => {
    const clock = manualClock();
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'old' })
      .resolvesOnce({ SecretString: 'rotated' });
    const secrets = new SecretsManagerSecrets(client, { clock, ttlMs: 60_000 });

    expect(await secrets.get(NAME)).toBe('old');
    clock.advance(60_000);
    expect(await secrets.get(NAME)).toBe('rotated');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('sends one request for concurrent callers of the same name', async () => {
    const answer = deferred<Partial<GetSecretValueCommandOutput>>();
    secretsManager.on(GetSecretValueCommand, { SecretId: NAME }).callsFake(() => answer.promise);
    secretsManager.on(GetSecretValueCommand, { SecretId: 'other' }).resolves({ SecretString: 'other-value' });
    const secrets = new SecretsManagerSecrets(client);

    const callers = Promise.all([
      secrets.get(NAME),
      secrets.get(NAME),
      secrets.get(NAME),
      secrets.get('other'),
    ]);
    answer.resolve({ SecretString: VALUE });

    expect(await callers).toEqual([VALUE, VALUE, VALUE, 'other-value']);
    expect(
      secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input.SecretId),
    ).toEqual([NAME, 'other']);
  });

  it('does not cache a failure: the next caller asks again', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(
        new InternalServiceError({ message: 'internal error', $metadata: { httpStatusCode: 500 } }),
      )
      .resolves({ SecretString: VALUE });
    const secrets = new SecretsManagerSecrets(client);

    await expect(secrets.get(NAME)).rejects.toThrow(TransientError);
    expect(await secrets.get(NAME)).toBe(VALUE);
  });

  it('names the secret but never its value when a refresh fails', async () => {
    const clock = manualClock();
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: VALUE })
      .rejects(
        new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: {},
        }),
      );
    const secrets = new SecretsManagerSecrets(client, { clock });
    await secrets.get(NAME);
    clock.advance(10 * 60_000);

    const error: unknown = await secrets.get(NAME).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TerminalError);
    expect(String(error)).toContain(`reading secret "${NAME}" failed: ResourceNotFoundException`);
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(VALUE);
    expect(String(error instanceof Error ? error.cause : '')).not.toContain(VALUE);
  });

  it('refuses a secret without a SecretString', async () => {
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

    await expect(new SecretsManagerSecrets(client).get(NAME)).rejects.toThrow(/has no SecretString/);
  });
});
