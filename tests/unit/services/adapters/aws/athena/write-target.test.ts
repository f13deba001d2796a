import {
  batchInserts,
  partitionPositions,
  partitionsQuery,
} from '../../../../../../services/adapters/aws/athena/partition-batches.js';
import {
  type InsertShape,
  writeShapeOf,
} from '../../../../../../services/adapters/aws/athena/write-target.js';

describe('which table a statement writes', () => {
  it.each([
    ['INSERT INTO fleet.sensor_data SELECT 1', { kind: 'insert', database: 'fleet', table: 'sensor_data' }],
    [
      'insert into "Fleet"."Sensor Data" (a, "B") select 1, 2',
      { kind: 'insert', database: 'fleet', table: 'sensor data' },
    ],
    ['INSERT INTO sensor_data VALUES (1)', { kind: 'insert', database: undefined, table: 'sensor_data' }],
    ['INSERT INTO awsdatacatalog.fleet.t SELECT 1', { kind: 'insert', database: 'fleet', table: 't' }],
    [
      "CREATE TABLE IF NOT EXISTS fleet.v WITH (format = 'PARQUET', partitioned_by = ARRAY['x']) AS SELECT 1 AS y, 2 AS x",
      { kind: 'ctas', database: 'fleet', table: 'v' },
    ],
    ['CREATE TABLE fleet.v AS SELECT 1 AS y', { kind: 'ctas', database: 'fleet', table: 'v' }],
  ])('%s', (sql, expected) => {
    expect(writeShapeOf(sql)).toMatchObject(expected);
  });

  it.each([
    'SELECT * FROM fleet.t',
    "CREATE EXTERNAL TABLE fleet.raw (a string) LOCATION 's3://b/p/'",
    // The warehouse tables of queries/ (docs/decisions/0076): declaring one writes no file; its INSERT does.
    'CREATE EXTERNAL TABLE IF NOT EXISTS fleet.sensor_data (vehicle_id string, `timestamp` bigint) ' +
      "PARTITIONED BY (days date, vehicle_type string) STORED AS PARQUET LOCATION 's3://w/sensor_data/' " +
      "TBLPROPERTIES ('parquet.compression' = 'SNAPPY')",
    "CREATE TABLE fleet.iceberg (a int) WITH (table_type = 'ICEBERG')",
    'CREATE VIEW fleet.v AS SELECT 1',
    'DROP TABLE fleet.t',
    "-- INSERT INTO fleet.t\nSELECT 'INSERT INTO fleet.t'",
  ])('writes nothing: %s', (sql) => {
    expect(writeShapeOf(sql)).toBeUndefined();
  });

  it('separates an INSERT’s target columns from its query, and a parenthesised query from columns', () => {
    expect(writeShapeOf('INSERT INTO fleet.t (a, b)\nSELECT x, y FROM s')).toEqual({
      kind: 'insert',
      database: 'fleet',
      table: 't',
      head: 'INSERT INTO fleet.t (a, b)',
      columns: ['a', 'b'],
      query: 'SELECT x, y FROM s',
    });
    expect(writeShapeOf('INSERT INTO fleet.t (SELECT 1)')).toMatchObject({
      columns: undefined,
      query: '(SELECT 1)',
    });
  });
});

describe('an INSERT split by partition', () => {
  const insert = (sql: string): InsertShape => {
    const shape = writeShapeOf(sql);
    if (shape?.kind !== 'insert') throw new Error('not an INSERT');
    return shape;
  };

  it('finds the partition columns among the named target columns', () => {
    const shape = insert('INSERT INTO fleet.t (day, kind, v) SELECT d, k, v FROM s');
    expect(partitionPositions(shape, ['v', 'day', 'kind'], ['day', 'kind'])).toEqual({
      targets: ['day', 'kind', 'v'],
      positions: [0, 1],
    });
    expect(() =>
      partitionPositions(insert('INSERT INTO fleet.t (v) SELECT 1'), ['v', 'day'], ['day']),
    ).toThrow(/does not name partition column\(s\) day/);
  });

  it('asks for the distinct partition values of its query', () => {
    expect(partitionsQuery(insert('INSERT INTO fleet.t SELECT a, b, c FROM s'), 3, [1, 2])).toBe(
      'SELECT DISTINCT "c1", "c2"\nFROM (\nSELECT a, b, c FROM s\n) AS _fleet_source ("c0", "c1", "c2")',
    );
  });

  it('writes values back as escaped, typed literals, and NULL as IS NULL', () => {
    const [only, ...rest] = batchInserts(insert('INSERT INTO fleet.t SELECT a, b FROM s'), 2, [1], {
      columns: [{ Name: 'c1', Type: 'varchar' }],
      rows: [["o'brien"], [undefined]],
    });
    expect(rest).toEqual([]);
    expect(only).toContain(
      '(_fleet_source."c1" IS NULL)\n   OR (_fleet_source."c1" = CAST(\'o\'\'brien\' AS varchar))',
    );
  });

  it('refuses a partition type it cannot put back into SQL', () => {
    expect(() =>
      batchInserts(insert('INSERT INTO fleet.t SELECT a FROM s'), 1, [0], {
        columns: [{ Name: 'c0', Type: 'varchar); DROP TABLE x; --' }],
        rows: [['a']],
      }),
    ).toThrow(/cannot split INSERT by partition values of type/);
  });
});
