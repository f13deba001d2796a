import { topology } from '../../services/topology.js';

/**
 * Every variable some Lambda entry reads, with harmless values: importing a bundle must not touch the network.
 * The bundle tests and the cold-start benchmark import bundles with it.
 */
export const LAMBDA_TEST_ENVIRONMENT: Readonly<Record<string, string>> = {
  AWS_REGION: 'eu-west-1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  EVENT_BUS_NAME: 'fleet-etl',
  TASKS_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks',
  PAGE_SIZE: '50000',
  FLEET_API_BASE_URL: 'https://fleet.example.com',
  FLEET_API_TOKEN_URL: 'https://fleet.example.com/oauth/token',
  FLEET_API_CLIENT_ID: 'fleet-etl',
  FLEET_API_SECRET_ID: 'fleet-etl/api',
  RAW_BUCKET: 'raw',
  WAREHOUSE_BUCKET: 'warehouse',
  RESULTS_BUCKET: 'results',
  RUN_LEDGER_TABLE: 'ledger',
  GLUE_DATABASE: 'fleet_etl',
  ATHENA_WORKGROUP: 'fleet-etl',
  DOWNLOADER_MAX_CONCURRENCY: '4',
  MAX_RECEIVE_COUNT: String(topology.queues.tasks.maxReceiveCount),
  POWERTOOLS_METRICS_NAMESPACE: 'FleetEtl/test',
};
