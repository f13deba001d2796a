/**
 * What the functions that call the fleet API are told about it. By default they get the seed API's settings
 * (FLEET_API_*). A stage whose API has another shape gives a source configuration (the format of
 * `etl run --source`, etl.config.example.json) and a stage may set its own rate budget; the functions then get
 * the whole configuration in FLEET_SOURCE_CONFIG, naming the stack's secret, and the tasks queue runs as many
 * downloaders at once as the budget allows.
 */
import {
  DEFAULT_RATE_BUDGET,
  parseSourceConfig,
  type RateBudget,
  SourceConfigError,
} from '../services/source-config/index.js';

type Json = Record<string, unknown>;

/**
 * What these functions read of a stage's DeploymentConfig (infra/config.ts). Named here rather than imported:
 * config.ts validates its `source` with sourceIssues below, so importing its type back would be a cycle.
 */
interface ApiSettings {
  fleetApi: { baseUrl: string; tokenUrl: string; clientId: string };
  source?: Json;
  rateBudget?: RateBudget;
}
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Stands in for the stack's secret ARN while a source is validated, before the stack exists. */
const SECRET_PLACEHOLDER = 'fleet-etl/stage/fleet-api-client-secret';

/** The source with every `auth` (top level and per dataset) reading the given secret. */
function readingSecret(source: Json, secretArn: string): Json {
  const withSecret = (auth: unknown) => (isObject(auth) ? { ...auth, clientSecretName: secretArn } : auth);
  const datasets = isObject(source.datasets)
    ? Object.fromEntries(
        Object.entries(source.datasets).map(([name, dataset]) => [
          name,
          isObject(dataset) && dataset.auth !== undefined
            ? { ...dataset, auth: withSecret(dataset.auth) }
            : dataset,
        ]),
      )
    : source.datasets;
  return {
    ...source,
    ...(source.auth === undefined ? {} : { auth: withSecret(source.auth) }),
    ...(datasets === undefined ? {} : { datasets }),
  };
}

/** Where a source names a secret: the stack has one secret for the API, and only it is granted to the functions. */
function secretNames(source: Json): string[] {
  const named = (auth: unknown, path: string) =>
    isObject(auth) && auth.clientSecretName !== undefined ? [path] : [];
  const datasets = isObject(source.datasets) ? Object.entries(source.datasets) : [];
  return [
    ...named(source.auth, 'auth.clientSecretName'),
    ...datasets.flatMap(([name, dataset]) =>
      isObject(dataset) ? named(dataset.auth, `datasets.${name}.auth.clientSecretName`) : [],
    ),
  ];
}

/** The problems of a deployment's `source`, each with its path inside it; none when it can be deployed. */
export function sourceIssues(source: Json): { path: string; message: string }[] {
  const named = secretNames(source).map((path) => ({
    path,
    message: "leave it out: the functions read the stack's own secret (the FleetApiSecretArn output)",
  }));
  if (named.length > 0) return named;
  try {
    parseSourceConfig(readingSecret(source, SECRET_PLACEHOLDER), 'source');
    return [];
  } catch (error) {
    if (error instanceof SourceConfigError) return [...error.issues];
    throw error;
  }
}

/** The API's rate budget of the stage: its own setting, else its source's, else the default. */
export function deployedRateBudget(config: ApiSettings): RateBudget {
  if (config.rateBudget !== undefined) return config.rateBudget;
  if (config.source === undefined) return DEFAULT_RATE_BUDGET;
  return parseSourceConfig(readingSecret(config.source, SECRET_PLACEHOLDER), 'source').rateBudget;
}

/**
 * The FLEET_SOURCE_CONFIG document (before JSON encoding), or undefined when the seed API's FLEET_API_* variables
 * say everything (no source, no budget of its own).
 */
export function deployedSource(config: ApiSettings, secretArn: string): Json | undefined {
  if (config.source === undefined && config.rateBudget === undefined) return undefined;
  const source: Json = config.source ?? {
    baseUrl: config.fleetApi.baseUrl,
    auth: { tokenUrl: config.fleetApi.tokenUrl, clientId: config.fleetApi.clientId },
    datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
  };
  return { ...readingSecret(source, secretArn), rateBudget: deployedRateBudget(config) };
}

/**
 * The secrets a stage's source reads for request headers (`{ "secretName": ... }`, an API key say), by name or
 * ARN, each once: the functions that call the API are granted read on each (pipeline-services.ts).
 */
export function headerSecretNames(config: ApiSettings): string[] {
  if (config.source === undefined) return [];
  const source = parseSourceConfig(readingSecret(config.source, SECRET_PLACEHOLDER), 'source');
  const names = Object.values(source.datasets).flatMap((dataset) =>
    Object.values(dataset.headers).flatMap((value) => (typeof value === 'string' ? [] : [value.secretName])),
  );
  return [...new Set(names)].sort();
}
