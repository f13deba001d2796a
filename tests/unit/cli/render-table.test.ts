import { printable, renderTable } from '../../../cli/render.js';

/** The answer's table shows API text (vehicle types, kept as sent) without letting it drive the terminal. */
describe('the text table of an answer', () => {
  it('shows control characters and invisible reordering marks as escapes, one table row per answer row', () => {
    const types = [
      'line\nbreak',
      'tab\there',
      'nul\u0000char',
      'esc\u001b]0;title\u0007',
      '\u202Eright-to-left',
      '\uFEFFbom',
    ];
    const table = renderTable(
      ['vehicle_type', 'vehicles'],
      types.map((vehicle_type, index) => ({ vehicle_type, vehicles: index })),
    );
    expect(table.split('\n')).toHaveLength(2 + types.length);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: no control character may reach the terminal.
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e\ufeff]/);
    expect(types.map(printable)).toEqual([
      'line\\nbreak',
      'tab\\there',
      'nul\\u0000char',
      'esc\\u001b]0;title\\u0007',
      '\\u202eright-to-left',
      '\\ufeffbom',
    ]);
  });

  it('leaves other text as it is: CJK, emoji, accents, slashes and quotes', () => {
    for (const text of [
      '中'.repeat(30),
      'emoji 🚚',
      '👩‍🔧',
      'Kühlwagen',
      '/../',
      '50% off',
      "it's",
      '\\back\\slash',
    ])
      expect(printable(text)).toBe(text);
  });
});
