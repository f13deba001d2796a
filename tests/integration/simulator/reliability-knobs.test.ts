import { FleetApiSource } from '../../../services/adapters/http/fleet-api-source.js';
import { seedApiConfig } from '../../../services/source-config/index.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  collectPage,
  fleetSource,
  pageRequest,
  requestToken,
  simulator,
} from './factories.js';

describe('simulator knobs of the fault suite, and how the source meets them', () => {
  it('wrongContentTypeRate serves HTML with a 200; the source retries and names the content type', async () => {
    // Prepare
    const sim = await simulator({ wrongContentTypeRate: 1 });
    try {
      const source = fleetSource(sim.url, { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
      // Act
      const failure = await collectPage(source, pageRequest()).catch((error: unknown) => error);
      // Assess
      expect(failure).toMatchObject({
        name: 'FleetApiTransientError',
        message: expect.stringMatching(
          /gave up on sensors page 1 after 2 attempts.*content-type "text\/html/,
        ),
      });
      expect(sim.stats().faults.wrongContentType).toBe(2);
      expect(source.stats().transientFailures).toEqual({ 'content-type': 2 });
    } finally {
      await sim.close();
    }
  });

  it('totalPagesDrift changes total_pages after the first answer per dataset; a planned page is refused', async () => {
    const sim = await simulator({ totalPagesDrift: 2 });
    try {
      const source = fleetSource(sim.url);
      const planned = await source.countPages(pageRequest({ pageSize: 100 }));
      let stored = false;
      const failure = await source
        .fetchPage(pageRequest({ pageSize: 100, page: 2, expectedTotalPages: planned }), async (ndjson) => {
          for await (const _ of ndjson) {
            // read to the end, as an object store does before it commits
          }
          stored = true;
        })
        .catch((error: unknown) => error);
      expect(failure).toMatchObject({
        name: 'FleetApiTerminalError',
        message: expect.stringMatching(
          new RegExp(
            `sensors page 2: total_pages changed since planning: the page says ${planned + 2}, the plan has ${planned}`,
          ),
        ),
      });
      expect(stored).toBe(false);
      expect(sim.stats().faults.driftedTotals).toBe(1);
      // Without a plan to compare with (the planner's own count), the page is served as it is.
      const page = await collectPage(source, pageRequest({ pageSize: 100, page: 2 }));
      expect(page.totalPages).toBe(planned + 2);
    } finally {
      await sim.close();
    }
  });

  it('rotateCredentials accepts only the new secret and revokes tokens; a source that re-reads its secret recovers', async () => {
    const sim = await simulator();
    try {
      let secret = CLIENT_SECRET;
      const source = new FleetApiSource({
        config: seedApiConfig(sim.url, { clientId: CLIENT_ID, clientSecretName: 'fleet-api/client-secret' }),
        // The Secrets port is read on every token request: a rotated secret is picked up on the next one.
        secrets: { get: async () => secret },
      });
      await collectPage(source, pageRequest());
      sim.rotateCredentials('rotated-secret-2');
      secret = 'rotated-secret-2';
      const page = await collectPage(source, pageRequest({ page: 2 }));
      expect(page.rows).toBeGreaterThan(0);
      expect((await requestToken(sim.url)).status).toBe(401);
      expect(sim.stats().tokensIssued).toBe(2);
      expect(new Set(sim.issuedTokens()).size).toBe(2);
    } finally {
      await sim.close();
    }
  });
});
