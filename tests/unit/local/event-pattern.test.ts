import {
  assertSupportedPattern,
  compilePattern,
  EventPatternError,
  matchesPattern,
} from '../../../local/event-pattern.js';

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
  ['a number never equals its string', { detail: { runId: [20261124] } }, false],
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
  ['anything-but on a missing field', { detail: { file: [{ 'anything-but': 'x.sql' }] } }, false],
  ['anything-but on an array: one element survives', { detail: { tags: [{ 'anything-but': 'eu' }] } }, true],
  [
    'anything-but on an array: every element excluded',
    { detail: { tags: [{ 'anything-but': ['eu', 'nightly'] }] } },
    false,
  ],
  ['numeric range', { detail: { rows: [{ numeric: ['>', 0, '<=', 50_000] }] } }, true],
  ['numeric out of range', { detail: { rows: [{ numeric: ['<', 100] }] } }, false],
  ['numeric on a string', { detail: { runId: [{ numeric: ['>', 0] }] } }, false],
  ['exists', { detail: { page: [{ exists: true }] } }, true],
  ['exists on a missing field', { detail: { file: [{ exists: true }] } }, false],
  ['not exists on a missing field', { detail: { file: [{ exists: false }] } }, true],
  ['exists on an object is false: exists looks at leaves', { detail: { origin: [{ exists: true }] } }, false],
  ['exists: false under a missing parent', { missing: { field: [{ exists: false }] } }, true],
  ['replay-name absent on a live event', { 'replay-name': [{ exists: false }] }, true],
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

  it('matches a compiled pattern the same way', () => {
    const compiled = compilePattern({ detail: { tags: ['eu'] } });
    expect(matchesPattern(compiled, event)).toBe(true);
  });
});

describe('assertSupportedPattern', () => {
  it.each([
    ['a leaf that is not an array', { source: 'fleet-etl' }, /must be an object or an array/],
    ['an unknown operator', { source: [{ regex: '.*' }] }, /unsupported operator "regex"/],
    ['two operators in one matcher', { source: [{ prefix: 'a', suffix: 'b' }] }, /exactly one operator/],
    ['a bad numeric operator', { detail: { rows: [{ numeric: ['!=', 1] }] } }, /unknown numeric operator/],
    ['an empty $or', { $or: [] }, /\$or takes an array of at least two/],
  ])('refuses %s, saying where', (_why, pattern, message) => {
    expect(() => assertSupportedPattern(pattern)).toThrow(EventPatternError);
    expect(() => assertSupportedPattern(pattern)).toThrow(message);
  });
});
