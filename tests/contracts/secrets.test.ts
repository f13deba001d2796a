import { jest } from '@jest/globals';
import { SecretsManagerSecrets } from '../../services/adapters/aws/secrets-manager/secrets.js';
import { EnvSecrets } from '../../services/adapters/local/env-secrets.js';
import { type SecretsManagerStub, startSecretsManagerStub } from './emulators/secrets-manager-stub.js';
import { secretsContract } from './secrets.contract.js';

// A case takes milliseconds; the margin is for a machine busy with other tests (jest's default is 5 s).
jest.setTimeout(20_000);

secretsContract({
  name: 'EnvSecrets over an environment of its own',
  fresh: async () => {
    const env: NodeJS.ProcessEnv = {};
    return {
      secrets: new EnvSecrets(env),
      store: (name, value) => {
        if (value === undefined) delete env[EnvSecrets.variableFor(name)];
        else env[EnvSecrets.variableFor(name)] = value;
      },
    };
  },
});

let stub: SecretsManagerStub;
secretsContract({
  name: 'SecretsManagerSecrets over a GetSecretValue stub on loopback',
  start: async () => {
    stub = await startSecretsManagerStub();
  },
  stop: () => stub.stop(),
  fresh: async () => {
    stub.values.clear();
    return {
      secrets: new SecretsManagerSecrets(stub.client),
      store: (name, value) => {
        if (value === undefined) stub.values.delete(name);
        else stub.values.set(name, value);
      },
    };
  },
});
