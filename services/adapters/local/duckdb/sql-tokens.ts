import { scanSql } from '../../../shared/sql-text.js';
import { UnsupportedStatementError } from './bridge-errors.js';

/**
 * Just enough of a lexer to recognise Athena DDL and the shape of a statement. Query bodies are never
 * rebuilt from tokens: the bridge slices the original text by token offsets and hands it to the transpiler.
 */
export type TokenKind = 'word' | 'number' | 'string' | 'quoted' | 'symbol';

export interface Token {
  kind: TokenKind;
  /** Unescaped content for strings and quoted identifiers; the source text otherwise. */
  value: string;
  start: number;
  end: number;
}

const CODE_TOKEN =
  /\s+|([A-Za-z_][A-Za-z0-9_$]*)|(\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|(\S)/g;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  for (const segment of scanSql(sql)) {
    if (segment.kind === 'comment') {
      continue;
    }
    if (segment.kind !== 'code') {
      const quote = segment.text.charAt(0);
      const value = segment.text.slice(1, -1).replaceAll(quote + quote, quote);
      tokens.push({ kind: segment.kind === 'string' ? 'string' : 'quoted', value, ...span(segment) });
      continue;
    }
    for (const match of segment.text.matchAll(CODE_TOKEN)) {
      const [text, word, number, symbol] = match;
      const start = segment.start + (match.index ?? 0);
      const kind: TokenKind | undefined = word ? 'word' : number ? 'number' : symbol ? 'symbol' : undefined;
      if (kind) {
        tokens.push({ kind, value: text, start, end: start + text.length });
      }
    }
  }
  return tokens;
}

function span(segment: { start: number; end: number }): { start: number; end: number } {
  return { start: segment.start, end: segment.end };
}

/** Reads tokens front to back; `sql` is kept so that clauses can be sliced out verbatim. */
export class TokenCursor {
  private at = 0;

  constructor(
    readonly sql: string,
    private readonly tokens: readonly Token[],
  ) {}

  static of(sql: string): TokenCursor {
    return new TokenCursor(sql, tokenize(sql));
  }

  get done(): boolean {
    return this.at >= this.tokens.length;
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.at + offset];
  }

  /** True when the next tokens are these keywords (case-insensitive), without consuming them. */
  atKeywords(...keywords: readonly string[]): boolean {
    return keywords.every((keyword, offset) => isKeyword(this.peek(offset), keyword));
  }

  /** Consumes the keywords when they come next. */
  acceptKeywords(...keywords: readonly string[]): boolean {
    if (!this.atKeywords(...keywords)) {
      return false;
    }
    this.at += keywords.length;
    return true;
  }

  expectKeywords(...keywords: readonly string[]): void {
    if (!this.acceptKeywords(...keywords)) {
      this.fail(`expected ${keywords.join(' ')}`);
    }
  }

  acceptSymbol(symbol: string): boolean {
    const token = this.peek();
    if (token?.kind === 'symbol' && token.value === symbol) {
      this.at += 1;
      return true;
    }
    return false;
  }

  expectSymbol(symbol: string): void {
    if (!this.acceptSymbol(symbol)) {
      this.fail(`expected "${symbol}"`);
    }
  }

  next(): Token {
    const token = this.peek();
    if (!token) {
      return this.fail('unexpected end of statement');
    }
    this.at += 1;
    return token;
  }

  /** A name: a bare word, a "quoted" or `backticked` identifier. Athena folds names to lower case. */
  expectName(what: string): string {
    const token = this.peek();
    if (token?.kind !== 'word' && token?.kind !== 'quoted') {
      return this.fail(`expected ${what}`);
    }
    this.at += 1;
    return token.value.toLowerCase();
  }

  expectString(what: string): string {
    const token = this.peek();
    if (token?.kind !== 'string') {
      return this.fail(`expected ${what} as a quoted string`);
    }
    this.at += 1;
    return token.value;
  }

  /** The source text from the current token to the end; the cursor is left at the end. */
  rest(): string {
    const token = this.peek();
    this.at = this.tokens.length;
    return token ? this.sql.slice(token.start) : '';
  }

  /**
   * Consumes a parenthesised list and returns the tokens of each top-level item. Brackets nest
   * (`ARRAY['a','b']`), and so do `<` and `>` when `angleBrackets` is set, for Hive types such as
   * `map<string,int>`.
   */
  parenthesisedItems(angleBrackets = false): Token[][] {
    this.expectSymbol('(');
    const items: Token[][] = [[]];
    let depth = 0;
    for (;;) {
      const token = this.next();
      const symbol = token.kind === 'symbol' ? token.value : undefined;
      if (symbol === ')' && depth === 0) {
        return items.filter((item) => item.length > 0);
      }
      if (symbol === ',' && depth === 0) {
        items.push([]);
        continue;
      }
      if (symbol === '(' || symbol === '[' || (angleBrackets && symbol === '<')) {
        depth += 1;
      } else if (symbol === ')' || symbol === ']' || (angleBrackets && symbol === '>')) {
        depth -= 1;
      }
      items.at(-1)?.push(token);
    }
  }

  fail(message: string): never {
    const token = this.peek();
    const near = token ? `near "${this.sql.slice(token.start, token.start + 40)}"` : 'at the end';
    throw new UnsupportedStatementError(`${message} ${near} in: ${firstLine(this.sql)}`);
  }
}

export function isKeyword(token: Token | undefined, keyword: string): boolean {
  return token?.kind === 'word' && token.value.toUpperCase() === keyword;
}

export function firstLine(sql: string): string {
  const line = sql.trim().split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
