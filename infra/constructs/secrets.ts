import type { RemovalPolicy } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export interface PipelineSecretsProps {
  stage: string;
  key: IKey;
  removalPolicy: RemovalPolicy;
  /** The GitHub token secret exists only when the SQL files come from GitHub. */
  githubToken: boolean;
}

const ROTATION_REASON =
  'Issued by a third party (the fleet API provider, GitHub), not by a service Secrets Manager can rotate: an ' +
  'operator puts the new value with put-secret-value when the provider rotates it (docs/deploy.md). The ' +
  'functions re-read it within 5 minutes (SecretsManagerSecrets cache).';

/**
 * The secrets the functions read at run time by ARN (FLEET_API_SECRET_ID, GITHUB_TOKEN_SECRET_ID). CloudFormation
 * creates them with a random placeholder, so no value is ever in the template, the environment or the code; the
 * operator puts the real value once after the first deployment.
 */
export class PipelineSecrets extends Construct {
  /** The fleet API's OAuth client secret (the client id is configuration, not a secret). */
  readonly fleetApiClientSecret: Secret;
  readonly githubToken: Secret | undefined;

  constructor(scope: Construct, id: string, props: PipelineSecretsProps) {
    super(scope, id);
    this.fleetApiClientSecret = new Secret(this, 'FleetApiClientSecret', {
      secretName: `fleet-etl/${props.stage}/fleet-api-client-secret`,
      description:
        'OAuth client secret of the fleet API (client credentials grant); put the real value after deploy',
      encryptionKey: props.key,
      removalPolicy: props.removalPolicy,
    });
    acknowledge(this.fleetApiClientSecret, ['AwsSolutions-SMG4'], ROTATION_REASON);
    if (props.githubToken) {
      this.githubToken = new Secret(this, 'GitHubToken', {
        secretName: `fleet-etl/${props.stage}/github-token`,
        description: 'GitHub token with read access to the SQL folder; put the real value after deploy',
        encryptionKey: props.key,
        removalPolicy: props.removalPolicy,
      });
      acknowledge(this.githubToken, ['AwsSolutions-SMG4'], ROTATION_REASON);
    }
  }
}
