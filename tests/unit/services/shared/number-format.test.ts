import { formatBytes, formatCount } from '../../../../services/shared/number-format.js';

describe('counts and sizes as people read them', () => {
  it('groups the thousands of a count', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(10_273_029)).toBe('10,273,029');
  });

  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [10.6 * 1024 ** 2, '10.6 MiB'],
    [1024 ** 2 - 1, '1.0 MiB'],
    [1024 ** 3 - 1, '1.0 GiB'],
    [1.1 * 1024 ** 3, '1.1 GiB'],
  ])('%d bytes reads %s, in binary units', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
