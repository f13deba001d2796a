/**
 * JSON.parse, except for a text where an object key is written with an escape (`"\""`, `"a\n"`, `"\u0041"`):
 * V8 from Node.js 24 (still in 26.10) can give such a key the name of an earlier key. When an earlier parse made an
 * object whose key ends in a backslash (`{"a":1,"\\":2}`), a later `{"a":1,"\n":2}` comes back as
 * `{"a":1,"\\":2}`: the parser reuses the earlier object's shape after comparing the raw, still escaped characters
 * of the new key with the earlier key's. Whichever way the earlier key got into the process, the key that is
 * misread always has an escape in its text, so only texts with one take the slower path: a parser of our own for
 * the structure, with JSON.parse for each string and number (which never builds an object). API keys are nearly
 * always plain names, so a page's rows take the fast path; the property tests of the page parser found this.
 */
export function parseJsonText(text: string): unknown {
  return text.includes('\\') && ESCAPED_KEY.test(text)
    ? new StructureParser(text).document()
    : JSON.parse(text);
}

/**
 * A string with at least one escape, followed by a colon: an escaped key. It may also match inside a string value
 * (the slow path then runs for nothing), but it cannot miss a real escaped key: tried from that key's opening quote
 * it matches. Unrolled (`[^"\\]*` between escapes) so that it backtracks in linear time.
 */
const ESCAPED_KEY = /"[^"\\]*(?:\\.[^"\\]*)+"\s*:/;

const WHITESPACE = /[ \t\n\r]*/y;
const STRING = /"[^"\\]*(?:\\.[^"\\]*)*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class StructureParser {
  private at = 0;

  constructor(private readonly text: string) {}

  document(): unknown {
    const value = this.value();
    this.skipWhitespace();
    if (this.at !== this.text.length) this.fail('unexpected text after the JSON value');
    return value;
  }

  private value(): unknown {
    this.skipWhitespace();
    const c = this.text[this.at];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return JSON.parse(this.token(STRING, 'a string'));
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return JSON.parse(this.token(NUMBER, 'a value'));
  }

  private object(): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    this.at += 1;
    this.skipWhitespace();
    if (this.text[this.at] === '}') {
      this.at += 1;
      return object;
    }
    for (;;) {
      this.skipWhitespace();
      const key: string = JSON.parse(this.token(STRING, 'a key'));
      this.skipWhitespace();
      this.expect(':');
      const value = this.value();
      // As JSON.parse: `__proto__` is an own property like any other, and a repeated key keeps its last value.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      if (this.text[this.at] === '}') {
        this.at += 1;
        return object;
      }
      this.expect(',');
    }
  }

  private array(): unknown[] {
    const array: unknown[] = [];
    this.at += 1;
    this.skipWhitespace();
    if (this.text[this.at] === ']') {
      this.at += 1;
      return array;
    }
    for (;;) {
      array.push(this.value());
      this.skipWhitespace();
      if (this.text[this.at] === ']') {
        this.at += 1;
        return array;
      }
      this.expect(',');
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.at)) this.fail(`expected ${word}`);
    this.at += word.length;
    return value;
  }

  private token(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.at;
    const match = pattern.exec(this.text);
    if (match === null) this.fail(`expected ${what}`);
    this.at = pattern.lastIndex;
    return match[0];
  }

  private expect(c: string): void {
    if (this.text[this.at] !== c) this.fail(`expected "${c}"`);
    this.at += 1;
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.at;
    WHITESPACE.exec(this.text);
    this.at = WHITESPACE.lastIndex;
  }

  private fail(message: string): never {
    throw new SyntaxError(`${message} in JSON at position ${this.at}`);
  }
}
