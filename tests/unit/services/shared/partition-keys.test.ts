import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { partitionKeyOf, partitionKeySql } from '../../../../services/shared/lake-keys.js';
import { AWKWARD_VEHICLE_TYPES, SAFE_PARTITION_KEY } from '../../../helpers/awkward-vehicle-types.js';

/**
 * The warehouse's partition folders are named after a key of the vehicle type, never the type itself
 * (docs/decisions/0089). The SQL files compute the key, the local migration and the tests compute it in TypeScript:
 * both must be the one function, safe for any folder, and never give two types the same key.
 */
const queries = join(process.cwd(), 'queries');

/** The file's SQL without its comment lines. */
function code(file: string): string {
  return readFileSync(join(queries, file), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
}

describe('the partition key in the SQL files', () => {
  // 30 computes the key once per vehicle, in the subquery it joins (docs/decisions/0097), so one level deeper.
  it.each([
    ['20_vehicles_data.sql', 'vehicle_type', '  '],
    ['30_sensor_data.sql', 'typed.vehicle_type', '    '],
  ])('%s computes vehicle_type_key with partitionKeySql, character for character', (file, column, indent) => {
    const expression = partitionKeySql(column).replaceAll('\n', `\n${indent.slice(2)}`);
    expect(code(file)).toContain(`\n${indent}${expression} AS vehicle_type_key\n`);
  });

  it.each([
    ['20_vehicles_data.sql', 'vehicle_type string\n)\nPARTITIONED BY (vehicle_type_key string)'],
    ['30_sensor_data.sql', 'vehicle_type string\n)\nPARTITIONED BY (days date, vehicle_type_key string)'],
  ])('%s keeps vehicle_type as data and partitions by its key', (file, ddl) => {
    expect(code(file)).toContain(ddl);
  });
});

const anyText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({
    unit: fc.constantFrom('a', 'z', '0', '9', '_', '-', 'A', '.', '/', '\n', ' ', 'é'),
    maxLength: 70,
  }),
  fc.stringMatching(/^[a-z0-9_-]{1,70}$/),
  fc.constantFrom(...AWKWARD_VEHICLE_TYPES),
);

describe('partitionKeyOf', () => {
  it('gives every awkward type a folder-safe key of its own, different from every other type', () => {
    const keys = AWKWARD_VEHICLE_TYPES.map(partitionKeyOf);
    for (const key of keys) expect(key).toMatch(SAFE_PARTITION_KEY);
    expect(new Set(keys).size).toBe(AWKWARD_VEHICLE_TYPES.length);
    // No two keys differ by case alone: a case-insensitive file system keeps them apart too.
    expect(new Set(keys.map((key) => key.toLowerCase())).size).toBe(keys.length);
  });

  it('keeps a plainly safe type as its own key, and hashes the rest', () => {
    expect(partitionKeyOf('bus')).toBe('bus');
    expect(partitionKeyOf('semi-trailer')).toBe('semi-trailer');
    expect(partitionKeyOf('x'.repeat(64))).toBe('x'.repeat(64));
    expect(partitionKeyOf('x'.repeat(65))).toMatch(/^_[0-9a-f]{32}$/);
    for (const hashed of ['Bus', 'null', 'NULL', '_', '_abc', 'bus\n', 'a b', '中'])
      expect(partitionKeyOf(hashed)).toMatch(/^_[0-9a-f]{32}$/);
    // The first 32 hex digits of SHA-256('Bus'), as `printf Bus | sha256sum` prints them.
    expect(partitionKeyOf('Bus')).toBe('_bb3d83ff198b139d1037d5db0fddf97b');
  });

  it('is safe, stable and one-to-one on any text', () => {
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        const key = partitionKeyOf(a);
        expect(key).toMatch(SAFE_PARTITION_KEY);
        expect(key).not.toBe('null');
        expect(partitionKeyOf(a)).toBe(key);
        if (a !== b) expect(partitionKeyOf(b)).not.toBe(key);
      }),
      { numRuns: 5000 },
    );
  });
});
