import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import type { Dataset } from '../../events/index.js';
import { TerminalError } from '../shared/errors.js';
import { rowSchemas } from '../shared/rows.js';
import {
  type AuthConfig,
  type DateFilter,
  type DateFilterPatch,
  type DateFormat,
  DEFAULT_CHECKS,
  DEFAULT_DATE_FILTER,
  DEFAULT_QUERY,
  DEFAULT_RESPONSE,
  DEFAULT_ROWS,
  type FilterPrecision,
  type ResponseShape,
  SourceConfigFileSchema,
} from './schema.js';
import { type DatasetSource, type PageShape, type SourceConfig, splitPath } from './source-config.js';

export interface ConfigIssue {
  /** e.g. `datasets.sensors.auth.tokenUrl`, or `(file)` for the whole document. */
  path: string;
  message: string;
}

/** A configuration that cannot be used; lists every problem found, each naming its field. Never quotes values. */
export class SourceConfigError extends TerminalError {
  override readonly name = 'SourceConfigError';

  constructor(
    readonly origin: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(
      `${origin}: invalid source configuration:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
    );
  }
}

/** Reads and validates a configuration file. */
export async function loadSourceConfig(file: string): Promise<SourceConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    throw new SourceConfigError(file, [
      { path: '(file)', message: code === 'ENOENT' ? 'no such file' : `cannot be read (${code || 'error'})` },
    ]);
  }
  return parseSourceConfig(parseJsonText(text, file), file);
}

/**
 * JSON.parse's own message quotes the text around the error, and a misplaced secret could be in it: only the
 * position is kept, as line and column.
 */
export function parseJsonText(text: string, origin: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message =
      typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : '';
    const position = /position (\d+)/.exec(message)?.[1];
    let where = '';
    if (position !== undefined) {
      const before = text.slice(0, Number(position));
      const line = before.split('\n').length;
      const column = Number(position) - before.lastIndexOf('\n');
      where = ` (line ${line}, column ${column})`;
    } else if (/end of (JSON )?input/i.test(message)) {
      where = ' (it ends too early)';
    }
    throw new SourceConfigError(origin, [{ path: '(file)', message: `not valid JSON${where}` }]);
  }
}

/** Keys that would hold a secret's value: refused wherever they are, with a message saying where secrets go. */
const SECRET_KEY = /^(client_?secret|secret|password|passwd|api_?key|access_?token|token)$/i;

function secretIssues(value: unknown, path: string[] = []): ConfigIssue[] {
  if (typeof value !== 'object' || value === null) return [];
  const issues: ConfigIssue[] = [];
  for (const [key, child] of Object.entries(value)) {
    const here = [...path, key];
    if (SECRET_KEY.test(key) && typeof child === 'string') {
      issues.push({
        path: here.join('.'),
        message:
          'secrets must not be in the configuration file: set auth.clientSecretName to the name of the secret ' +
          '(a Secrets Manager secret id in AWS; locally the environment variable FLEET_ETL_SECRET_<NAME>)',
      });
    } else {
      issues.push(...secretIssues(child, here));
    }
  }
  return issues;
}

function zodIssues(error: z.ZodError, prefix: readonly (string | number)[] = []): ConfigIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String).join('.') || '(top level)';
    const message = issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message;
    return { path, message };
  });
}

const DATASETS: readonly Dataset[] = ['vehicles', 'sensors'];
/** RFC 9110 §5.1: a header name is a token. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Validates a parsed configuration document and resolves it: defaults, merged sections, absolute URLs. */
export function parseSourceConfig(raw: unknown, origin: string): SourceConfig {
  const secrets = secretIssues(raw);
  if (secrets.length > 0) throw new SourceConfigError(origin, secrets);
  const parsed = SourceConfigFileSchema.safeParse(raw);
  if (!parsed.success) throw new SourceConfigError(origin, zodIssues(parsed.error));
  const file = parsed.data;
  const issues: ConfigIssue[] = [];

  const absolute = (value: string, path: string): string => {
    if (!value.startsWith('/')) return value;
    if (file.baseUrl === undefined) {
      issues.push({ path, message: `"${value}" is a path, so baseUrl is required` });
      return value;
    }
    return new URL(value.replace(/^\/+/, ''), `${file.baseUrl.replace(/\/+$/, '')}/`).toString();
  };

  const resolve = (dataset: Dataset): DatasetSource => {
    const spec = file.datasets[dataset];
    const at = `datasets.${dataset}`;
    const auth: AuthConfig | undefined = spec.auth ?? file.auth;
    if (auth === undefined) {
      issues.push({ path: `${at}.auth`, message: 'required here or at the top level (auth)' });
    }
    const authPath = spec.auth === undefined ? 'auth' : `${at}.auth`;
    const headers = { ...file.headers, ...spec.headers };
    for (const name of Object.keys(headers)) {
      const where = `${spec.headers?.[name] === undefined ? 'headers' : `${at}.headers`}.${name}`;
      if (!HEADER_NAME.test(name)) issues.push({ path: where, message: 'expected an HTTP header name' });
      if (['authorization', 'accept'].includes(name.toLowerCase())) {
        issues.push({ path: where, message: 'authorization and accept are set by the source' });
      }
    }
    const response: ResponseShape = { ...DEFAULT_RESPONSE, ...file.response, ...spec.response };
    const shape = pageShape(response, `${at}.response`, issues);
    const rows = { ...DEFAULT_ROWS, ...file.rows, ...spec.rows };
    const columns = Object.keys(rowSchemas[dataset].shape);
    for (const column of Object.keys(rows.fields)) {
      if (!columns.includes(column)) {
        issues.push({
          path: `${at}.rows.fields.${column}`,
          message: `not a column of ${dataset}; the columns are ${columns.join(', ')}`,
        });
      }
    }
    return {
      dataset,
      endpoint: absolute(spec.endpoint, `${at}.endpoint`),
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: absolute(auth?.tokenUrl ?? '', `${authPath}.tokenUrl`),
        clientId: auth?.clientId ?? '',
        clientSecretName: auth?.clientSecretName ?? '',
        credentialsIn: auth?.credentialsIn ?? 'basic-header',
        ...(auth?.scope === undefined ? {} : { scope: auth.scope }),
        ...(auth?.tokenParams === undefined ? {} : { tokenParams: auth.tokenParams }),
      },
      headers,
      pageSize: spec.pageSize,
      maxPages: spec.maxPages,
      maxRows: spec.maxRows,
      query: { ...DEFAULT_QUERY, ...file.query, ...spec.query },
      snapshot: spec.snapshot,
      dateFilter: dateFilterOf(file.dateFilter, spec.dateFilter, `${at}.dateFilter`, issues),
      shape,
      rows,
      checks: { ...DEFAULT_CHECKS, ...file.checks, ...spec.checks },
    };
  };

  const datasets = { vehicles: resolve('vehicles'), sensors: resolve('sensors') };
  for (const dataset of DATASETS) {
    const { query } = datasets[dataset];
    const names = [query.from, query.to, query.timeZone, query.pageSize, query.page].filter(
      (name): name is string => name !== null,
    );
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (dataset === 'sensors' && datasets.sensors.snapshot !== 'never') {
      issues.push({
        path: 'datasets.sensors.snapshot',
        message: 'only vehicles can be fetched whole; readings are fetched night by night',
      });
    }
    if (repeated !== undefined) {
      issues.push({ path: `datasets.${dataset}.query`, message: `parameter "${repeated}" is used twice` });
    }
  }
  if (issues.length > 0) throw new SourceConfigError(origin, issues);
  return {
    datasets,
    rateBudget: file.rateBudget,
    retry: file.retry,
    requestTimeoutMs: file.requestTimeoutMs,
    window: file.window,
  };
}

/**
 * The merged date filter. Its precision, unless stated, is the format's own unit (`iso-seconds` compares whole
 * seconds); a precision finer than the format can write is refused, since such bounds could not be sent.
 */
function dateFilterOf(
  top: DateFilterPatch | undefined,
  own: DateFilterPatch | undefined,
  at: string,
  issues: ConfigIssue[],
): DateFilter {
  const merged = { ...DEFAULT_DATE_FILTER, ...top, ...own };
  const formatUnit = FORMAT_PRECISION[merged.format];
  const precision = own?.precision ?? top?.precision ?? formatUnit;
  if (PRECISION_RANK[precision] < PRECISION_RANK[formatUnit]) {
    issues.push({
      path: `${at}.precision`,
      message: `"${precision}" is finer than format "${merged.format}" can write (${formatUnit} at most)`,
    });
  }
  return { ...merged, precision };
}

const FORMAT_PRECISION: Record<DateFormat, FilterPrecision> = {
  'iso-millis': 'millis',
  'epoch-millis': 'millis',
  'iso-seconds': 'seconds',
  'epoch-seconds': 'seconds',
  date: 'days',
};
const PRECISION_RANK: Record<FilterPrecision, number> = { millis: 0, seconds: 1, days: 2 };

function pageShape(response: ResponseShape, at: string, issues: ConfigIssue[]): PageShape {
  const { totalPagesPath, totalItemsPath } = response;
  let total: PageShape['total'] = { path: [], counts: 'pages' };
  if ((totalPagesPath === null) === (totalItemsPath === null)) {
    issues.push({
      path: `${at}.totalPagesPath`,
      message: 'set exactly one of totalPagesPath and totalItemsPath (the other to null)',
    });
  } else if (totalPagesPath !== null) {
    total = { path: splitPath(totalPagesPath), counts: 'pages' };
  } else if (totalItemsPath !== null) {
    total = { path: splitPath(totalItemsPath), counts: 'items' };
  }
  const rowsPath = splitPath(response.rowsPath);
  for (const [name, path] of [
    ['totalPagesPath', totalPagesPath],
    ['totalItemsPath', totalItemsPath],
    ['pagePath', response.pagePath],
  ] as const) {
    if (path !== null && (path === response.rowsPath || path.startsWith(`${response.rowsPath}.`))) {
      issues.push({ path: `${at}.${name}`, message: `must not point into the rows (${response.rowsPath})` });
    }
  }
  return {
    rowsPath,
    total,
    pagePath: response.pagePath === null ? undefined : splitPath(response.pagePath),
  };
}
