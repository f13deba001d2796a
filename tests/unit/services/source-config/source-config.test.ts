import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SimFlagsSchema } from '../../../../cli/sim-command.js';
import {
  loadSourceConfig,
  parseSourceConfig,
  SourceConfigError,
  seedApiConfig,
  sourceConfigFromEnvironment,
} from '../../../../services/source-config/index.js';
import { SimulatorOptionsSchema } from '../../../../simulator/server.js';

/** The smallest configuration of an API with the seed's shape. */
const minimal = () => ({
  baseUrl: 'https://fleet.example.com/api/',
  auth: { tokenUrl: '/oauth/token', clientId: 'fleet-etl', clientSecretName: 'fleet-api/client-secret' },
  datasets: { vehicles: { endpoint: '/v1/vehicles' }, sensors: { endpoint: '/v1/sensors' } },
});

function issuesOf(raw: unknown): string[] {
  try {
    parseSourceConfig(raw, 'etl.config.json');
  } catch (error) {
    if (error instanceof SourceConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('the source configuration', () => {
  it('defaults every section to the seed API’s shape', () => {
    const config = parseSourceConfig(minimal(), 'etl.config.json');

    expect(config.datasets.sensors).toEqual({
      dataset: 'sensors',
      endpoint: 'https://fleet.example.com/api/v1/sensors',
      auth: {
        type: 'oauth2-client-credentials',
        tokenUrl: 'https://fleet.example.com/api/oauth/token',
        clientId: 'fleet-etl',
        clientSecretName: 'fleet-api/client-secret',
        credentialsIn: 'basic-header',
      },
      headers: {},
      pageSize: 50_000,
      maxPages: 100_000,
      maxRows: 100_000_000,
      query: {
        from: 'fromCreationDate',
        to: 'toCreationDate',
        timeZone: 'timeZone',
        pageSize: 'pageSize',
        page: 'page',
        fixed: {},
      },
      snapshot: 'never',
      dateFilter: { format: 'iso-millis', precision: 'millis', fromInclusive: true, toInclusive: false },
      shape: { rowsPath: ['data'], total: { path: ['total_pages'], counts: 'pages' }, pagePath: ['page'] },
      rows: {
        fields: {},
        timestampFormat: 'epoch-millis',
        createdAtFormat: 'iso-8601',
        omittedFieldsAreNull: false,
        invalidRows: { action: 'quarantine', maxShare: 0.01 },
      },
      checks: { rowsOutsideWindow: 'fail' },
    });
    expect(config.rateBudget).toEqual({ maxConcurrentRequests: 4, requestsPerSecond: 20 });
    expect(config.window).toEqual({ timeZone: 'UTC' });
    expect(
      seedApiConfig('https://fleet.example.com/api', {
        clientId: 'fleet-etl',
        clientSecretName: 'fleet-api/client-secret',
      }).datasets,
    ).toEqual(config.datasets);
  });

  it('merges sections key by key: dataset over top level over default', () => {
    const config = parseSourceConfig(
      {
        ...minimal(),
        query: { page: 'p', timeZone: null },
        response: { rowsPath: 'items', totalPagesPath: null, totalItemsPath: 'meta.count' },
        datasets: {
          vehicles: { endpoint: 'https://other.example.com/cars', query: { page: 'pageNumber' } },
          sensors: {
            endpoint: '/v1/sensors',
            pageSize: 10_000,
            dateFilter: { format: 'date', toInclusive: true },
            rows: { fields: { timestamp: 'measuredAt' }, timestampFormat: 'iso-8601' },
          },
        },
      },
      'etl.config.json',
    );

    expect(config.datasets.vehicles.endpoint).toBe('https://other.example.com/cars');
    expect(config.datasets.vehicles.query).toMatchObject({
      page: 'pageNumber',
      timeZone: null,
      from: 'fromCreationDate',
    });
    expect(config.datasets.sensors.query).toMatchObject({ page: 'p', timeZone: null });
    expect(config.datasets.sensors.shape.total).toEqual({ path: ['meta', 'count'], counts: 'items' });
    expect(config.datasets.sensors.dateFilter).toEqual({
      format: 'date',
      precision: 'days',
      fromInclusive: true,
      toInclusive: true,
    });
    expect(config.datasets.sensors.rows).toMatchObject({
      fields: { timestamp: 'measuredAt' },
      timestampFormat: 'iso-8601',
    });
    expect(config.datasets.sensors.pageSize).toBe(10_000);
  });

  it('fails pages with rows outside the window asked for unless a dataset, or the top level, says warn', () => {
    const config = parseSourceConfig(
      {
        ...minimal(),
        checks: { rowsOutsideWindow: 'warn' },
        datasets: {
          vehicles: { endpoint: '/v1/vehicles' },
          sensors: { endpoint: '/v1/sensors', checks: { rowsOutsideWindow: 'fail' } },
        },
      },
      'etl.config.json',
    );
    expect(config.datasets.vehicles.checks).toEqual({ rowsOutsideWindow: 'warn' });
    expect(config.datasets.sensors.checks).toEqual({ rowsOutsideWindow: 'fail' });

    expect(
      issuesOf({
        ...minimal(),
        datasets: {
          vehicles: { endpoint: '/v1/vehicles' },
          sensors: { endpoint: '/v1/sensors', checks: { rowsOutsideWindow: 'ignore' } },
        },
      }),
    ).toEqual([expect.stringMatching(/^datasets\.sensors\.checks\.rowsOutsideWindow: .*"fail"\|"warn"/)]);
  });

  it('takes a date filter’s precision from its format unless it says a coarser one, and refuses a finer one', () => {
    const withFilter = (dateFilter: object) =>
      parseSourceConfig({ ...minimal(), dateFilter }, 'etl.config.json').datasets.vehicles.dateFilter;

    expect(withFilter({ format: 'epoch-seconds' }).precision).toBe('seconds');
    expect(withFilter({ format: 'iso-millis', precision: 'seconds' }).precision).toBe('seconds');
    expect(issuesOf({ ...minimal(), dateFilter: { format: 'date', precision: 'seconds' } })).toEqual(
      expect.arrayContaining([
        'datasets.vehicles.dateFilter.precision: "seconds" is finer than format "date" can write (days at most)',
      ]),
    );
  });

  it('refuses token parameters and headers the source sets itself, and header values with line breaks', () => {
    expect(
      issuesOf({
        ...minimal(),
        auth: { ...minimal().auth, tokenParams: { grant_type: 'password' } },
        headers: { 'x-tenant': 'a\r\nb' },
      }),
    ).toEqual([
      'auth.tokenParams: grant_type, scope, client_id and client_secret are set by the grant (use scope for the scope)',
      'headers.x-tenant: a header value cannot hold a line break',
    ]);
    expect(
      issuesOf({
        ...minimal(),
        headers: { Authorization: 'Basic x' },
        datasets: {
          ...minimal().datasets,
          sensors: { endpoint: '/v1/sensors', headers: { 'bad name': 'x' } },
        },
      }),
    ).toEqual([
      'headers.Authorization: authorization and accept are set by the source',
      'headers.Authorization: authorization and accept are set by the source',
      'datasets.sensors.headers.bad name: expected an HTTP header name',
    ]);
  });

  it('fetches only vehicles whole (snapshot), never readings', () => {
    const config = parseSourceConfig(
      {
        ...minimal(),
        datasets: { ...minimal().datasets, vehicles: { endpoint: '/v1/vehicles', snapshot: 'first-night' } },
      },
      'etl.config.json',
    );
    expect(config.datasets.vehicles.snapshot).toBe('first-night');
    expect(config.datasets.sensors.snapshot).toBe('never');
    expect(
      issuesOf({
        ...minimal(),
        datasets: { ...minimal().datasets, sensors: { endpoint: '/v1/sensors', snapshot: 'every-night' } },
      }),
    ).toEqual([
      'datasets.sensors.snapshot: only vehicles can be fetched whole; readings are fetched night by night',
    ]);
  });

  it('names every bad field, without quoting values', () => {
    const issues = issuesOf({
      ...minimal(),
      baseUrl: 'ftp://fleet.example.com',
      rateBudget: { maxConcurrentRequests: 0 },
      datasets: {
        vehicles: { endpoint: 'fleet.example.com/v1/vehicles', pageSize: 60_000 },
        sensors: {
          endpoint: '/v1/sensors',
          response: { rowsPath: 'data..items' },
          rows: { invalidRows: { action: 'drop' } },
        },
      },
    });

    expect(issues).toEqual(
      expect.arrayContaining([
        'baseUrl: expected an http(s) URL',
        expect.stringMatching(/^rateBudget\.maxConcurrentRequests: /),
        'datasets.vehicles.endpoint: expected an http(s) URL or a path starting with /',
        expect.stringMatching(/^datasets\.vehicles\.pageSize: .*50000/),
        expect.stringMatching(/^datasets\.sensors\.response\.rowsPath: expected a dot path/),
        expect.stringMatching(/^datasets\.sensors\.rows\.invalidRows\.action: /),
      ]),
    );
    expect(issues.join('\n')).not.toContain('drop');
  });

  it('refuses misspelt keys, naming them', () => {
    expect(issuesOf({ ...minimal(), ratebudget: {} })).toEqual([
      '(top level): Unrecognized key: "ratebudget"',
    ]);
    expect(issuesOf({ ...minimal(), query: { pagesize: 'size' } })).toEqual([
      'query: Unrecognized key: "pagesize"',
    ]);
  });

  it('refuses a secret in the file wherever it is, and says where secrets go', () => {
    const issues = issuesOf({ ...minimal(), auth: { ...minimal().auth, clientSecret: 'hunter2' } });
    expect(issues).toEqual([
      expect.stringMatching(
        /^auth\.clientSecret: secrets must not be in the configuration file: .*FLEET_ETL_SECRET_/,
      ),
    ]);
    expect(issues.join()).not.toContain('hunter2');
    expect(issuesOf({ ...minimal(), query: { fixed: { api_key: 'k' } } })[0]).toMatch(
      /^query\.fixed\.api_key: secrets/,
    );
  });

  it('requires auth here or there, and a baseUrl for paths', () => {
    const { auth: _auth, baseUrl: _baseUrl, ...rest } = minimal();
    expect(issuesOf(rest)).toEqual(
      expect.arrayContaining([
        'datasets.vehicles.auth: required here or at the top level (auth)',
        'datasets.sensors.endpoint: "/v1/sensors" is a path, so baseUrl is required',
      ]),
    );
  });

  it('refuses unknown columns, two totals, paths into the rows and parameters used twice', () => {
    const issues = issuesOf({
      ...minimal(),
      datasets: {
        vehicles: { endpoint: '/v', rows: { fields: { colour: 'color' } }, query: { page: 'pageSize' } },
        sensors: { endpoint: '/s', response: { totalItemsPath: 'count', pagePath: 'data.page' } },
      },
    });
    expect(issues).toEqual([
      'datasets.vehicles.rows.fields.colour: not a column of vehicles; the columns are vehicle_id, vehicle_type, created_at',
      'datasets.sensors.response.totalPagesPath: set exactly one of totalPagesPath and totalItemsPath (the other to null)',
      'datasets.sensors.response.pagePath: must not point into the rows (data)',
      'datasets.vehicles.query: parameter "pageSize" is used twice',
    ]);
  });

  it('refuses an unknown time zone', () => {
    expect(issuesOf({ ...minimal(), window: { timeZone: 'Mars/Olympus' } })).toEqual([
      'window.timeZone: expected an IANA time zone name, e.g. "UTC" or "Europe/Madrid"',
    ]);
  });

  it('reads a file, and says where a file is not JSON without quoting it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'config-'));
    const good = path.join(dir, 'good.json');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify(minimal()));
    const trailing = path.join(dir, 'trailing.json');
    writeFileSync(bad, '{\n  "auth": { "clientSecret": hunter2 }\n}');
    writeFileSync(trailing, '{\n  "datasets": {}\n}}');

    await expect(loadSourceConfig(good)).resolves.toMatchObject({ window: { timeZone: 'UTC' } });
    const error: unknown = await loadSourceConfig(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceConfigError);
    expect(String(error)).toMatch(
      /bad\.json: invalid source configuration:\n {2}- \(file\): not valid JSON$/,
    );
    expect(String(error)).not.toContain('hunter2');
    await expect(loadSourceConfig(trailing)).rejects.toThrow('(file): not valid JSON (line 3, column 2)');
    await expect(loadSourceConfig(path.join(dir, 'missing.json'))).rejects.toThrow(
      /missing\.json.*no such file/s,
    );
  });

  it('accepts the example at the repository root, which spells out the defaults and points at etl sim', async () => {
    const example = await loadSourceConfig('etl.config.example.json');
    // `etl sim` as started with no flags: port 8080, the simulator's client; FLEET_ETL_SECRET_FLEET_API_CLIENT_SECRET
    // holds its secret (local-secret), as the README says.
    const simulatorClientId = SimulatorOptionsSchema.shape.clientId.parse(undefined);
    const simDefaults = SimFlagsSchema.parse({});
    expect(example).toEqual(
      parseSourceConfig(
        {
          ...minimal(),
          baseUrl: `http://127.0.0.1:${simDefaults.port}`,
          auth: { ...minimal().auth, clientId: simulatorClientId },
        },
        'minimal',
      ),
    );
  });

  it('comes from FLEET_SOURCE_CONFIG in a Lambda, or from FLEET_API_* for the seed’s shape', () => {
    const fromJson = sourceConfigFromEnvironment({ FLEET_SOURCE_CONFIG: JSON.stringify(minimal()) });
    const fromVariables = sourceConfigFromEnvironment({
      FLEET_API_BASE_URL: 'https://fleet.example.com/api',
      FLEET_API_TOKEN_URL: 'https://fleet.example.com/api/oauth/token',
      FLEET_API_CLIENT_ID: 'fleet-etl',
      FLEET_API_SECRET_ID: 'fleet-api/client-secret',
    });
    expect(fromVariables.datasets).toEqual(fromJson.datasets);
    expect(() => sourceConfigFromEnvironment({ FLEET_API_BASE_URL: 'https://x.example.com' })).toThrow(
      /invalid environment: FLEET_API_TOKEN_URL, FLEET_API_CLIENT_ID, FLEET_API_SECRET_ID required unless FLEET_SOURCE_CONFIG/,
    );
  });
});
