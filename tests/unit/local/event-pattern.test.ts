import {
  assertSupportedPattern,
  EventPatternError,
  matchesPattern,
} from '../../../infra/local/event-pattern.js';

const event = {
  source: 'fleet-etl',
  'detail-type': 'PageDownloaded',
  detail: {
    runId: '2026-11-24',
    dataset: 'sensors',
    page: 7,
    rows: 50_000,
    tags: ['nightly', 'eu'],
    origin: { ip: '10.0.3.7', region: 'EU-West-1' },
  },
};

/** [description, pattern, expected]: each row is one EventBridge rule, checked against the event above. */
const cases: [string, Record<string, unknown>, boolean][] = [
  ['exact value', { source: ['fleet-etl'] }, true],
  ['one of several values', { 'detail-type': ['PagesPlanned', 'PageDownloaded'] }, true],
  ['other value', { source: ['aws.s3'] }, false],
  ['nested field', { detail: { dataset: ['sensors'] } }, true],
  ['number', { detail: { page: [7] } }, true],
  ['prefix', { detail: { runId: [{ prefix: '2026-11' }] } }, true],
  ['prefix miss', { detail: { runId: [{ prefix: '2025' }] } }, false],
  ['suffix', { detail: { runId: [{ suffix: '-24' }] } }, true],
  [
    'prefix ignoring case',
    { detail: { origin: { region: [{ prefix: { 'equals-ignore-case': 'eu-' } }] } } },
    true,
  ],
  ['equals-ignore-case', { detail: { origin: { region: [{ 'equals-ignore-case': 'eu-west-1' }] } } }, true],
  ['wildcard', { detail: { runId: [{ wildcard: '2026-*-24' }] } }, true],
  ['wildcard miss', { detail: { runId: [{ wildcard: '2026-*-25' }] } }, false],
  ['anything-but value', { detail: { dataset: [{ 'anything-but': 'vehicles' }] } }, true],
  ['anything-but list hit', { detail: { dataset: [{ 'anything-but': ['sensors', 'vehicles'] }] } }, false],
  ['anything-but prefix', { detail: { dataset: [{ 'anything-but': { prefix: 'veh' } }] } }, true],
  ['numeric range', { detail: { rows: [{ numeric: ['>', 0, '<=', 50_000] }] } }, true],
  ['numeric out of range', { detail: { rows: [{ numeric: ['<', 100] }] } }, false],
  ['exists', { detail: { page: [{ exists: true }] } }, true],
  ['exists on a missing field', { detail: { file: [{ exists: true }] } }, false],
  ['not exists on a missing field', { detail: { file: [{ exists: false }] } }, true],
  ['missing field with a value matcher', { detail: { file: ['x.sql'] } }, false],
  ['array in the event: any element', { detail: { tags: ['eu'] } }, true],
  ['cidr', { detail: { origin: { ip: [{ cidr: '10.0.0.0/16' }] } } }, true],
  ['cidr miss', { detail: { origin: { ip: [{ cidr: '10.1.0.0/16' }] } } }, false],
  ['$or with one matching branch', { $or: [{ source: ['x'] }, { detail: { page: [7] } }] }, true],
  ['$or with no matching branch', { $or: [{ source: ['x'] }, { detail: { page: [8] } }] }, false],
  ['all fields must match', { source: ['fleet-etl'], detail: { dataset: ['vehicles'] } }, false],
];

describe('matchesPattern', () => {
  it.each(cases)('%s', (_description, pattern, expected) => {
    assertSupportedPattern(pattern);
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

describe('assertSupportedPattern', () => {
  it.each([
    ['a leaf that is not an array', { source: 'fleet-etl' }, /leaf values must be arrays/],
    ['an unknown operator', { source: [{ regex: '.*' }] }, /unsupported operator "regex"/],
    ['two operators in one matcher', { source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/],
    [
      'a bad numeric comparison',
      { detail: { rows: [{ numeric: ['!=', 1] }] } },
      /invalid numeric comparison/,
    ],
    ['an IPv6 cidr', { ip: [{ cidr: '2001:db8::/32' }] }, /cidr supports IPv4/],
    ['an empty $or', { $or: [] }, /\$or takes a non-empty array/],
  ])('refuses %s, saying where', (_why, pattern, message) => {
    expect(() => assertSupportedPattern(pattern)).toThrow(EventPatternError);
    expect(() => assertSupportedPattern(pattern)).toThrow(message);
  });
});
