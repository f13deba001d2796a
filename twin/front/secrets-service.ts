import { randomUUID } from 'node:crypto';
import type { TwinSecret } from '../template/stack-model.js';
import { TWIN_ACCOUNT, TWIN_REGION } from '../twin-account.js';
import type { IamCheck } from './iam-check.js';

/**
 * Secrets Manager's GetSecretValue and DescribeSecret over the template's secrets, with values the twin is given
 * (the deploy guide's `put-secret-value` step). A secret encrypted with a customer key is decrypted with the
 * caller's permissions through Secrets Manager (`kms:ViaService`).
 */
export class TwinSecrets {
  readonly #secrets: readonly TwinSecret[];
  readonly #values = new Map<string, { value: string; versionId: string; created: number }>();

  constructor(secrets: Iterable<TwinSecret>) {
    this.#secrets = [...secrets];
  }

  /** Puts a value, as `aws secretsmanager put-secret-value` would after the first deployment. */
  put(secretArn: string, value: string): void {
    this.#values.set(secretArn, { value, versionId: randomUUID(), created: Date.now() / 1000 });
  }

  /** The secret a SecretId names: its ARN, its name, or its ARN without the random suffix. */
  find(secretId: string): TwinSecret | undefined {
    return this.#secrets.find(
      (s) => s.arn === secretId || s.name === secretId || s.arn.replace(/-\w{6}$/, '') === secretId,
    );
  }

  checks(operation: string, secret: TwinSecret): IamCheck[] {
    const checks: IamCheck[] = [{ action: `secretsmanager:${operation}`, resource: secret.arn }];
    if (operation === 'GetSecretValue' && secret.kmsKeyArn !== undefined) {
      checks.push({
        action: 'kms:Decrypt',
        resource: secret.kmsKeyArn,
        context: {
          'kms:ViaService': `secretsmanager.${TWIN_REGION}.amazonaws.com`,
          'kms:CallerAccount': TWIN_ACCOUNT,
        },
      });
    }
    return checks;
  }

  /** The response body of an allowed call, or undefined when the secret has no value yet. */
  answer(operation: string, secret: TwinSecret): Record<string, unknown> | undefined {
    const stored = this.#values.get(secret.arn);
    if (operation === 'DescribeSecret') return { ARN: secret.arn, Name: secret.name };
    if (stored === undefined) return undefined;
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: stored.versionId,
      SecretString: stored.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: stored.created,
    };
  }
}
