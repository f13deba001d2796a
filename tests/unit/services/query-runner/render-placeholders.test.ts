// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${name} is the SQL placeholder syntax under test, not a template.
import {
  renderPlaceholders,
  SqlPlaceholderValuesSchema,
  SqlTextError,
} from '../../../../services/shared/sql-text.js';

const values = {
  database: 'fleet',
  raw_location: 's3://fleet-raw-123/lake',
  warehouse_location: 'file:///var/etl/warehouse',
  run_id: '2024-03-10',
  run_date: '2024-03-10',
};

describe('renderPlaceholders', () => {
  it('replaces every placeholder by its value', () => {
    const sql = "SELECT * FROM ${database}.t WHERE run = '${run_id}' AND loc = '${raw_location}/x/${run_id}'";
    expect(renderPlaceholders(sql, values)).toBe(
      "SELECT * FROM fleet.t WHERE run = '2024-03-10' AND loc = 's3://fleet-raw-123/lake/x/2024-03-10'",
    );
  });

  it('renders the $${name} escape as a literal ${name}, for Athena projection templates', () => {
    expect(renderPlaceholders("'${raw_location}/run=$${run}/'", values)).toBe(
      "'s3://fleet-raw-123/lake/run=${run}/'",
    );
  });

  it('leaves text without placeholders alone, including lone dollars and braces', () => {
    const sql = "SELECT '$', '{x}', '$$', regexp_like(a, '^a{2}$')";
    expect(renderPlaceholders(sql, values)).toBe(sql);
  });

  it('names every placeholder that has no value in one error', () => {
    const render = () =>
      renderPlaceholders('${database} ${missing_one} ${run_id} ${missing_two} ${missing_one}', values);
    expect(render).toThrow(SqlTextError);
    expect(render).toThrow('no value for placeholder(s) ${missing_one}, ${missing_two}');
  });

  it('does not take inherited properties for values', () => {
    expect(() => renderPlaceholders('${constructor}', values)).toThrow('${constructor}');
  });

  it('refuses malformed placeholder names', () => {
    expect(() => renderPlaceholders('${Database}', values)).toThrow(/malformed placeholder/);
    expect(() => renderPlaceholders('${run id}', values)).toThrow(/malformed placeholder/);
  });

  it.each([
    ["x' OR '1'='1", 'a single quote'],
    ['x" AS y', 'a double quote'],
    ['x`', 'a backtick'],
    ['x; DROP TABLE fleet.sensor_data', 'a semicolon'],
    ['x\\n', 'a backslash'],
    ['x\nDROP TABLE t', 'a line break'],
    ['x\rDROP', 'a line break'],
    ['x\u0000', 'a control character'],
  ])('refuses the value %j (%s), naming the placeholder', (hostile, label) => {
    const render = () => renderPlaceholders("WHERE run = '${run_id}'", { ...values, run_id: hostile });
    expect(render).toThrow(SqlTextError);
    expect(render).toThrow(`value of \${run_id} contains ${label}`);
  });

  it('allows -- inside a value: values are quoted, and paths may contain it', () => {
    expect(renderPlaceholders("'${raw_location}'", { ...values, raw_location: 'file:///my--lake' })).toBe(
      "'file:///my--lake'",
    );
  });

  it('only checks values that are used', () => {
    expect(renderPlaceholders('${database}', { ...values, run_id: "'; DROP" })).toBe('fleet');
  });
});

describe('SqlPlaceholderValuesSchema', () => {
  it('accepts the values of both runtimes', () => {
    expect(SqlPlaceholderValuesSchema.parse(values)).toEqual(values);
    expect(
      SqlPlaceholderValuesSchema.parse({
        ...values,
        raw_location: 'file:///home/me/.etl/lake%20raw',
        run_id: '20240310T120000Z-20240311T000000Z',
      }).raw_location,
    ).toBe('file:///home/me/.etl/lake%20raw');
  });

  it.each([
    ['database', 'Fleet'],
    ['database', 'fleet-db'],
    ['database', '1fleet'],
    ['database', "fleet'"],
    ['raw_location', 's3://bucket/prefix/'],
    ['raw_location', 'https://bucket/prefix'],
    ['raw_location', 'file://relative/path'],
    ['raw_location', 'file:///a/../etc'],
    ['raw_location', "s3://bucket/it's"],
    ['raw_location', 's3://bucket/a b'],
    ['warehouse_location', 'file:///tmp/x;y'],
    ['run_id', '2024-03-10; DROP'],
    ['run_id', 'run_1'],
    ['run_date', '2024-02-30'],
    ['run_date', '2024-3-1'],
  ])('refuses %s = %j', (field, value) => {
    expect(SqlPlaceholderValuesSchema.safeParse({ ...values, [field]: value }).success).toBe(false);
  });
});
