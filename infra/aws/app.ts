/**
 * The CDK app (cdk.json: `npx tsx infra/aws/app.ts`). Configuration comes from CDK context, validated by
 * infra/aws/config.ts; see docs/deploy.md.
 */
import { App } from 'aws-cdk-lib';
import { configFromContext } from './config.js';
import { addFleetEtl } from './fleet-etl-app.js';

const app = new App();
addFleetEtl(app, configFromContext(app.node));
app.synth();
