/**
 * The local bus against the examples of AWS's event-pattern documentation
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and the pages it links:
 * content filtering, comparison operators, arrays, null values and empty strings) and of Event Ruler's README,
 * the matcher EventBridge runs. Each row is [what, pattern, event, expected].
 */
import { assertSupportedPattern, EventPatternError, matchesPattern } from '../../../local/event-pattern.js';

type Json = Record<string, unknown>;

const ec2 = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

/** Event Ruler's README sample event. */
const rulerEvent = {
  ...ec2,
  time: '2017-10-02T16:24:49Z',
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const detail = (fields: Json) => ({ ...ec2, detail: fields });

const examples: [string, Json, unknown, boolean][] = [
  [
    'the EC2 termination pattern',
    {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    },
    ec2,
    true,
  ],
  // Arrays: the pattern matches when the event array and the pattern array intersect.
  [
    'resources intersect',
    {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
      ],
    },
    {
      ...ec2,
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    },
    true,
  ],
  ['resources do not intersect', { resources: ['arn:aws:ec2:us-east-1:1:instance/i-x'] }, ec2, false],
  ['an empty array in the event offers nothing', { detail: { tags: ['a'] } }, detail({ tags: [] }), false],
  ['an empty array does not exist', { detail: { tags: [{ exists: false }] } }, detail({ tags: [] }), true],
  ['nested arrays are flattened', { detail: { tags: ['b'] } }, detail({ tags: [['a'], ['b']] }), true],
  [
    'two fields must come from the same array element',
    { detail: { employees: { firstName: ['Anna'], lastName: ['Jones'] } } },
    detail({
      employees: [
        { firstName: 'Anna', lastName: 'Smith' },
        { firstName: 'Peter', lastName: 'Jones' },
      ],
    }),
    false,
  ],
  [
    'fields of one array element',
    { detail: { employees: { firstName: ['Anna'], lastName: ['Smith'] } } },
    detail({
      employees: [[{ firstName: 'John', lastName: 'Doe' }], [{ firstName: 'Anna', lastName: 'Smith' }]],
    }),
    true,
  ],
  // Prefix, suffix, ignoring case.
  ['prefix on time', { time: [{ prefix: '2017-10-02' }] }, rulerEvent, true],
  ['prefix is for strings only', { detail: { 'c-count': [{ prefix: '5' }] } }, rulerEvent, false],
  ['an empty prefix means "is a string"', { detail: { state: [{ prefix: '' }] } }, rulerEvent, true],
  ['an empty prefix on a number', { detail: { 'c-count': [{ prefix: '' }] } }, rulerEvent, false],
  [
    'prefix ignoring case',
    { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } },
    detail({ service: 'eventbridge' }),
    true,
  ],
  ['suffix', { FileName: [{ suffix: '.png' }] }, { FileName: 'photo.png' }, true],
  [
    'suffix ignoring case',
    { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } },
    detail({ FileName: 'PHOTO.PNG' }),
    true,
  ],
  ['equals-ignore-case', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' }, true],
  [
    'equals-ignore-case compares characters, not their lowercase (Kelvin sign)',
    { Name: [{ 'equals-ignore-case': 'k' }] },
    { Name: '\u212a' },
    false,
  ],
  // Wildcards.
  ['wildcard', { source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueueService' }, true],
  [
    'a wildcard matches the empty string',
    { source: [{ wildcard: 'Simple*Service' }] },
    { source: 'SimpleService' },
    true,
  ],
  [
    'wildcard in a folder',
    { EventBusArn: [{ wildcard: 'dir/*.png' }] },
    { EventBusArn: 'dir/a/b.png' },
    true,
  ],
  ['an escaped asterisk is literal', { key: [{ wildcard: 'a\\*b' }] }, { key: 'axb' }, false],
  ['an escaped asterisk matches itself', { key: [{ wildcard: 'a\\*b' }] }, { key: 'a*b' }, true],
  ['wildcard is for strings only', { key: [{ wildcard: '*' }] }, { key: 5 }, false],
  // Anything-but and its variants.
  ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, rulerEvent, true],
  ['anything-but a number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, rulerEvent, true],
  [
    'anything-but a list of strings',
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    detail({ state: 'stopped' }),
    false,
  ],
  [
    'anything-but a list of numbers',
    { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } },
    detail({ 'x-limit': 3e2 }),
    false,
  ],
  [
    'anything-but a prefix',
    { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    rulerEvent,
    true,
  ],
  [
    'anything-but a prefix, excluded',
    { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } },
    detail({ state: 'initializing' }),
    false,
  ],
  [
    'anything-but a suffix',
    { FileName: [{ 'anything-but': { suffix: '.png' } }] },
    { FileName: 'a.png' },
    false,
  ],
  [
    'anything-but ignoring case',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    detail({ state: 'INITIALIZING' }),
    false,
  ],
  [
    'anything-but a list ignoring case',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['stopped', 'overloaded'] } }] } },
    detail({ state: 'Running' }),
    true,
  ],
  [
    'anything-but a wildcard',
    { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
    { FilePath: '/usr/lib/x.so' },
    false,
  ],
  [
    'anything-but a list of wildcards',
    { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    { FilePath: '/usr/share/doc' },
    true,
  ],
  [
    'anything-but a list of wildcards, excluded',
    { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*/bin/*'] } }] },
    { FilePath: '/usr/bin/node' },
    false,
  ],
  ['anything-but a string on a number', { x: [{ 'anything-but': 'a' }] }, { x: 5 }, true],
  ['anything-but on null', { x: [{ 'anything-but': 'a' }] }, { x: null }, true],
  ['anything-but on an empty array', { x: [{ 'anything-but': 'a' }] }, { x: [] }, false],
  ['anything-but a wildcard on a number', { x: [{ 'anything-but': { wildcard: '*' } }] }, { x: 1 }, true],
  // Numbers.
  [
    'numeric, exponent form included',
    {
      detail: {
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ numeric: ['=', 3.018e2] }],
      },
    },
    rulerEvent,
    true,
  ],
  ['a literal number equals its exponent form', { price: [100] }, { price: 1e2 }, true],
  ['numeric bounds are exclusive', { price: [{ numeric: ['>', 10, '<=', 20] }] }, { price: 10 }, false],
  ['numeric upper bound inclusive', { price: [{ numeric: ['>', 10, '<=', 20] }] }, { price: 20 }, true],
  ['numeric at the documented limit', { n: [{ numeric: ['>=', 5e9] }] }, { n: 5e9 }, true],
  ['numbers past the limit are not compared', { n: [{ numeric: ['>', 0] }] }, { n: 5e9 + 1 }, false],
  ['more than six decimals are not compared', { n: [{ numeric: ['>', 0] }] }, { n: 1e-7 }, false],
  ['six decimals are compared', { n: [{ numeric: ['>', 0] }] }, { n: 1e-6 }, true],
  ['negative numbers', { n: [{ numeric: ['<', -1.5] }] }, { n: -2 }, true],
  ['numeric on a numeric string', { n: [{ numeric: ['>', 0] }] }, { n: '5' }, false],
  ['numeric on true', { n: [{ numeric: ['>', 0] }] }, { n: true }, false],
  // IP addresses.
  ['cidr IPv4', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, rulerEvent, true],
  ['cidr IPv4 miss', { detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, rulerEvent, false],
  ['cidr /0 holds every IPv4 address', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '203.0.113.9' }, true],
  [
    'cidr IPv6',
    { sourceIPAddress: [{ cidr: '2001:db8::/32' }] },
    { sourceIPAddress: '2001:db8:85a3::8a2e:370:7334' },
    true,
  ],
  ['cidr IPv6, upper case hex', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:DB8::1' }, true],
  ['cidr IPv6 miss', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::1' }, false],
  ['an IPv4 address is not in an IPv6 block', { ip: [{ cidr: '::/0' }] }, { ip: '10.0.0.1' }, false],
  ['an IPv6 address is not in an IPv4 block', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '::1' }, false],
  [
    'an IPv4-mapped IPv6 address is its IPv4 address',
    { ip: [{ cidr: '10.0.0.0/8' }] },
    { ip: '::ffff:a00:1' },
    true,
  ],
  [
    'a dotted IPv6 form is not an address',
    { ip: [{ cidr: '10.0.0.0/8' }] },
    { ip: '::ffff:10.0.0.1' },
    false,
  ],
  ['a zone id is not an address', { ip: [{ cidr: 'fe80::/10' }] }, { ip: 'fe80::1%eth0' }, false],
  ['not an address', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0.256' }, false],
  [
    'a literal address matches the same address written otherwise',
    { ip: ['2001:db8::1'] },
    { ip: '2001:0DB8:0:0::1' },
    true,
  ],
  // Exists, null and empty strings.
  [
    'exists: false, doc example',
    { detail: { 'c-count': [{ exists: false }] } },
    detail({ state: ['initializing', 'running'] }),
    true,
  ],
  [
    'exists: false when the field is an object (not a leaf)',
    { detail: { 'c-count': [{ exists: false }] } },
    detail({ state: 'running', 'c-count': { c1: 100 } }),
    true,
  ],
  ['exists: true', { detail: { description: [{ exists: true }] } }, detail({ description: 'x' }), true],
  ['null exists', { detail: { UserID: [{ exists: true }] } }, detail({ UserID: null }), true],
  ['null matches null', { detail: { UserID: [null] } }, detail({ UserID: null }), true],
  ['null does not match a missing field', { detail: { UserID: [null] } }, detail({}), false],
  [
    'the empty string matches the empty string',
    { detail: { LastName: [''] } },
    detail({ LastName: '' }),
    true,
  ],
  ['the empty string does not match null', { detail: { LastName: [''] } }, detail({ LastName: null }), false],
  ['true is not 1', { flag: [true] }, { flag: 1 }, false],
  ['exists or a value', { detail: { x: [{ exists: false }, 'a'] } }, detail({ x: 'a' }), true],
  // $or.
  [
    '"source" && ("metricName" || "namespace")',
    {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    },
    { source: 'aws.cloudwatch', namespace: 'AWS/EC2' },
    true,
  ],
  [
    'parallel $or',
    {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    },
    { metricName: 'CPUUtilization', detail: { 'detail-type': 'CloudWatch Alarm State Change' } },
    true,
  ],
  [
    'nested $or and and',
    {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2', 'AWS/ES'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    },
    { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES', spaceId: 1000 },
    true,
  ],
  [
    'nested $or and and, inner branch missing',
    {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
      ],
    },
    { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' },
    false,
  ],
  [
    'the documentation\u2019s complex example',
    {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    },
    rulerEvent,
    true,
  ],
];

describe('the local bus on the documentation\u2019s examples', () => {
  it.each(examples)('%s', (_what, pattern, event, expected) => {
    assertSupportedPattern(pattern);
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

/** Patterns EventBridge refuses, or that implementations read differently: refused locally, with the reason. */
const refused: [string, Json, RegExp][] = [
  ['an empty value array', { source: [] }, /empty array/],
  ['an empty object', { detail: {} }, /empty objects/],
  ['a $or with one branch', { $or: [{ a: ['1'] }] }, /at least two/],
  ['a $or that is not an array', { $or: { a: ['1'] } }, /at least two/],
  ['an operator name inside $or', { $or: [{ prefix: ['a'] }, { b: ['1'] }] }, /operator name/],
  [
    'a field constrained inside and outside $or',
    { a: ['1'], $or: [{ a: ['2'] }, { b: ['3'] }] },
    /constrained twice/,
  ],
  [
    'a field as value and object',
    { $or: [{ a: ['1'] }, { b: ['2'] }], a: { c: ['3'] } },
    /constrained twice|both as a value/,
  ],
  ['consecutive wildcards', { a: [{ wildcard: 'a**b' }] }, /consecutive wildcard/],
  ['an invalid escape', { a: [{ wildcard: 'a\\b' }] }, /invalid escape/],
  ['a trailing backslash', { a: [{ wildcard: 'a\\' }] }, /invalid escape/],
  ['a number past 5e9', { a: [{ numeric: ['>', 6e9] }] }, /between -5e9 and 5e9/],
  ['seven decimals', { a: [{ numeric: ['>', 0.1234567] }] }, /six decimals/],
  [
    'a literal number past 5e9 (EventBridge compares it as text)',
    { account: [123456789012] },
    /match other numbers as strings/,
  ],
  ['a range written upper bound first', { a: [{ numeric: ['<', 5, '>', 1] }] }, /starts with ">"/],
  [
    'a range whose bottom is not below its top',
    { a: [{ numeric: ['>', 5, '<', 5] }] },
    /lower bound must be less/,
  ],
  ['= in a range', { a: [{ numeric: ['=', 5, '<', 6] }] }, /starts with ">"/],
  ['an IPv4 /32', { ip: [{ cidr: '10.0.0.1/32' }] }, /at most 31/],
  ['an IPv6 /128', { ip: [{ cidr: '::1/128' }] }, /at most 127/],
  ['a CIDR without a mask', { ip: [{ cidr: '10.0.0.0' }] }, /one "\/" required/],
  ['a CIDR with host bits set', { ip: [{ cidr: '10.0.0.5/24' }] }, /host bits set/],
  ['a zero-padded octet', { ip: [{ cidr: '010.0.0.0/8' }] }, /zero-padded/],
  ['a hostname as a CIDR', { ip: [{ cidr: 'example.com/8' }] }, /not an IPv4 or IPv6 address/],
  ['a mixed anything-but list', { a: [{ 'anything-but': ['a', 1] }] }, /only strings or only numbers/],
  ['null in anything-but', { a: [{ 'anything-but': [null] }] }, /only strings or only numbers/],
  ['numeric inside anything-but', { a: [{ 'anything-but': { numeric: ['>', 1] } }] }, /nests exactly one of/],
  ['an empty prefix inside anything-but', { a: [{ 'anything-but': { prefix: '' } }] }, /empty prefix/],
  ['exists with a string', { a: [{ exists: 'yes' }] }, /true or false/],
  ['non-ASCII ignoring case', { a: [{ 'equals-ignore-case': 'straße' }] }, /ASCII/],
  ['a dotted field name', { 'detail.state': ['x'] }, /containing "\."/],
  ['an array as a match value', { a: [['x']] }, /match value must be/],
  [
    'more than 1000 $or combinations',
    {
      $or: Array.from({ length: 11 }, (_, i) => ({ [`a${i}`]: ['x'] })),
      detail: {
        $or: Array.from({ length: 10 }, (_, i) => ({ [`b${i}`]: ['x'] })),
        inner: { $or: Array.from({ length: 10 }, (_, i) => ({ [`c${i}`]: ['x'] })) },
      },
    },
    /1100 combinations; EventBridge allows 1000/,
  ],
];

describe('patterns the local bus refuses', () => {
  it.each(refused)('%s', (_what, pattern, message) => {
    expect(() => assertSupportedPattern(pattern, 'rule r')).toThrow(EventPatternError);
    expect(() => assertSupportedPattern(pattern, 'rule r')).toThrow(message);
  });

  it('names the rule and the path of the problem', () => {
    expect(() => assertSupportedPattern({ detail: { n: [{ numeric: ['>', 'x'] }] } }, 'rule report')).toThrow(
      'rule report.detail.n[0].numeric: the value after ">" must be a number',
    );
  });

  it('accepts 1000 combinations', () => {
    const pattern = {
      $or: Array.from({ length: 10 }, (_, i) => ({ [`a${i}`]: ['x'] })),
      detail: {
        $or: Array.from({ length: 10 }, (_, i) => ({ [`b${i}`]: ['x'] })),
        inner: { $or: Array.from({ length: 10 }, (_, i) => ({ [`c${i}`]: ['x'] })) },
      },
    };
    expect(() => assertSupportedPattern(pattern)).not.toThrow();
    expect(matchesPattern(pattern, { a3: 'x', detail: { b9: 'x', inner: { c0: 'x' } } })).toBe(true);
  });
});
