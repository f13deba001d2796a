/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`). Configuration comes from CDK context, validated by
 * infra/config.ts; see docs/deploy.md.
 */
import { App } from 'aws-cdk-lib';
import { configFromContext } from './config.js';
import { addFleetEtl } from './fleet-etl-app.js';

const app = new App();
addFleetEtl(app, configFromContext(app.node));
app.synth();
