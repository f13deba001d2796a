import { readFileSync } from 'node:fs';
import * as z from 'zod';

/**
 * The policy of docs/decisions/0072: while the `etl` CLI supports Node.js 20, every dependency that runs (the AWS
 * SDK the Lambda bundles and the CLI share included) must be a release that supports it, as well as 22 and 24.
 * An upgrade to an AWS SDK release that requires Node.js 22 fails here, naming the package, until Node.js 20 is
 * dropped from `engines` (and from this list) on purpose.
 */
const SUPPORTED_NODE_LINES = ['20.19.0', '22.13.0', '24.0.0'] as const;

/** Runs on Node.js 20 in every CI run (the suite runs there), although it declares >=22. */
const KNOWN_EXCEPTIONS: Record<string, string> = {
  '@polyglot-sql/sdk': 'declares node >=22 and pnpm >=12; the SQL bridge tests run it on Node.js 20 in CI',
};

const Lock = z.object({
  packages: z.record(
    z.string(),
    z.object({
      dev: z.boolean().optional(),
      engines: z.union([z.object({ node: z.string().optional() }).loose(), z.array(z.string())]).optional(),
    }),
  ),
});
const Manifest = z.object({ engines: z.object({ node: z.string() }) });

type Version = [number, number, number];

function parseVersion(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text
    .replace(/^v/, '')
    .split('.')
    .map((part) => (part === 'x' || part === '*' ? 0 : Number(part)));
  if ([major, minor, patch].some((n) => !Number.isInteger(n))) throw new Error(`not a version: ${text}`);
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The subset of npm's range syntax that `engines.node` fields use: `>=`, `>`, `<`, `^`, `N`, `N.x`, `*`, `||`. */
function admits(range: string, versionText: string): boolean {
  const version = parseVersion(versionText);
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|\^)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => {
        if (comparator === '*' || comparator === '') return true;
        const match = /^(>=|<=|>|<|\^)?v?(\d+(?:\.(?:\d+|x))?(?:\.(?:\d+|x))?)$/.exec(comparator);
        if (match === null) throw new Error(`unsupported engines range "${range}"`);
        const [, operator, bound = ''] = match;
        const order = compare(version, parseVersion(bound));
        if (operator === '>=') return order >= 0;
        if (operator === '>') return order > 0;
        if (operator === '<=') return order <= 0;
        if (operator === '<') return order < 0;
        if (operator === '^') return version[0] === parseVersion(bound)[0] && order >= 0;
        // A bare `20` or `20.x` is that major line.
        return version[0] === parseVersion(bound)[0];
      }),
  );
}

describe('the Node.js versions we support', () => {
  const root = Manifest.parse(JSON.parse(readFileSync('package.json', 'utf8')));
  const lock = Lock.parse(JSON.parse(readFileSync('package-lock.json', 'utf8')));

  it('are the ones package.json declares', () => {
    for (const line of SUPPORTED_NODE_LINES) expect(admits(root.engines.node, line)).toBe(true);
    expect(admits(root.engines.node, '21.7.0')).toBe(false);
    expect(admits(root.engines.node, '22.12.0')).toBe(false);
  });

  it('are supported by every dependency that runs, the AWS SDK included', () => {
    const refusals: string[] = [];
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (where === '' || entry.dev === true || entry.engines === undefined || Array.isArray(entry.engines))
        continue;
      const range = entry.engines.node;
      const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
      if (range === undefined || name in KNOWN_EXCEPTIONS) continue;
      for (const line of SUPPORTED_NODE_LINES) {
        if (!admits(range, line))
          refusals.push(`${name} (engines.node "${range}") does not admit Node.js ${line}`);
      }
    }
    expect(refusals).toEqual([]);
  });

  it('read engines ranges as npm does', () => {
    expect(admits('>=20.0.0', '20.19.0')).toBe(true);
    expect(admits('>=22', '20.19.0')).toBe(false);
    expect(admits('>= 18.0.0', '24.0.0')).toBe(true);
    expect(admits('20 || >=22', '21.0.0')).toBe(false);
    expect(admits('20.x || 22.x || 23.x || 24.x', '24.0.0')).toBe(true);
    expect(admits('^8.16.0 || ^10.6.0 || >=11.0.0', '20.19.0')).toBe(true);
    expect(admits('^20.19.0 || >=22.13.0', '20.18.0')).toBe(false);
    expect(() => admits('~20.1', '20.1.0')).toThrow('unsupported engines range');
  });
});
