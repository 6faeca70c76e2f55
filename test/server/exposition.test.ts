import { describe, expect, it } from 'vitest';
import { escapeLabelValue, renderFamilies } from '../../src/server/exposition.ts';
import { parsePromText } from './helpers.ts';

describe('Prometheus text exposition', () => {
  it.each([
    ['vm-1', 'vm-1'],
    ['a"b', 'a\\"b'],
    ['back\\slash', 'back\\\\slash'],
    ['two\nlines', 'two\\nlines'],
  ])('escapes label value %j', (raw, escaped) => {
    expect(escapeLabelValue(raw)).toBe(escaped);
  });

  it('writes HELP/TYPE, labels and values, and leaves non-finite samples out', () => {
    const text = renderFamilies([
      { name: 'daqs_x_bits_per_second', type: 'gauge', help: 'x\nwith newline', samples: [{ labels: { vm: 'a"1' }, value: 5e9 }, { labels: { vm: 'b' }, value: Number.NaN }, { labels: { vm: 'c' }, value: Infinity }] },
      { name: 'daqs_y_total', type: 'counter', help: 'y', samples: [{ labels: {}, value: 3 }] },
    ]);
    expect(text).toBe('# HELP daqs_x_bits_per_second x\\nwith newline\n# TYPE daqs_x_bits_per_second gauge\ndaqs_x_bits_per_second{vm="a\\"1"} 5000000000\n# HELP daqs_y_total y\n# TYPE daqs_y_total counter\ndaqs_y_total 3\n');
    expect(parsePromText(text).map((s) => s.value)).toEqual([5e9, 3]);
  });
});
