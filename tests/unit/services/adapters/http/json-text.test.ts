import fc from 'fast-check';
import { parseJsonText } from '../../../../../services/adapters/http/json-text.js';

const keysOf = (value: unknown) => Object.keys(value as object);

describe('parseJsonText', () => {
  it('reads an escaped key after a key ending in a backslash, which JSON.parse misreads from Node.js 24 on', () => {
    // Prepare: the shape V8 reuses ({"a", "\\"}) exists in this process before the text it misreads arrives.
    expect(keysOf(parseJsonText('{"a":1,"\\\\":2}'))).toEqual(['a', '\\']);
    expect(keysOf(parseJsonText('{"a":1,"x\\\\":2}'))).toEqual(['a', 'x\\']);
    // Act and assess.
    expect(keysOf(parseJsonText('{"a":1,"\\n":2}'))).toEqual(['a', '\n']);
    expect(keysOf(parseJsonText('{"a":1,"\\u0041":2}'))).toEqual(['a', 'A']);
    expect(keysOf(parseJsonText('{"a":1,"x\\"":2}'))).toEqual(['a', 'x"']);
    expect(parseJsonText('[{"a":1,"\\"":2}]')).toEqual([{ a: 1, '"': 2 }]);
  });

  it('gives what JSON.parse gives on text it reads right: values, __proto__ as an own key, the last of a repeated key', () => {
    const text =
      '{"__proto__":{"\\n":[1,-2.5e3,true,false,null,"é\\u00e9\\"𝄞"]},"k\\\\":1,"k\\\\":2, "x" : {} ,"y":[]}';
    const parsed = parseJsonText(text);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(Object.hasOwn(parsed as object, '__proto__')).toBe(true);
    expect(JSON.stringify(parsed)).toBe(
      '{"__proto__":{"\\n":[1,-2500,true,false,null,"éé\\"𝄞"]},"k\\\\":2,"x":{},"y":[]}',
    );
  });

  it('refuses what JSON.parse refuses, with a SyntaxError', () => {
    for (const bad of [
      '{"\\n":}',
      '{"\\n":1,}',
      '{"\\n" 1}',
      '{"\\n":1} x',
      '{"\\n":01}',
      '{"\\n":tru}',
      '{"\\n":"\u0001"}',
    ]) {
      expect(() => JSON.parse(bad)).toThrow(SyntaxError);
      expect(() => parseJsonText(bad)).toThrow(SyntaxError);
    }
  });

  it('agrees with the document it was serialised from, for any JSON value with escaped keys', () => {
    const key = fc.string({
      unit: fc.constantFrom('a', '"', '\\', '\n', '\u0001', 'é', '𝄞', ':', '{'),
      maxLength: 4,
    });
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string(),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).value;
    fc.assert(
      fc.property(json, fc.constantFrom('', ' ', '\n\t'), (value, space) => {
        const text = JSON.stringify(value, null, space);
        // Serialised again, both readings give back the text: no key renamed, lost or reordered.
        expect(JSON.stringify(parseJsonText(text), null, space)).toBe(text);
      }),
      { numRuns: 1000 },
    );
  });
});
