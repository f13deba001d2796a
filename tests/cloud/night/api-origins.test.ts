import { apiOriginsOf } from '../../../twin/night/twin-night.js';
import type { TwinFunction } from '../../../twin/template/stack-model.js';

const fn = (environment: Record<string, string>): TwinFunction => ({
  logicalId: 'ServicesPlannerF889CE18',
  name: 'planner',
  arn: 'arn:aws:lambda:eu-west-1:123456789012:function:planner',
  runtime: 'nodejs24.x',
  handler: 'index.handler',
  assetDir: '/nowhere',
  environment,
  timeoutSeconds: 3,
  memoryMb: 128,
  roleLogicalId: 'Role',
});

describe('the fleet API origins a function calls, which the night answers with the simulator', () => {
  it("are the template's FLEET_API_BASE_URL and FLEET_API_TOKEN_URL origins", () => {
    expect(
      apiOriginsOf(
        fn({
          FLEET_API_BASE_URL: 'https://fleet.example.com/v1',
          FLEET_API_TOKEN_URL: 'https://login.example.com/oauth/token',
        }),
      ),
    ).toEqual(['https://fleet.example.com', 'https://login.example.com']);
  });

  it("include a source configuration's base URL, token URL and dataset endpoints, paths resolved against the base", () => {
    const source = {
      baseUrl: 'https://api.example.org',
      auth: { type: 'oauth2-client-credentials', tokenUrl: 'https://idp.example.org/token', clientId: 'c' },
      datasets: {
        vehicles: { endpoint: '/v2/vehicles' },
        sensors: { endpoint: 'https://data.example.org/s' },
      },
    };
    expect(
      apiOriginsOf(
        fn({ FLEET_API_BASE_URL: 'https://fleet.example.com', FLEET_SOURCE_CONFIG: JSON.stringify(source) }),
      ),
    ).toEqual([
      'https://fleet.example.com',
      'https://api.example.org',
      'https://idp.example.org',
      'https://data.example.org',
    ]);
  });

  it('are none for a function that calls no API', () => {
    expect(apiOriginsOf(fn({ RESULTS_BUCKET: 'results' }))).toEqual([]);
  });
});
