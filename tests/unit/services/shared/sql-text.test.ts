import fc from 'fast-check';
import { SqlTextError, scanSql, splitStatements } from '../../../../services/shared/sql-text.js';

describe('splitStatements', () => {
  it.each([
    ['one statement without semicolon', 'SELECT 1', ['SELECT 1']],
    ['two statements', 'SELECT 1; SELECT 2;', ['SELECT 1', 'SELECT 2']],
    ['empty statements dropped', ';;  ;\n SELECT 1 ;; ', ['SELECT 1']],
    ['semicolon in a string literal', "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b'", 'SELECT 2']],
    ['escaped quote in a string', "SELECT 'it''s; fine'; SELECT 2", ["SELECT 'it''s; fine'", 'SELECT 2']],
    ['semicolon in a double-quoted identifier', 'SELECT 1 AS "a;b"; X', ['SELECT 1 AS "a;b"', 'X']],
    ['escaped double quote', 'SELECT 1 AS "a"";b"', ['SELECT 1 AS "a"";b"']],
    [
      'semicolon in a backticked Hive name',
      'CREATE TABLE t (`a;b` int); X',
      ['CREATE TABLE t (`a;b` int)', 'X'],
    ],
    ['line comment removed', 'SELECT 1 -- a; b\n; SELECT 2', ['SELECT 1', 'SELECT 2']],
    ['block comment removed', 'SELECT /* ; */ 1; SELECT 2', ['SELECT   1', 'SELECT 2']],
    ['comment-only statements dropped', '-- header\n/* block */;\n-- only a comment;\n', []],
    ['comment markers inside strings kept', "SELECT '--x', '/*y*/'", ["SELECT '--x', '/*y*/'"]],
    ['leading comment of a DDL removed', '-- why\nCREATE DATABASE x;', ['CREATE DATABASE x']],
  ])('%s', (_name, text, expected) => {
    expect(splitStatements(text)).toEqual(expected);
  });

  it('keeps the line breaks of a block comment so that line numbers stay close', () => {
    expect(splitStatements('SELECT\n/* a\nb */ 1')).toEqual(['SELECT\n\n 1']);
  });

  it.each([
    [
      'an unterminated string',
      "SELECT 'abc; SELECT 2",
      /unterminated string literal starting at line 1, column 8/,
    ],
    ['an unterminated identifier', 'SELECT "abc', /unterminated quoted identifier/],
    [
      'an unterminated block comment',
      'SELECT 1;\n /* x',
      /unterminated \/\* comment starting at line 2, column 2/,
    ],
  ])('refuses %s', (_name, text, message) => {
    expect(() => splitStatements(text)).toThrow(SqlTextError);
    expect(() => splitStatements(text)).toThrow(message);
  });

  it('splits any statements joined by semicolons back apart, whatever their literals hold', () => {
    const literal = fc
      .string({ unit: fc.constantFrom('a', ';', "''", '-', '*', '/', ' ', '\n', '"') })
      .map((text) => `'${text}'`);
    const identifier = fc
      .string({ unit: fc.constantFrom('b', ';', '""', "'", '-') })
      .map((text) => `"${text}"`);
    const statement = fc
      .array(fc.oneof(literal, identifier, fc.constantFrom('SELECT', 'x', '1', '+')), {
        minLength: 1,
        maxLength: 6,
      })
      .map((parts) => parts.join(' '));
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 5 }), (statements) => {
        expect(splitStatements(`${statements.join(';\n')};`)).toEqual(statements);
      }),
    );
  });
});

describe('scanSql', () => {
  it('labels every character with its lexical kind and keeps offsets', () => {
    const text = `SELECT 'a' AS "b" -- c\n/* d */`;
    const segments = scanSql(text);
    expect(segments.map((s) => [s.kind, s.text])).toEqual([
      ['code', 'SELECT '],
      ['string', "'a'"],
      ['code', ' AS '],
      ['identifier', '"b"'],
      ['code', ' '],
      ['comment', '-- c'],
      ['code', '\n'],
      ['comment', '/* d */'],
    ]);
    expect(segments.map((s) => text.slice(s.start, s.end))).toEqual(segments.map((s) => s.text));
  });
});
