/**
 * The deployment's configuration: one zod schema, read from CDK context (cdk.json, cdk.context.json, `-c`) and
 * optionally from a JSON file, so a stage is described in one reviewed place and a typo fails the synth with
 * the setting's name instead of deploying something half-configured.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import * as z from 'zod';
import { GitHubSqlSettingsSchema } from '../services/adapters/sql-source-config.js';
import { MIN_EVENT_SOURCE_CONCURRENCY } from '../services/source-config/index.js';
import { topology } from '../services/topology.js';
import { sourceIssues } from './fleet-source.js';

/** The context key that holds the configuration object (cdk.json `context`). */
export const CONTEXT_KEY = 'fleet-etl';
/** `-c fleet-etl:configFile=deploy/prod.json` merges a JSON file over the context object. */
export const CONFIG_FILE_CONTEXT_KEY = `${CONTEXT_KEY}:configFile`;

/** CloudWatch Logs accepts only these retention periods (RetentionDays.INFINITE is not offered on purpose). */
const LOG_RETENTION_DAYS = Object.values(RetentionDays).filter(
  (days): days is number => typeof days === 'number' && days !== RetentionDays.INFINITE,
);

/** `-c` values arrive as strings; numbers from cdk.json or a file arrive as numbers. Both are accepted. */
const wholeNumber = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const httpsUrl = z.url({ protocol: /^https$/ });
const nonEmpty = z.string().min(1);

const BundledSqlSource = z.object({ kind: z.literal('bundled') });
/**
 * The query runner reads the SQL files from a GitHub folder (SQL_SOURCE=github): the folder is checked with the
 * schema the runner parses its environment with, so what passes here passes at its cold start.
 */
const GitHubSqlSource = GitHubSqlSettingsSchema.extend({
  kind: z.literal('github'),
  /** A token in Secrets Manager (GITHUB_TOKEN_SECRET_ID): needed for a private repository. */
  useToken: z.union([z.boolean(), z.stringbool()]).default(true),
  /** A deployed stage talks to GitHub over HTTPS only (the runner also takes http, for tests on loopback). */
  apiUrl: httpsUrl.optional(),
});

export const DeploymentConfigSchema = z
  .object({
    /** Names every resource and the stack (`FleetEtl-<stage>`), so stages can share an account. */
    stage: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,19}$/, 'lowercase letters, digits and -, starting with a letter, at most 20')
      .default('dev'),
    /** Leave both unset for an environment-agnostic template (what `cdk synth` in CI produces). */
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/)
      .optional(),
    /** Who is emailed when a dead-letter queue fills or a run fails. Unset: the topic has no subscriber. */
    alarmEmail: z.email().optional(),
    /** EventBridge cron/rate expression, UTC; the planners derive the run's window from the fired time. */
    schedule: z
      .string()
      .regex(/^(cron|rate)\(.+\)$/)
      .default(topology.services.planner.trigger.expression),
    /** 0 keeps the bus's events forever (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateArchive.html). */
    archiveRetentionDays: wholeNumber(0, 36_500).default(topology.bus.archiveRetentionDays),
    logRetentionDays: z.coerce
      .number()
      .refine((days) => LOG_RETENTION_DAYS.includes(days), {
        message: `one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(RetentionDays.ONE_MONTH),
    /**
     * Athena's own output (`athena/` in the results bucket: result files and the data manifests of CTAS/INSERT)
     * expires after this many days. The query runner finds the files a run wrote through those manifests when the
     * run is re-run (docs/decisions/0002); a manifest that expired lists nothing, so a re-run older than this would
     * append its rows again. Hence a year by default, until the statement log keeps the file lists itself.
     */
    queryResultsRetentionDays: wholeNumber(1, 3650).default(365),
    fleetApi: z.object({
      baseUrl: httpsUrl,
      tokenUrl: httpsUrl,
      clientId: nonEmpty,
      /** The API's maximum is 50,000 rows per page. */
      pageSize: wholeNumber(1, 50_000).default(50_000),
    }),
    sqlSource: z.discriminatedUnion('kind', [BundledSqlSource, GitHubSqlSource]).default({ kind: 'bundled' }),
    /**
     * `retain` keeps the data (buckets, ledger, key, secrets) when the stack is deleted, as production wants;
     * `destroy` is for throwaway stages. Non-empty buckets still refuse to be deleted either way.
     */
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    /** A DynamoDB TTL attribute for the run ledger, if the ledger ever writes one (it does not today). */
    runLedgerTtlAttribute: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,255}$/)
      .optional(),
    /** Athena stops any query of the workgroup that would scan more than this (cost guard). */
    athenaBytesScannedCutoff: z.coerce
      .number()
      .int()
      .min(10 * 1024 * 1024)
      .default(100 * 1024 ** 3),
    /**
     * The API's shape when it is not the seed's: a source configuration as `etl run --source` reads it
     * (etl.config.example.json), without `clientSecretName` (the stack's secret is used). Deployed to the planner
     * and the downloader as FLEET_SOURCE_CONFIG; `fleetApi.pageSize` still sizes the tasks.
     */
    source: z.record(z.string(), z.unknown()).optional(),
    /**
     * Requests the API allows at once and per second, shared by every function calling it. Sets the tasks queue's
     * maximum concurrency (at least 2 downloaders: Lambda's minimum) and each downloader's share.
     */
    rateBudget: z
      .object({
        maxConcurrentRequests: wholeNumber(MIN_EVENT_SOURCE_CONCURRENCY, 256),
        requestsPerSecond: z.coerce.number().positive().max(10_000),
      })
      .optional(),
  })
  .superRefine((config, context) => {
    if (config.source === undefined) return;
    for (const issue of sourceIssues(config.source)) {
      context.addIssue({
        code: 'custom',
        path: ['source', ...issue.path.split('.')],
        message: issue.message,
      });
    }
  });

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;

export class DeploymentConfigError extends Error {
  override readonly name = 'DeploymentConfigError';
}

export function parseDeploymentConfig(input: unknown, where = 'configuration'): DeploymentConfig {
  const parsed = DeploymentConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new DeploymentConfigError(`invalid fleet-etl ${where}:\n${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

type Json = { [key: string]: unknown };
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function mergeDeep(base: Json, over: Json): Json {
  const merged: Json = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = merged[key];
    merged[key] = isObject(current) && isObject(value) ? mergeDeep(current, value) : value;
  }
  return merged;
}

/** `fleet-etl:fleetApi.baseUrl=...` becomes `{ fleetApi: { baseUrl: ... } }`. */
function setPath(target: Json, dotted: string, value: unknown): Json {
  const [head, ...rest] = dotted.split('.');
  if (head === undefined || head === '') return target;
  if (rest.length === 0) return { ...target, [head]: value };
  const child = target[head];
  return { ...target, [head]: setPath(isObject(child) ? child : {}, rest.join('.'), value) };
}

/**
 * Layers, later ones winning: the `fleet-etl` context object (cdk.json), the JSON file named by
 * `fleet-etl:configFile`, then single settings such as `-c fleet-etl:stage=prod` or
 * `-c fleet-etl:fleetApi.clientId=abc`.
 */
export function configFromContext(node: Node, cwd = process.cwd()): DeploymentConfig {
  const base = node.tryGetContext(CONTEXT_KEY);
  let layered: Json = isObject(base) ? base : {};
  const file = node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (typeof file === 'string' && file !== '') {
    const text = readFileSync(path.resolve(cwd, file), 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new DeploymentConfigError(`${file} is not JSON`, { cause: error });
    }
    if (!isObject(parsed)) throw new DeploymentConfigError(`${file} must hold a JSON object`);
    layered = mergeDeep(layered, parsed);
  }
  const prefix = `${CONTEXT_KEY}:`;
  for (const [key, value] of Object.entries(node.getAllContext())) {
    if (key.startsWith(prefix) && key !== CONFIG_FILE_CONTEXT_KEY) {
      layered = setPath(layered, key.slice(prefix.length), value);
    }
  }
  return parseDeploymentConfig(layered, 'context');
}
