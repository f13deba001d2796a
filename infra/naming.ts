/**
 * Names of the stage's named resources. Everything else gets a CloudFormation-generated name, so two stages can
 * share an account and a redeploy never collides with a retained resource.
 */
export interface StageNames {
  stack: string;
  bus: string;
  workGroup: string;
  /** Glue names: lowercase letters, digits and underscores (services/query-runner/lambda.ts checks it too). */
  database: string;
}

export function stageNames(stage: string): StageNames {
  return {
    stack: `fleet-etl-${stage}`,
    bus: `fleet-etl-${stage}`,
    workGroup: `fleet-etl-${stage}`,
    database: `fleet_etl_${stage.replace(/-/g, '_')}`,
  };
}
