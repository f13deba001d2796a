import { readdirSync } from 'node:fs';
import { publishedSchema, publishedSchemas, SCHEMAS_DIR } from '../../../events/export-schemas.js';
import { allDetailTypes, detailJsonSchemas } from '../../../events/index.js';
import { breakingChanges, compareSchemas } from '../../../events/schema-compatibility.js';

const published = publishedSchemas();
const current = detailJsonSchemas();

describe('the published event contracts (events/schemas)', () => {
  it('has one file per detail-type and none for a detail-type that is gone', () => {
    const files = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.json'));
    expect(files.sort()).toEqual(allDetailTypes.map((t) => `${t}.json`).sort());
  });

  it.each(allDetailTypes)('%s: the current schema does not break its consumers', (detailType) => {
    const changes = breakingChanges(
      published[detailType],
      publishedSchema(detailType, current[detailType]),
      detailType,
    );
    // A failure lists each breaking change; publish a new detail-type or schema version instead.
    expect(changes.map((c) => `${c.path}: ${c.description}`)).toEqual([]);
  });

  it.each(allDetailTypes)('%s: the published file is current (run `npm run schemas`)', (detailType) => {
    expect(published[detailType]).toEqual(publishedSchema(detailType, current[detailType]));
  });
});

/** A small contract to change in each test, shaped as zod exports ours. */
const base = {
  type: 'object',
  properties: {
    runId: { type: 'string', pattern: '^[0-9A-Za-z-]+$' },
    rows: { type: 'integer', minimum: 0 },
    stage: { type: 'string', enum: ['planner', 'report'] },
    note: { type: 'string' },
    tags: { type: 'array', items: { type: 'string' } },
  },
  required: ['runId', 'rows', 'stage', 'tags'],
};

function changed(edit: (schema: typeof base) => void) {
  const next = structuredClone(base);
  edit(next);
  return compareSchemas(base, next, 'Event');
}

const breaking: [string, (s: typeof base) => void, RegExp][] = [
  ['removing a field', (s) => Reflect.deleteProperty(s.properties, 'note'), /Event\.note: field removed/],
  [
    'renaming a field',
    (s) => {
      Object.assign(s.properties, { count: s.properties.rows });
      Reflect.deleteProperty(s.properties, 'rows');
      s.required = ['runId', 'count', 'stage', 'tags'];
    },
    /Event\.rows: field removed \(or renamed\)/,
  ],
  [
    'narrowing a type',
    (s) => Object.assign(s.properties.note, { type: 'integer' }),
    /type changed from "string" to "integer"/,
  ],
  ['widening a type', (s) => Object.assign(s.properties.rows, { type: 'number' }), /type changed/],
  [
    'raising a minimum',
    (s) => Object.assign(s.properties.rows, { minimum: 1 }),
    /minimum narrowed from 0 to 1/,
  ],
  ['adding a maximum', (s) => Object.assign(s.properties.rows, { maximum: 10 }), /maximum added/],
  [
    'changing a pattern',
    (s) => Object.assign(s.properties.runId, { pattern: '^[0-9]+$' }),
    /"pattern" changed/,
  ],
  [
    'removing an enum value',
    (s) => Object.assign(s.properties.stage, { enum: ['planner'] }),
    /enum narrowed: "report"/,
  ],
  [
    'adding an enum value',
    (s) => Object.assign(s.properties.stage, { enum: ['planner', 'report', 'x'] }),
    /enum widened/,
  ],
  [
    'adding a required field',
    (s) => {
      Object.assign(s.properties, { total: { type: 'integer' } });
      s.required.push('total');
    },
    /Event\.total: required field added/,
  ],
  ['making an optional field required', (s) => s.required.push('note'), /Event\.note: field became required/],
  ['making a required field optional', (s) => s.required.splice(1, 1), /Event\.rows: field became optional/],
  [
    'narrowing array items',
    (s) => Object.assign(s.properties.tags.items, { minLength: 1 }),
    /Event\.tags\[\]: minLength added/,
  ],
  [
    'closing the object',
    (s) => Object.assign(s, { additionalProperties: false }),
    /additional properties changed/,
  ],
];

describe('compareSchemas', () => {
  it.each(breaking)('calls %s breaking', (_what, edit, message) => {
    const changes = changed(edit).filter((c) => c.breaking);
    expect(changes.map((c) => `${c.path}: ${c.description}`).join('\n')).toMatch(message);
  });

  it('accepts adding an optional field, and says so', () => {
    const changes = changed((s) => Object.assign(s.properties, { comment: { type: 'string' } }));
    expect(changes).toEqual([
      { path: 'Event.comment', breaking: false, description: 'optional field added' },
    ]);
  });

  it('ignores descriptions and titles', () => {
    expect(changed((s) => Object.assign(s, { description: 'new words', title: 'Event' }))).toEqual([]);
  });
});

/** A detail sent whole or by reference, shaped as the growable detail-types are published (events/claim-check.ts). */
const alternatives = {
  anyOf: [
    structuredClone(base),
    {
      type: 'object',
      properties: { runId: { type: 'string' }, detailRef: { type: 'object' } },
      required: ['runId', 'detailRef'],
    },
  ],
};

function changedAlternatives(edit: (schema: typeof alternatives) => void) {
  const next = structuredClone(alternatives);
  edit(next);
  return compareSchemas(alternatives, next, 'Event');
}

describe('compareSchemas on alternatives (anyOf)', () => {
  it('holds each alternative to the same rules: an optional field added is compatible', () => {
    const changes = changedAlternatives((s) =>
      Object.assign(s.anyOf[0]?.properties ?? {}, { comment: { type: 'string' } }),
    );
    expect(changes).toEqual([
      { path: 'Event|0.comment', breaking: false, description: 'optional field added' },
    ]);
  });

  it('calls a narrowed field inside an alternative breaking', () => {
    const changes = changedAlternatives((s) =>
      Object.assign((s.anyOf[1] as { properties: { runId: object } }).properties.runId, { minLength: 1 }),
    );
    expect(changes.filter((c) => c.breaking).map((c) => c.path)).toEqual(['Event|1.runId']);
  });

  it('calls adding or removing an alternative breaking', () => {
    const added = changedAlternatives((s) => s.anyOf.push({ type: 'string' } as never));
    expect(added.map((c) => c.description)).toEqual(['alternatives (anyOf) changed from 2 to 3']);
    const removed = changedAlternatives((s) => s.anyOf.pop());
    expect(removed.filter((c) => c.breaking)).toHaveLength(1);
  });

  it('calls turning a detail into alternatives breaking', () => {
    const changes = compareSchemas(base, alternatives, 'Event');
    expect(changes.filter((c) => c.breaking).map((c) => c.description)).toEqual([
      'type changed from "object" to any',
    ]);
  });
});
